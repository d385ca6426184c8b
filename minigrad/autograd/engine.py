"""The autograd engine: Primitive, Context, grad mode and the backward pass.

A primitive is a ``Primitive`` subclass with ``forward(ctx, *arrays, **attrs)`` and
``backward(ctx, grad)`` on NumPy arrays. The engine, here and only here, records the graph,
orders it topologically without recursion, unbroadcasts gradients, checks their shapes,
accumulates them and frees what backward no longer needs.
"""

from __future__ import annotations

import functools
import itertools
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.errors import OpError

if TYPE_CHECKING:
    from minigrad.tensor import Tensor


# --------------------------------------------------------------------------- grad mode


class _GradModeState(threading.local):
    """Grad mode, per thread as in PyTorch: ``no_grad`` in one thread leaves the others alone."""

    enabled = True
    inference = False
    differentiating = False  # inside a backward recorded for create_graph=True


_GradMode = _GradModeState()  # the one per-thread instance


def is_grad_enabled() -> bool:
    """Whether operations are currently recorded for backward (in this thread)."""
    return _GradMode.enabled


def is_inference_mode_enabled() -> bool:
    """Whether an ``inference_mode`` block is active (in this thread)."""
    return _GradMode.inference


class _SetGradMode:
    """Context manager and decorator that sets grad mode and restores it afterwards.

    The previous mode is kept per thread, so one instance may be entered by several threads.
    """

    mode = True
    inference = False

    def __enter__(self) -> None:
        stack = _GradMode.__dict__.setdefault("stack", [])
        stack.append((_GradMode.enabled, _GradMode.inference))
        _GradMode.enabled = self.mode
        _GradMode.inference = self.inference

    def __exit__(self, *exc: object) -> None:
        _GradMode.enabled, _GradMode.inference = _GradMode.__dict__["stack"].pop()

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapper


def _maybe_bare_decorator(cls: type, args: tuple[Any, ...]) -> Any:
    """``@mg.no_grad`` without parentheses decorates the function directly, as in PyTorch."""
    if len(args) == 1 and callable(args[0]) and not isinstance(args[0], bool):
        return cls()(args[0])
    return None


class no_grad(_SetGradMode):  # noqa: N801 - PyTorch's name
    """Disable graph recording: ``with mg.no_grad():`` or ``@mg.no_grad()``.

    Example::

        >>> import minigrad as mg
        >>> w = mg.ones(2, requires_grad=True)
        >>> with mg.no_grad():
        ...     y = w * 2
        >>> y.requires_grad, mg.is_grad_enabled()
        (False, True)
    """

    mode = False


class enable_grad(_SetGradMode):  # noqa: N801 - PyTorch's name
    """Re-enable graph recording inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_SetGradMode):  # noqa: N801 - PyTorch's name
    """Set grad mode to ``mode`` for a block."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.inference = _GradMode.inference


class inference_mode(_SetGradMode):  # noqa: N801 - PyTorch's name
    """``torch.inference_mode()``: no graph is recorded (as ``no_grad`` here)."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode
        self.inference = bool(mode)

    def __call__(self, fn: Any = None) -> Any:  # also usable as a bare @inference_mode
        if isinstance(fn, bool) or fn is None:
            return inference_mode(True if fn is None else fn)
        return super().__call__(fn)


# --------------------------------------------------------------------------- version counter


class Version:
    """In-place modification counter, shared by a tensor and the views of it."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


# --------------------------------------------------------------------------- Primitive


class Context:
    """What a Primitive's forward leaves for its backward."""

    # class-level defaults keep the per-op object creation cheap (no __init__ call)
    saved: tuple[Any, ...] = ()
    needs_input_grad: tuple[bool, ...] = ()

    if TYPE_CHECKING:
        # a primitive keeps its own attributes on ctx (``ctx.stride = stride``): any name, any
        # value, for the type checker only (nothing changes at run time)
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward; they are freed after backward unless retain_graph=True."""
        self.saved = arrays

    @property
    def saved_tensors(self) -> tuple[np.ndarray, ...]:
        """The arrays given to ``save_for_backward`` (``saved``, by PyTorch's name)."""
        return self.saved


# creation order of nodes: tells which uses of a tensor came before an in-place change of it
_sequence = itertools.count()


class Node:
    """A recorded application of a Primitive: the graph edge from an output to its inputs."""

    __slots__ = ("fn", "ctx", "inputs", "version_checks", "freed", "seq", "previous")

    def __init__(self, fn: type[Primitive], ctx: Context, inputs: tuple[Tensor, ...]) -> None:
        self.fn = fn
        self.ctx = ctx
        self.inputs = inputs
        self.version_checks: tuple[tuple[Tensor, int], ...] = ()
        self.freed = False
        self.seq = next(_sequence)
        # set when an in-place op made this node the tensor's producer: (first seq after the
        # change, a tensor holding the value and node from before it)
        self.previous: tuple[int, Tensor] | None = None

    def name(self) -> str:
        """The node's name as PyTorch prints it: the op's name and ``Backward``."""
        return self.fn.__name__ + "Backward"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The nodes this one sends gradients to, as PyTorch's ``grad_fn.next_functions``: the
        producer's node, ``AccumulateGrad`` for a leaf that requires grad, else None."""
        out: list[tuple[Any, int]] = []
        for t in self.inputs:
            if t._node is not None:
                out.append((t._node, 0))
            elif t.requires_grad:
                out.append((AccumulateGrad(t), 0))
            else:
                out.append((None, 0))
        return tuple(out)

    def register_hook(self, hook: Callable[..., Any]) -> Any:
        """Raises ``NotImplementedError``: use ``Tensor.register_hook`` on the output."""
        raise NotImplementedError(
            f"{self.name()}.register_hook: use Tensor.register_hook on the output instead"
        )

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class AccumulateGrad:
    """The end of a path in ``next_functions``: where a leaf's gradient is accumulated."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    @property
    def next_functions(self) -> tuple[Any, ...]:
        return ()

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


def _shares_base(a: Any, b: np.ndarray) -> bool:
    if a is b:
        return True
    if not isinstance(a, np.ndarray):
        return False
    base_a = a if a.base is None else a.base
    base_b = b if b.base is None else b.base
    return base_a is base_b


class Primitive:
    """Base class of every engine primitive (ndarrays in and out); subclasses define static
    forward and backward."""

    # True for ops whose output may be a view of their first input: the output then shares
    # the input's version counter, so in-place changes through either are seen by both.
    is_view = False

    @staticmethod
    def forward(ctx: Context, *args: Any, **attrs: Any) -> np.ndarray:
        """The op on ndarrays: ``forward(ctx, *arrays, **attrs) -> ndarray``; save what
        backward needs with ``ctx.save_for_backward``. Every subclass defines it.
        """
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> Any:
        """The gradients of the inputs from the output's gradient ``grad`` (an ndarray of
        the output's shape): one ndarray or None per input, in their order; broadcasting is undone
        by the engine.
        """
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **attrs: Any) -> Tensor:
        """Run forward on the inputs' arrays; record a graph node when a gradient is needed."""
        ctx = Context()
        if _GradMode.enabled:
            needs = tuple([t.requires_grad for t in inputs])
            record = True in needs
        else:
            needs = (False,) * len(inputs)
            record = False
        ctx.needs_input_grad = needs
        try:
            out_data = cls.forward(ctx, *[t._data for t in inputs], **attrs)
        except ValueError:
            # name the op and the shapes instead of NumPy's message (costs nothing otherwise)
            message = _broadcast_error(cls, inputs)
            if message is None:
                raise
            raise OpError(message) from None
        out = _tensor_class.__new__(_tensor_class)
        if type(out_data) is not np.ndarray:  # NumPy gives scalars for 0-d results
            out_data = np.asarray(out_data)
        out._data = out_data
        out.grad = None
        out._retains_grad = False
        out._version = inputs[0]._version if cls.is_view else Version()
        if record:
            node = Node(cls, ctx, inputs)
            saved = ctx.saved
            if saved:
                checks = [(t, t._version.value) for t in inputs if _saved_any(saved, t._data)]
                if _saved_any(saved, out_data):
                    checks.append((out, out._version.value))
                node.version_checks = tuple(checks)
            out._node = node
            out.requires_grad = True
        else:
            out._node = None
            out.requires_grad = False
        return out


# set by minigrad.tensor once Tensor exists (the two modules refer to each other)
_tensor_class: Any = None


def _broadcast_error(cls: type[Primitive], inputs: Sequence[Tensor]) -> str | None:
    """The message for a forward that failed because its inputs do not broadcast, else None."""
    shapes = [t._data.shape for t in inputs]
    if len(shapes) < 2:
        return None
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(str(s) for s in shapes[:-1]) + f" and {shapes[-1]}"
        return (
            f"{cls.__name__.lower()}: shapes {listed} cannot be broadcast together; sizes must "
            "be equal or 1 in each dimension, aligned from the right"
        )
    return None


def _saved_any(saved: tuple[Any, ...], array: np.ndarray) -> bool:
    for a in saved:
        if _shares_base(a, array):
            return True
    return False


# --------------------------------------------------------------------------- backward pass


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` (an ndarray, or a Tensor under create_graph) over the axes along which an
    input of ``shape`` was broadcast."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(f"cannot unbroadcast gradient of shape {grad.shape} to {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes)
    return grad.reshape(shape)


def new_version_boundary() -> int:
    """A sequence number after every node recorded so far (marks an in-place change)."""
    return next(_sequence)


def _as_used_by(tensor: Tensor, seq: int) -> Tensor:
    """``tensor`` as it was when node ``seq`` used it, before later in-place changes."""
    node = tensor._node
    while node is not None and node.previous is not None and seq < node.previous[0]:
        tensor = node.previous[1]
        node = tensor._node
    return tensor


def _topological_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Tensors reachable from ``roots`` through recorded nodes, outputs before their inputs."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(r, False) for r in roots]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        key = id(tensor)
        if key in visited:
            continue
        visited.add(key)
        stack.append((tensor, True))
        node = tensor._node
        if node is not None:
            for parent in node.inputs:
                if parent._node is not None and parent._node.previous is not None:
                    parent = _as_used_by(parent, node.seq)
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    order.reverse()
    return order


def _check_versions(node: Node) -> None:
    for tensor, version in node.version_checks:
        if tensor._version.value != version:
            raise RuntimeError(
                f"{node.name()}: a tensor of shape {tensor.shape} that this operation saved for "
                f"backward was modified in place afterwards (version {version} -> "
                f"{tensor._version.value}). Use an out-of-place operation (x = x + y instead of "
                "x += y), or clone() the tensor before modifying it."
            )


def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[np.ndarray | Tensor],
    retain_graph: bool = False,
    capture: Sequence[Tensor] | None = None,
    create_graph: bool = False,
) -> list[Any] | None:
    """Backpropagate ``root_grads`` from ``roots``.

    Without ``capture``, gradients are accumulated into ``.grad`` of leaves (and of tensors
    that called ``retain_grad()``). With ``capture``, the gradients of those tensors are
    returned instead and no ``.grad`` is touched. With ``create_graph``, the gradients are
    Tensors and the backward pass is recorded (``minigrad.autograd.higher_order``).
    """
    if create_graph:
        from minigrad.autograd.higher_order import backward_on_tensors
        from minigrad.tensor import Tensor, _wrap

        root_grads = [g if isinstance(g, Tensor) else _wrap(g) for g in root_grads]
    grads: dict[int, Any] = {}  # ndarrays, or Tensors where create_graph records the backward
    g: Any  # an ndarray, or a Tensor where create_graph records the backward
    for root, g in zip(roots, root_grads):
        key = id(root)
        grads[key] = grads[key] + g if key in grads else g
    captured: dict[int, np.ndarray | None] = {}
    capture_ids = {id(t) for t in capture} if capture is not None else None

    for tensor in _topological_order(roots):
        key = id(tensor)
        grad = grads.pop(key, None)
        if grad is None:
            continue
        if _hooked_tensors and key in _hooked_tensors:
            grad = _run_tensor_hooks(tensor, grad)
        if capture_ids is not None:
            if key in capture_ids:
                captured[key] = grad
        elif tensor._node is None or tensor._retains_grad:
            # a leaf's gradient is not used again by this pass: .grad may take it over
            _accumulate_grad(tensor, grad, tensor._node is None)
        node = tensor._node
        if node is None:
            continue
        if node.freed:
            raise RuntimeError(
                f"{node.name()}: trying to backward through the graph a second time, but its "
                "saved arrays were freed by the first backward. Pass retain_graph=True to the "
                "first backward() if you need to backward through it again."
            )
        if node.version_checks:
            _check_versions(node)
        if create_graph:
            node.ctx.grad_is_free = False
            input_grads = backward_on_tensors(node, tensor, grad)
        else:
            # whether nothing but this pass can reach the incoming gradient (see
            # _engine_owns): the backward may then write its result into it
            node.ctx.grad_is_free = (
                _FREE_REFS > 0 and type(grad) is np.ndarray and grad.flags.writeable
                and sys.getrefcount(grad) <= _FREE_REFS and _sole_view(grad)
            )
            input_grads = node.fn.backward(node.ctx, grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(node.inputs):
            raise RuntimeError(
                f"{node.name()}: backward returned {len(input_grads)} gradients for "
                f"{len(node.inputs)} inputs"
            )
        for parent, g in zip(node.inputs, input_grads):
            if parent._node is not None and parent._node.previous is not None:
                parent = _as_used_by(parent, node.seq)
            if g is None or not parent.requires_grad:
                continue
            shape = parent._data.shape
            if create_graph:
                g = _graph_grad(g, parent)
            else:
                if g.shape != shape:
                    g = unbroadcast(np.asarray(g), shape)
                if g.dtype != parent._data.dtype:
                    g = g.astype(parent._data.dtype)
            pkey = id(parent)
            previous = grads.get(pkey)
            # out-of-place sum: gradients may alias each other (Add passes grad through twice)
            grads[pkey] = g if previous is None else previous + g
        input_grads = g = previous = None  # only ``grads`` holds the gradients now
        if not retain_graph:
            # drop the inputs too: a root kept alive (the last loss) must not keep every
            # intermediate array of its graph alive
            node.ctx = None  # type: ignore[assignment]  # freed: a freed node is never run again
            node.inputs = ()
            node.version_checks = ()
            node.freed = True

    if capture is None:
        return None
    return [captured.get(id(t)) for t in capture]


def _graph_grad(g: Any, parent: Tensor) -> Tensor:
    """A gradient of the recorded backward: a Tensor of ``parent``'s shape and dtype."""
    from minigrad.tensor import Tensor, _wrap

    if not isinstance(g, Tensor):
        g = _wrap(np.asarray(g))
    g = unbroadcast(g, parent._data.shape)  # Tensor.sum(axis=) and reshape record the sum
    if g._data.dtype != parent._data.dtype:
        g = g.to(parent._data.dtype)
    return g


# ids of the tensors that have hooks now: backward looks a tensor up only when this is non-empty
_hooked_tensors: set[int] = set()


def register_tensor_hook(tensor: Tensor, hook: Callable[..., Any]) -> Any:
    """``Tensor.register_hook``: ``hook(grad)`` runs when the tensor's gradient is ready."""
    from minigrad.utils.hooks import RemovableHandle

    if not callable(hook):
        raise TypeError(f"register_hook: expected a callable, got {type(hook).__name__}")
    if not tensor.requires_grad:
        raise RuntimeError(
            f"register_hook: cannot register a hook on a tensor (shape {tensor.shape}) that "
            "doesn't require gradient"
        )
    hooks = getattr(tensor, "_hooks", None)
    if hooks is None:
        hooks = tensor._hooks = {}
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    _hooked_tensors.add(id(tensor))
    return handle


def _run_tensor_hooks(tensor: Tensor, grad: np.ndarray) -> np.ndarray:
    from minigrad.tensor import _wrap

    hooks = getattr(tensor, "_hooks", None)
    if not hooks:  # all removed, or the id now belongs to another tensor
        _hooked_tensors.discard(id(tensor))
        return grad
    if not isinstance(grad, np.ndarray):  # create_graph=True: the gradient is a graph Tensor
        for hook in list(hooks.values()):
            result = hook(grad)
            if result is not None:
                grad = result
        return grad
    for hook in list(hooks.values()):
        result = hook(_wrap(grad))
        if result is None:
            continue
        array = result._data if hasattr(result, "_data") else np.asarray(result)
        if array.shape != grad.shape:
            raise RuntimeError(
                f"hook: a hook of a tensor of shape {tensor.shape} returned a gradient of "
                f"shape {array.shape}; it must return None or a tensor of shape {grad.shape}"
            )
        grad = array.astype(grad.dtype, copy=False)
    return grad


def _refcount_inner(array: np.ndarray) -> int:
    return sys.getrefcount(array)


def _refcount_outer(array: np.ndarray) -> int:
    return _refcount_inner(array)


def _refcount_probe() -> tuple[int, int]:
    array = np.empty(1)
    alone = _refcount_outer(array)
    holders = [array]
    return alone, _refcount_outer(holders[0])


def _free_refs() -> int:
    """The reference count ``run_backward`` sees for an array held only by its own local
    variable (``getrefcount``'s argument included); 0 where counts do not work that way."""
    if sys.implementation.name != "cpython":
        return 0
    array = np.empty(1)
    alone = sys.getrefcount(array)
    holders = [array]
    return alone if sys.getrefcount(holders[0]) == alone + 1 else 0


def _sole_view(array: np.ndarray) -> bool:
    """Whether ``array`` owns its memory, or is a view (a transpose, a reshape) of an array
    that nothing else refers to: no other array can then see that memory."""
    base = array.base
    # the references to ``base``: ``array``'s, this local name's and getrefcount's argument
    return base is None or (type(base) is np.ndarray and base.base is None
                            and sys.getrefcount(base) <= _FREE_REFS + 1)


def _owned_refs() -> int:
    """The reference count ``_engine_owns`` sees for an array that only ``run_backward``'s
    local variable holds (its call chain is the probe's: a local, two parameters and
    getrefcount's argument); 0 (never take over) where counts do not work that way."""
    if sys.implementation.name != "cpython":
        return 0
    alone, held = _refcount_probe()
    return alone if held == alone + 1 else 0


def _engine_owns(grad: np.ndarray, like: np.ndarray) -> bool:
    """Whether ``grad`` can become ``.grad`` of a leaf holding ``like`` without a copy.

    Only when nothing but the engine can reach its memory: it owns its data (a view would
    keep a reference to its base, so none exists), it is writable, no other object refers to
    it (another tensor, a saved array, a hook's captured argument, a second parameter's
    gradient, the caller's ``gradient=``), and it already has the leaf's dtype and layout.
    """
    return (
        _OWNED_REFS > 0
        and type(grad) is np.ndarray
        and grad.base is None
        and grad.flags.writeable
        and grad.dtype == like.dtype
        and grad.shape == like.shape
        and grad.strides == like.strides
        and sys.getrefcount(grad) <= _OWNED_REFS
    )


def _accumulate_grad(tensor: Tensor, grad: Any, leaf: bool = False) -> None:
    """Add ``grad`` to ``tensor.grad``; ``leaf``: called by ``run_backward`` for a leaf, whose
    gradient array it drops afterwards (so that a fresh one can be taken over, not copied)."""
    from minigrad.tensor import Tensor, _wrap

    if isinstance(grad, Tensor):  # create_graph=True: .grad keeps the graph, as in PyTorch
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad
        return
    if tensor.grad is None:
        # a copy unless nothing else can reach the array (it may alias another tensor's
        # gradient or a saved array); taking it over saves ExampleNet's step 0.5 ms
        if leaf and _engine_owns(grad, tensor._data):
            tensor.grad = _wrap(grad)
        else:
            tensor.grad = Tensor(np.array(grad, dtype=tensor._data.dtype, copy=True))
    else:
        tensor.grad._data = tensor.grad._data + grad


_OWNED_REFS = _owned_refs()
_FREE_REFS = _free_refs()


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    With ``create_graph=True`` the gradients are recorded, so they can be differentiated again
    (``retain_graph`` then defaults to True, as in PyTorch). Returns one gradient per input,
    of its shape (None for an unused input with ``allow_unused=True``).

    Example::

        >>> import minigrad as mg
        >>> x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (g,) = mg.autograd.grad((x ** 3).sum(), x, create_graph=True)
        >>> g.tolist()
        [3.0, 12.0, 27.0]
        >>> mg.autograd.grad(g.sum(), x)[0].tolist()
        [6.0, 12.0, 18.0]
        >>> x.grad is None
        True
    """
    from minigrad.tensor import Tensor, _wrap

    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True (vmap) is not supported; loop "
                                  "over the grad_outputs instead")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads

    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        gouts: list[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, Tensor):
        gouts = [grad_outputs]
    else:
        gouts = list(grad_outputs)
    for t in ins:
        if not t.requires_grad:
            raise RuntimeError(
                f"grad: an input of shape {t.shape} does not require grad; create it with "
                "requires_grad=True"
            )
    root_grads = [_initial_grad(o, g, "grad", create_graph) for o, g in zip(outs, gouts)]
    result = run_backward(outs, root_grads, retain_graph=retain_graph, capture=ins,
                          create_graph=create_graph)
    assert result is not None
    grads_out: list[Tensor | None] = []
    for t, g in zip(ins, result):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: an input of shape {t.shape} was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            grads_out.append(_wrap(np.zeros_like(t._data)) if materialize_grads else None)
        elif isinstance(g, Tensor):
            grads_out.append(g)
        else:
            grads_out.append(Tensor(np.array(g, copy=True)))
    return tuple(grads_out)


def _initial_grad(output: Tensor, gradient: Any, op: str, create_graph: bool = False) -> Any:
    from minigrad.tensor import Tensor

    if not output.requires_grad:
        raise RuntimeError(
            f"{op}: the output (shape {output.shape}) does not require grad and has no grad_fn; "
            "did you create the inputs with requires_grad=True, or run under no_grad()?"
        )
    if gradient is None:
        if output._data.size != 1:
            raise RuntimeError(
                f"{op}: grad can be implicitly created only for scalar outputs, but the output "
                f"has shape {output.shape}; pass gradient= (a tensor of that shape) or reduce "
                "the output first, e.g. loss.sum().backward()"
            )
        return np.ones_like(output._data)
    g = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
    if g.shape != output.shape:
        raise RuntimeError(
            f"{op}: gradient has shape {g.shape} but the output has shape {output.shape}; "
            "they must match"
        )
    if create_graph and isinstance(gradient, Tensor) and gradient.requires_grad:
        return gradient.to(output._data.dtype)  # a grad_output with a graph keeps it
    return g.astype(output._data.dtype, copy=False)


def backward(tensor: Tensor, gradient: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """Accumulate d(tensor)/d(leaf) into every leaf's ``.grad`` (only into ``inputs`` when
    given). With ``create_graph=True`` the ``.grad`` tensors are recorded for higher-order
    derivatives; ``retain_graph`` then defaults to True, as in PyTorch."""
    if retain_graph is None:
        retain_graph = create_graph
    root_grad = _initial_grad(tensor, gradient, "backward", create_graph)
    if inputs is not None:
        from minigrad.tensor import Tensor

        wanted = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        result = run_backward([tensor], [root_grad], retain_graph=retain_graph, capture=wanted,
                              create_graph=create_graph)
        assert result is not None
        for t, g in zip(wanted, result):
            if g is not None:
                _accumulate_grad(t, g)
        return
    run_backward([tensor], [root_grad], retain_graph=retain_graph, create_graph=create_graph)


def iter_graph(tensor: Tensor) -> Iterable[Node]:
    """The recorded nodes behind ``tensor``, outputs first."""
    for t in _topological_order([tensor]):
        if t._node is not None:
            yield t._node
