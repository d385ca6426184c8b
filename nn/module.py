"""Module: the base class of layers and models, with PyTorch's registration semantics.

Assigning a ``Parameter`` to an attribute registers it as a parameter, a ``Module`` as a
submodule, and a Tensor to a name given to ``register_buffer`` as a buffer. Everything else
(``parameters()``, ``state_dict()``, ``train()``, ``to()``, …) walks those three registries.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from minigrad.creation import get_default_dtype
from minigrad.device import check_device
from minigrad.device import device as _device_type
from minigrad.tensor import Tensor, _wrap
from minigrad.utils.hooks import RemovableHandle
from nn.parameter import Parameter


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (
            f"IncompatibleKeys(missing_keys={self.missing_keys}, "
            f"unexpected_keys={self.unexpected_keys})"
        )
    # str() uses __repr__ too: tuple defines no __str__ of its own


def factory_dtype(device: Any = None, dtype: Any = None, what: str = "Module") -> np.dtype:
    """The NumPy dtype for a layer built with ``device=``/``dtype=`` (PyTorch's factory
    arguments): the default dtype (float32 unless set_default_dtype changed it); any device but
    the CPU raises DeviceError."""
    check_device(device, f"{what}(device=...)")
    if dtype is None:
        return np.dtype(get_default_dtype())
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{what}: dtype must be a dtype such as minigrad.float32, got {dtype!r}"
        ) from None
    if resolved.kind not in "fc":
        raise TypeError(
            f"{what}: dtype must be a floating point dtype such as minigrad.float32, got {dtype}"
        )
    return resolved


def _parse_to(args: tuple[Any, ...], kwargs: dict[str, Any]) -> np.dtype | None:
    """The dtype asked for by ``Module.to(...)``'s arguments (devices are checked: CPU only)."""
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    copy = kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"Module.to: unexpected keyword arguments {sorted(kwargs)}")
    del copy
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg._data.dtype
        elif isinstance(arg, (str, int, _device_type)) and not isinstance(arg, bool):
            if isinstance(arg, str) and arg.split(":")[0] not in _DEVICE_NAMES:
                try:
                    dtype = np.dtype(arg)
                    continue
                except TypeError:
                    raise ValueError(
                        f"Module.to: unknown device or dtype {arg!r}; minigrad has only 'cpu'"
                    ) from None
            device = arg
        elif isinstance(arg, bool):  # to(dtype, non_blocking) positional
            continue
        else:
            dtype = arg
    check_device(device, "Module.to()")
    if dtype is None:
        return None
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"Module.to: expected a dtype, a tensor or 'cpu', got {dtype!r}") from None
    if resolved.kind not in "fc":
        raise TypeError(
            "nn.Module.to only accepts floating point or complex dtypes, but got desired "
            f"dtype={dtype}"
        )
    return resolved


_DEVICE_NAMES = {"cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "hpu", "ipu"}

# global hooks: run for every module (nn.module.register_module_forward_hook, …)
_global_forward_pre_hooks: dict[int, Callable[..., Any]] = OrderedDict()
_global_forward_hooks: dict[int, Callable[..., Any]] = OrderedDict()
_global_forward_hooks_always_called: dict[int, bool] = OrderedDict()
_global_backward_pre_hooks: dict[int, Callable[..., Any]] = OrderedDict()
_global_backward_hooks: dict[int, Callable[..., Any]] = OrderedDict()


def register_module_forward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """``hook(module, args)`` before every module's forward (may return new args)."""
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(hook: Callable[..., Any], *, always_call: bool = False
                                 ) -> RemovableHandle:
    """``hook(module, args, output)`` after every module's forward (may return a new output)."""
    handle = RemovableHandle(_global_forward_hooks, extra_dict=_global_forward_hooks_always_called)
    _global_forward_hooks[handle.id] = hook
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """``hook(module, grad_output)`` for every module (may return a new grad_output)."""
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """``hook(module, grad_input, grad_output)`` for every module (may return grad_input)."""
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


def _add_indent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


class Module:
    """Base class of every layer and model; subclasses define ``forward``.

    Modules, Parameters and buffers assigned as attributes are registered, so that
    ``parameters()``, ``state_dict()``, ``train()``/``eval()`` and ``zero_grad()`` reach them.

    Example::

        >>> import minigrad as mg
        >>> import nn
        >>> class TwoLayer(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden = nn.Linear(4, 8)
        ...         self.out = nn.Linear(8, 2)
        ...     def forward(self, x):
        ...         return self.out(self.hidden(x).relu())
        >>> model = TwoLayer()
        >>> model(mg.ones(3, 4)).shape
        minigrad.Size([3, 2])
        >>> [name for name, _ in model.named_parameters()]
        ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
        >>> sum(p.numel() for p in model.parameters())
        58
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers: set[str]
    _modules: dict[str, Module | None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() takes no arguments for Module; got "
                f"{len(args)} positional and {sorted(kwargs)} keyword arguments"
            )
        _init_state(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name, value in _fresh_state().items():
            self.__dict__.setdefault(name, value)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of the module: ``module(*args)`` calls it (with the hooks around
        it). Every subclass defines it; layers document their shapes in the class docstring.
        """
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._hookless():
            return self.forward(*args, **kwargs)
        return _call_with_hooks(self, args, kwargs)

    def _hookless(self) -> bool:
        """Whether calling this module runs no hook (its own or a global one)."""
        return not (
            self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
            or self._backward_pre_hooks or _global_forward_pre_hooks or _global_forward_hooks
            or _global_backward_hooks or _global_backward_pre_hooks
        )

    # ----------------------------------------------------------------------- hooks

    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """``hook(module, args)`` (``hook(module, args, kwargs)`` with_kwargs) before forward;
        it may return new args (or ``(args, kwargs)``)."""
        handle = RemovableHandle(
            self._forward_pre_hooks, extra_dict=self._forward_pre_hooks_with_kwargs
        )
        _insert(self._forward_pre_hooks, handle.id, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(
        self,
        hook: Callable[..., Any],
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:
        """``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with_kwargs)
        after forward; it may return a new output. ``always_call``: also when forward raised."""
        handle = RemovableHandle(
            self._forward_hooks,
            extra_dict=[self._forward_hooks_with_kwargs, self._forward_hooks_always_called],
        )
        _insert(self._forward_hooks, handle.id, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        return handle

    def register_full_backward_pre_hook(
        self, hook: Callable[..., Any], prepend: bool = False
    ) -> RemovableHandle:
        """``hook(module, grad_output)`` when the gradients of the outputs are known; it may
        return new ones."""
        handle = RemovableHandle(self._backward_pre_hooks)
        _insert(self._backward_pre_hooks, handle.id, hook, prepend)
        return handle

    def register_full_backward_hook(self, hook: Callable[..., Any], prepend: bool = False
                                    ) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` when the gradients of the (positional
        tensor) inputs are known; it may return new grad_input."""
        handle = RemovableHandle(self._backward_hooks)
        _insert(self._backward_hooks, handle.id, hook, prepend)
        return handle

    def register_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """The older name; minigrad runs it as a full backward hook."""
        return self.register_full_backward_hook(hook)

    # ----------------------------------------------------------------------- registration

    def _check_initialised(self, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call; call "
                "super().__init__() first in your __init__"
            )

    def _check_name(self, name: Any, what: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{what} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'{what} name can\'t be empty or contain ".", got {name!r}')

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a placeholder such as a missing bias) under ``name``."""
        self._check_initialised("parameters")
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (running_mean); ``persistent``
        ones are part of the state_dict."""
        self._check_initialised("buffers")
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a submodule under ``name``."""
        self._check_initialised("child modules")
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def _forget(self, name: str, keep: dict[str, Any]) -> None:
        """Remove ``name`` from everywhere but ``keep`` (so reassignment keeps its position)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._check_initialised("parameters")
            self._forget(name, keep=self._parameters)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            self._check_initialised("child modules")
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif name in self.__dict__.get("_modules", ()):
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(nn.Module or None expected)"
                )
            self._modules[name] = None
        elif name in self.__dict__.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(Tensor or None expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: look in the registries
        registries = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = registries.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        names = set(super().__dir__())
        names.update(self._parameters, self._buffers, self._modules)
        return sorted(name for name in names if not name[0].isdigit())

    # ----------------------------------------------------------------------- traversal

    def named_modules(
        self, memo: set[Module] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and all below it, depth first, with dotted names; each once (modules
        already in ``memo`` are skipped, as in PyTorch)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every module below it, depth first, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct submodules with their names, each once."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct submodules, in registration order."""
        for _, module in self.named_children():
            yield module

    def _named_members(
        self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs like ``conv1.weight``; a shared parameter once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters of this module and (with ``recurse``) of its submodules, each
        once: what an optimizer takes.
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """``(name, buffer)`` pairs like ``bn.running_mean``, below this module when
        ``recurse``; a shared buffer once unless ``remove_duplicate=False``.
        """
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers (running statistics, ...) of this module and, with ``recurse``, below it."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> Module:
        """The submodule at a dotted path such as ``features.0``."""
        module: Module = self
        if target == "":
            return module
        for part in target.split("."):
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(
                    f"{type(module).__name__} has no submodule '{part}' (looking up '{target}')"
                )
            module = child
        return module

    def _split_target(self, target: str) -> tuple[Module, str]:
        module_path, _, name = target.rpartition(".")
        return self.get_submodule(module_path), name

    def _get_registered(self, target: str, registry: str, kind: str) -> Any:
        """The entry of ``registry`` (``'_parameters'`` or ``'_buffers'``) at a dotted path."""
        module, name = self._split_target(target)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        entries = getattr(module, registry)
        if name not in entries:
            raise AttributeError(f"`{name}` is not {kind}")
        return entries[name]

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path such as ``features.0.weight``."""
        return self._get_registered(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path such as ``bn.running_mean``."""
        return self._get_registered(target, "_buffers", "a buffer")

    def get_extra_state(self) -> Any:
        """The extra state for ``state_dict``; a module that stores some overrides this
        (and ``set_extra_state``). The base raises ``RuntimeError``, as in PyTorch.
        """
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called."
        )

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first) and on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------------- modes and dtypes

    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm on batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise ValueError("Module.train: training mode is expected to be a bool")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradient tracking of every parameter on or off (freezing a layer)."""
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None, or to zeros in place."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad._data[...] = 0

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert floating-point parameters and buffers to a dtype, in place.

        ``to(mg.float64)``, ``to(dtype=...)``, ``to(tensor)`` (its dtype), ``to('cpu')``,
        ``to(mg.device('cpu'), mg.float64)``, ``non_blocking=`` (ignored); any device but
        the CPU raises DeviceError, as minigrad runs on the CPU only.
        """
        dtype = _parse_to(args, dict(kwargs))
        if dtype is None:
            return self
        return self._apply_float(lambda array: array.astype(dtype))

    def _apply_float(self, convert: Callable[[np.ndarray], np.ndarray]) -> Module:
        """Replace the array of every floating-point parameter, buffer and gradient (the
        Parameter objects stay the same, so optimizers keep working)."""
        for tensor in (*self.parameters(), *self.buffers()):
            if tensor._data.dtype.kind in "fc":
                converted = convert(tensor._data)
                if converted.dtype != tensor._data.dtype:
                    tensor._data = converted
                    if tensor.grad is not None:
                        tensor.grad._data = tensor.grad._data.astype(converted.dtype)
        return self

    def cpu(self) -> Module:
        """Already there: minigrad runs on the CPU."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Raises DeviceError: minigrad runs on the CPU only."""
        check_device("cuda" if device is None else f"cuda:{device}", "Module.cuda()")
        return self

    def mps(self, device: Any = None) -> Module:
        """Raises ``DeviceError``: minigrad runs on the CPU only."""
        check_device("mps", "Module.mps()")
        return self

    def xpu(self, device: Any = None) -> Module:
        """Raises ``DeviceError``: minigrad runs on the CPU only."""
        check_device("xpu", "Module.xpu()")
        return self

    def share_memory(self) -> Module:
        """No-op: the arrays already live in this process's memory (threads share them)."""
        return self

    def type(self, dst_type: Any) -> Module:
        """All parameters and buffers to ``dst_type``."""
        return self._apply_float(lambda array: array.astype(np.dtype(dst_type)))

    def float(self) -> Module:
        """Parameters and buffers to float32."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Parameters and buffers to float64 (what gradient checks want)."""
        return self.to(np.float64)

    def half(self) -> Module:
        """Parameters and buffers to float16."""
        return self.to(np.float16)

    def bfloat16(self) -> Module:
        """Raises ``TypeError``: NumPy has no bfloat16 dtype; use ``float()`` or ``half()``."""
        raise TypeError(
            "Module.bfloat16: NumPy has no bfloat16 dtype, so minigrad cannot store it; use "
            "float() (float32) or half() (float16)"
        )

    # ----------------------------------------------------------------------- state dict

    def state_dict(
        self, destination: dict[str, Any] | None = None, prefix: str = "", keep_vars: bool = False
    ) -> dict[str, Tensor]:
        """Parameters and persistent buffers by dotted name (``fc.weight``), in order.

        The tensors share memory with the module (detached unless ``keep_vars``); copy them,
        or save them, to keep a snapshot.

        Example::

            >>> import nn
            >>> state = nn.Linear(2, 1).state_dict()
            >>> list(state), state["weight"].shape
            (['weight', 'bias'], minigrad.Size([1, 2]))
        """
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def _state_entries(self) -> dict[str, tuple[Module, str, Tensor]]:
        """Every state_dict key with its owning module, local name and tensor."""
        entries: dict[str, tuple[Module, str, Tensor]] = OrderedDict()
        for prefix, module in self.named_modules(remove_duplicate=False):
            dotted = prefix + "." if prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    entries[dotted + name] = (module, name, param)
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers:
                    entries[dotted + name] = (module, name, buffer)
        return entries

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> IncompatibleKeys:
        """Copy parameters and buffers from ``state_dict`` into this module.

        Every entry is checked before anything is copied: a value that is no numeric array or
        tensor, a shape mismatch (always), or a missing or unexpected key (when ``strict``)
        raises a RuntimeError naming them all and leaves the module unchanged. Values may be
        minigrad Tensors, NumPy arrays or anything NumPy converts (such as torch tensors).
        ``assign=True`` makes the module use the given arrays (and their dtype) instead of
        copying into its own.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = self._state_entries()
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own and key != "_metadata"]
        errors: list[str] = []
        copies: list[tuple[Module, str, Tensor, np.ndarray]] = []
        for key, (module, name, target) in own.items():
            if key not in state_dict:
                continue
            array, problem = _checkpoint_array(state_dict[key], key, target)
            if problem is not None:
                errors.append(problem)
                continue
            copies.append((module, name, target, array))
        if strict:
            if unexpected:
                errors.insert(
                    0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected)
                )
            if missing:
                errors.insert(
                    0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing)
                )
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
                + "\nThe module was left unchanged."
            )
        for module, name, target, array in copies:
            if assign:
                if isinstance(target, Parameter):
                    replacement = Parameter(array, requires_grad=target.requires_grad)
                    module._parameters[name] = replacement
                else:
                    module._buffers[name] = _wrap(array)
            else:
                np.copyto(target._data, array, casting="unsafe")
                target._version.value += 1
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------------- printing

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr``; layers override it."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + _add_indent(repr(module), 2) for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        if not lines:
            body = ""
        elif len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        else:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"

    def summary(self, input_shape: tuple[int, ...], dtype: Any = None) -> Any:
        """Layer table: output shapes, parameter counts and receptive fields; see nn.summary."""
        from nn.summary import summary

        return summary(self, input_shape, dtype=dtype)


# --------------------------------------------------------------------------- helpers


def _fresh_state() -> dict[str, Any]:
    return {
        "training": True,
        "_parameters": OrderedDict(),
        "_buffers": OrderedDict(),
        "_non_persistent_buffers": set(),
        "_modules": OrderedDict(),
        "_forward_pre_hooks": OrderedDict(),
        "_forward_pre_hooks_with_kwargs": OrderedDict(),
        "_forward_hooks": OrderedDict(),
        "_forward_hooks_with_kwargs": OrderedDict(),
        "_forward_hooks_always_called": OrderedDict(),
        "_backward_pre_hooks": OrderedDict(),
        "_backward_hooks": OrderedDict(),
    }


def _init_state(module: Module) -> None:
    module.__dict__.update(_fresh_state())


def _insert(hooks: OrderedDict[int, Callable[..., Any]], key: int, hook: Callable[..., Any],
            prepend: bool) -> None:
    hooks[key] = hook
    if prepend:
        hooks.move_to_end(key, last=False)


def _checkpoint_array(value: Any, key: str, target: Tensor) -> tuple[Any, str | None]:
    """The checkpoint value as an ndarray that can be copied into ``target``, or the error."""
    if isinstance(value, Tensor):
        array = value._data
    elif isinstance(value, (np.ndarray, np.generic, int, float, bool)):
        array = np.asarray(value)
    elif hasattr(value, "__array__") or hasattr(value, "numpy"):
        try:  # a torch tensor, for instance
            array = np.asarray(value.detach() if hasattr(value, "detach") else value)
        except Exception:  # noqa: BLE001 - report any conversion failure the same way
            array = None
    else:
        array = None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biufc":
        received = type(value).__name__
        if isinstance(array, np.ndarray):
            received += f" of dtype {array.dtype}"
        return None, (
            f'While copying the parameter named "{key}", expected a numeric Tensor or ndarray '
            f"from checkpoint but received {received}."
        )
    if array.shape != target._data.shape:
        return None, (
            f"size mismatch for {key}: copying a param with shape {array.shape} from "
            f"checkpoint, the shape in current model is {target._data.shape}."
        )
    if array.dtype.kind == "c" and target._data.dtype.kind != "c":
        return None, (
            f'While copying the parameter named "{key}", a complex value cannot be copied '
            f"into a {target._data.dtype} tensor."
        )
    return array, None


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,)


def _call_with_hooks(module: Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``module(*args, **kwargs)`` with forward (pre-)hooks and full backward (pre-)hooks."""
    pre_hooks = [*_global_forward_pre_hooks.items(), *module._forward_pre_hooks.items()]
    for key, hook in pre_hooks:
        if key in module._forward_pre_hooks_with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        "forward pre-hook must return None or a tuple of (new_args, "
                        f"new_kwargs), but got {result!r}."
                    )
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = _as_tuple(result)

    backward_hooks = bool(
        module._backward_hooks or module._backward_pre_hooks or _global_backward_hooks
        or _global_backward_pre_hooks
    )
    state = None
    if backward_hooks:
        from nn._backward_hooks import BackwardHookState

        state = BackwardHookState(module)
        args = state.wrap_inputs(args)

    forward_hooks = [*_global_forward_hooks.items(), *module._forward_hooks.items()]
    try:
        output = module.forward(*args, **kwargs)
    except Exception:
        for key, hook in forward_hooks:
            if key in module._forward_hooks_always_called or key in (
                _global_forward_hooks_always_called
            ):
                try:
                    if key in module._forward_hooks_with_kwargs:
                        hook(module, args, kwargs, None)
                    else:
                        hook(module, args, None)
                except Exception:  # noqa: BLE001,S110 - the forward's error is the one to see
                    pass
        raise
    for key, hook in forward_hooks:
        if key in module._forward_hooks_with_kwargs:
            result = hook(module, args, kwargs, output)
        else:
            result = hook(module, args, output)
        if result is not None:
            output = result

    if state is not None:
        output = state.wrap_outputs(output)
    return output
