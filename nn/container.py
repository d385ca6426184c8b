"""Containers: Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

from minigrad.tensor import Tensor
from nn.activation import ReLU
from nn.conv import Conv1d, Conv2d, Conv3d
from nn.linear import Linear
from nn.module import Module, _add_indent
from nn.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d
from nn.parameter import Parameter
from nn.pooling import MaxPool1d, MaxPool2d, MaxPool3d

_MAX_POOLS = (MaxPool1d, MaxPool2d, MaxPool3d)
# layers whose output is a new tensor (an in-place ReLU after them changes nothing else)
_FRESH_OUTPUT = (Conv1d, Conv2d, Conv3d, Linear, BatchNorm1d, BatchNorm2d, BatchNorm3d)


def _index(index: Any, length: int, container: str) -> int:
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"{container}: index {index} is out of range for length {length}")
    return index % length


# A ReLU followed by a max-pool runs after it: max(relu(a), relu(b), ...) is relu(max(a, b,
# ...)) for every value (NaN included), and the gradient goes to the same element (the first
# of the window's largest; nothing where that is not positive), so the output and every
# gradient are the same bit for bit, and the ReLU sees a quarter of the values behind a 2x2
# pool. LeNet-5's training step at batch 128, two threads: 7.60-7.89 -> 7.04-7.36 ms. Only
# for the exact classes, when neither module has a hook or a replaced forward (nn.summary
# records the calls), and for an in-place ReLU only after a layer whose output is a new
# tensor that nothing else holds (its in-place change of that output would not be seen).
POOL_BEFORE_RELU = True


def _pool_first(modules: list[Module], i: int) -> bool:
    """Whether modules[i], a ReLU, may run after modules[i + 1], a max-pool."""
    relu, pool = modules[i], modules[i + 1]
    if not (POOL_BEFORE_RELU and type(relu) is ReLU and type(pool) in _MAX_POOLS):
        return False
    if cast("Any", pool).return_indices or not (relu._hookless() and pool._hookless()):
        return False
    if "forward" in relu.__dict__ or "forward" in pool.__dict__:  # replaced (nn.summary)
        return False
    return not cast("Any", relu).inplace or (i > 0 and type(modules[i - 1]) in _FRESH_OUTPUT)


class Sequential(Module):
    """Modules applied one after another: ``Sequential(conv, nn.ReLU(), pool)``.

    Also takes an ``OrderedDict`` of named modules. Indexing gives a module, slicing a
    ``Sequential`` of the selected modules under their original names.

    Example::

        >>> import minigrad as mg
        >>> import nn
        >>> model = nn.Sequential(
        ...     nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        ...     nn.Flatten(), nn.Linear(4 * 4 * 4, 10),
        ... )
        >>> model(mg.ones(2, 1, 8, 8)).shape
        minigrad.Size([2, 10])
        >>> len(model), type(model[0]).__name__, len(model[:3])
        (5, 'Conv2d', 3)
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return type(self)(OrderedDict(items[index]))
        return items[_index(index, len(items), "Sequential")][1]

    def __setitem__(self, index: int, module: Module) -> None:
        names = list(self._modules)
        setattr(self, names[_index(index, len(names), "Sequential")], module)

    def __delitem__(self, index: int | slice) -> None:
        names = list(self._modules)
        if isinstance(index, slice):
            for name in names[index]:
                delattr(self, name)
        else:
            delattr(self, names[_index(index, len(names), "Sequential")])
        # keep the PyTorch numbering 0..n-1 for the default names
        if all(name.isdigit() for name in self._modules):
            modules = list(self._modules.values())
            self._modules.clear()
            for position, module in enumerate(modules):
                self._modules[str(position)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        # the entries are Modules (None only through add_module(name, None), as in PyTorch)
        return iter(cast("Iterable[Module]", self._modules.values()))

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; returns the Sequential."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Add each of ``modules`` at the end; returns the Sequential."""
        for module in modules:
            self.append(module)
        return self

    def forward(self, input: Any) -> Any:
        """``input`` through each module in turn; the last one's output.

        A ``ReLU`` that a max-pool follows runs after the pool instead (``_pool_first``).
        """
        modules = cast("list[Module]", list(self._modules.values()))
        last = len(modules) - 1
        i = 0
        while i <= last:
            module = modules[i]
            if i < last and _pool_first(modules, i):
                input = module(modules[i + 1](input))
                i += 2
            else:
                input = module(input)
                i += 1
        return input


class ModuleList(Module):
    """A list of modules whose parameters belong to the owner (names ``0``, ``1``, …)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self)
        if isinstance(index, slice):
            return type(self)(modules[index])
        return modules[_index(index, len(modules), "ModuleList")]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(str(_index(index, len(self), "ModuleList")), module)

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_index(index, len(modules), "ModuleList")]
        self._modules.clear()
        for position, module in enumerate(modules):
            self._modules[str(position)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        # the entries are Modules (None only through add_module(name, None), as in PyTorch)
        return iter(cast("Iterable[Module]", self._modules.values()))

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns the list."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of ``modules`` at the end; returns the list."""
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError("ModuleList.extend should be called with an iterable of modules")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (the modules after it are renamed)."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for position, item in enumerate(modules):
            self.add_module(str(position), item)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Raises ``NotImplementedError``: iterate over the list in the owner's forward."""
        raise NotImplementedError(
            "ModuleList has no forward: iterate over it in your module's forward"
        )

    def __repr__(self) -> str:
        # runs of identical modules collapse as PyTorch prints them: "(0-2): 3 x Linear(...)"
        reprs = [repr(module) for module in self]
        if not reprs:
            return self._get_name() + "()"
        runs: list[list[Any]] = []  # [first index, last index, repr]
        for position, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = position
            else:
                runs.append([position, position, text])
        lines = []
        for first, last, text in runs:
            if first == last:
                line = f"({first}): {text}"
            else:
                line = f"({first}-{last}): {last - first + 1} x {text}"
            lines.append(_add_indent(line, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules whose parameters belong to the owner (names are the keys)."""

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return cast(Module, self._modules[key])  # None only through add_module(name, None)

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The keys, in insertion order."""
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        """The modules, in insertion order."""
        return cast("Iterable[Module]", self._modules.values())

    def items(self) -> Iterable[tuple[str, Module]]:
        """``(key, module)`` pairs, in insertion order."""
        return cast("Iterable[tuple[str, Module]]", self._modules.items())

    def pop(self, key: str) -> Module:
        """Remove the module under ``key`` and return it."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) the modules of a mapping or of ``(key, module)`` pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in pairs:
            self[key] = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Raises ``NotImplementedError``: index the dict in the owner's forward."""
        raise NotImplementedError("ModuleDict has no forward: index it in your module's forward")


def _parameter_line(key: Any, value: Any) -> str:
    if isinstance(value, Tensor):
        size = "x".join(str(n) for n in value.shape)
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        return f"  ({key}): {kind} containing: [{value.dtype!r} of size {size}]"
    return f"  ({key}): Object of type: {type(value).__name__}"


def _as_parameter(value: Any) -> Any:
    # a plain Tensor becomes a Parameter (as PyTorch does); other objects are kept as they are
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


class ParameterList(Module):
    """A list of parameters registered on the owner under ``0``, ``1``, …"""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _set(self, key: str, value: Any) -> None:
        value = _as_parameter(value)
        if isinstance(value, Parameter):
            self.register_parameter(key, value)
        else:
            object.__setattr__(self, key, value)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)([self[i] for i in range(len(self))[index]])
        return getattr(self, str(_index(index, len(self), "ParameterList")))

    def __setitem__(self, index: int, value: Any) -> None:
        key = str(_index(index, len(self), "ParameterList"))
        self._parameters.pop(key, None)
        self.__dict__.pop(key, None)
        self._set(key, value)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def __dir__(self) -> list[str]:
        return [key for key in super().__dir__() if not key.isdigit()]

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` at the end (a Tensor becomes a Parameter); returns the list."""
        self._size += 1
        self._set(str(self._size - 1), value)
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Add each of ``values`` at the end; returns the list."""
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError(
                "ParameterList.extend should be called with an iterable, but got "
                + type(values).__name__
            )
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_parameter_line(i, value) for i, value in enumerate(self))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Raises ``NotImplementedError``: index the list in the owner's forward."""
        raise NotImplementedError("ParameterList has no forward: index it in your forward")


class ParameterDict(Module):
    """A dict of parameters registered on the owner under their keys."""

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings, got {type(key).__name__}")
        self._keys[key] = None
        self._parameters.pop(key, None)
        self.__dict__.pop(key, None)
        value = _as_parameter(value)
        if isinstance(value, Parameter):
            self.register_parameter(key, value)
        else:
            object.__setattr__(self, key, value)

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __or__(self, other: ParameterDict) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters (not copies of them)."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def keys(self) -> Iterable[str]:
        """The keys, in insertion order."""
        return self._keys.keys()

    def values(self) -> Iterable[Any]:
        """The parameters, in insertion order."""
        return [self[k] for k in self._keys]

    def items(self) -> Iterable[tuple[str, Any]]:
        """``(key, parameter)`` pairs, in insertion order."""
        return [(k, self[k]) for k in self._keys]

    def get(self, key: str, default: Any = None) -> Any:
        """The parameter under ``key``, or ``default``."""
        return self[key] if key in self else default

    def setdefault(self, key: str, default: Any = None) -> Any:
        """The parameter under ``key``, set to ``default`` first if it is missing."""
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: str) -> Any:
        """Remove the parameter under ``key`` and return it."""
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        """Remove the last inserted parameter and return ``(key, parameter)``."""
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self) -> None:
        """Remove every parameter."""
        for key in list(self._keys):
            del self[key]

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> ParameterDict:
        """A new ParameterDict with each of ``keys`` set to ``default``."""
        return ParameterDict((k, default) for k in keys)

    def update(self, parameters: Any) -> None:
        """Add (or replace) the entries of a mapping or of ``(key, value)`` pairs."""
        pairs = parameters.items() if isinstance(parameters, (Mapping, ParameterDict)) else (
            parameters
        )
        for key, value in pairs:
            self[key] = value

    def extra_repr(self) -> str:
        return "\n".join(_parameter_line(k, self[k]) for k in self._keys)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Raises ``NotImplementedError``: index the dict in the owner's forward."""
        raise NotImplementedError("ParameterDict has no forward: index it in your forward")
