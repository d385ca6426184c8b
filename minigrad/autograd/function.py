"""PyTorch-style custom ops: subclass ``minigrad.autograd.Function``; forward and backward see
Tensors.

```python
class MyReLU(minigrad.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input

y = MyReLU.apply(x)
```

Each user Function class gets one engine ``Primitive`` subclass (made on first ``apply``) whose
forward calls the user's forward under ``no_grad`` and whose backward wraps the gradients as
Tensors and unwraps what the user's backward returns. The engine node has one output; a
Function with several outputs returns them packed in a small object array (one slot per
output), and each output Tensor is a selection of it. The gradient of the pack is an object
array of the same length, holding 0 where an output got no gradient, so the engine's own
accumulation (``previous + g``) adds the outputs' gradients slot by slot and tells an unused
output (materialised as zeros, or None after ``set_materialize_grads(False)``) from a used one.
Ordinary ops never pass through this module.

Under ``create_graph=True`` the engine hands backward a graph Tensor: the user's backward then
runs with grad mode on, its ``ctx.saved_tensors`` the graph tensors they came from (an input
or the output; anything else a constant, as in PyTorch, whose forward also runs without grad),
so a backward written with Tensor ops is differentiated again. The pack's gradient is then a
``_SlotGrads`` (one graph Tensor per output that got one), added slot by slot as well.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.autograd.engine import Context, Primitive, _GradMode, no_grad
from minigrad.tensor import Tensor, _wrap

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` a Function's forward, setup_context and backward share.

    Any attribute may be set on it (``ctx.alpha = alpha``); tensors needed by backward go
    through ``save_for_backward`` so that in-place changes to them are detected.
    """

    def __init__(self) -> None:
        self.needs_input_grad: tuple[bool, ...] = ()
        self.materialize_grads = True
        self._saved: tuple[Tensor | None, ...] = ()
        self._non_differentiable: set[int] = set()
        self._dirty: set[int] = set()

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors (or None) for backward; read them back with ``ctx.saved_tensors``."""
        for position, tensor in enumerate(tensors):
            if tensor is not None and not isinstance(tensor, Tensor):
                raise TypeError(
                    f"save_for_backward can only save tensors or None, but argument {position} "
                    f"is of type {type(tensor).__name__}; store other values as attributes of "
                    "ctx (ctx.value = value)"
                )
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        """The tensors given to ``save_for_backward``, in their order."""
        return self._saved

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Outputs that get no gradient (indices, masks): they come out with requires_grad
        False and their gradient in backward is zeros (or None)."""
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Inputs that forward modified in place; the modified input must be returned."""
        self._dirty.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)


def once_differentiable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a backward as not itself differentiable: it runs under no_grad, and a backward
    with ``create_graph=True`` through the Function raises an error naming it."""

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        with no_grad():
            return fn(ctx, *args)

    wrapper.once_differentiable = True  # type: ignore[attr-defined]  # a marker on the function
    return wrapper


class _FunctionMeta(type):
    """Gives each Function subclass its own engine primitives (made lazily)."""

    _primitives: tuple[type[Primitive], type[Primitive]] | None

    def __init__(cls, name: str, bases: tuple[Any, ...], attrs: dict[str, Any]) -> None:
        super().__init__(name, bases, attrs)
        cls._primitives = None


class Function(metaclass=_FunctionMeta):
    """Base class of user-written differentiable ops; subclass it and call ``apply``.

    ``forward(ctx, *args)`` (or ``forward(*args)`` plus ``setup_context(ctx, inputs,
    output)``) computes the output(s) from Tensors and other arguments; ``backward(ctx,
    *grad_outputs)`` returns one gradient (a Tensor, or None) per forward argument.
    """

    _primitives: tuple[type[Primitive], type[Primitive]] | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(
            f"{type(self).__name__}: Function subclasses are not instantiated; call "
            f"{type(self).__name__}.apply(...) with the forward arguments"
        )

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        """The op on Tensors: ``forward(ctx, *args)``, or ``forward(*args)`` together with
        :meth:`setup_context`, as in PyTorch. Every subclass defines it.
        """
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple[Any, ...], output: Any) -> Any:
        """With a ``forward`` that takes no ``ctx``: save what backward needs from the
        ``inputs`` tuple and the ``output``.
        """
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        """The gradients of the inputs from the outputs' gradients (Tensors): one Tensor or
        None per input of ``forward``.
        """
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    @staticmethod
    def vjp(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        """Another name for backward: a subclass may define either."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run forward; record one graph node when some Tensor argument requires grad."""
        if cls._primitives is None:
            cls._primitives = _make_primitives(cls)
        node_primitive, select_primitive = cls._primitives
        tensors = [a for a in args if isinstance(a, Tensor)]
        state: dict[str, Any] = {"args": args, "kwargs": kwargs}
        packed = node_primitive.apply(*tensors, state=state)
        if "error" in state:
            raise state["error"]
        outputs: tuple[Any, ...] = state["outputs"]
        differentiable: list[bool] = state["differentiable"]
        aliases: list[Tensor | None] = state["aliases"]
        if not state["multiple"]:
            result = packed if differentiable[0] else _constant(outputs[0])
            _share_version(result, aliases[0])
            return result
        results = []
        for index, output in enumerate(outputs):
            if not isinstance(output, Tensor):
                results.append(output)
            elif differentiable[index] and packed.requires_grad:
                results.append(select_primitive.apply(packed, index=index))
            else:
                results.append(_constant(output))
            if isinstance(output, Tensor):
                _share_version(results[-1], aliases[index])
        if packed._node is not None:
            # a saved output is, for a differentiated backward, the graph Tensor returned here
            # (a cycle through the node, broken when backward frees it)
            packed._node.ctx.graph_outputs = {
                id(output._data): result
                for output, result in zip(outputs, results)
                if isinstance(result, Tensor) and result.requires_grad
            }
        return tuple(results)


def _constant(output: Tensor) -> Tensor:
    out = _wrap(output._data)
    out._version = output._version
    return out


def _share_version(result: Tensor, alias: Tensor | None) -> None:
    # an output that is an input's own array is a view of it: one version counter for both
    if alias is not None:
        result._version = alias._version


def _uses_setup_context(cls: type[Function]) -> bool:
    return cls.setup_context is not Function.setup_context


def _make_primitives(cls: type[Function]) -> tuple[type[Primitive], type[Primitive]]:
    """The engine primitive that runs ``cls`` and the one that selects an output of it."""
    user_forward = cls.forward
    user_backward = cls.backward
    if user_backward is Function.backward and cls.vjp is not Function.vjp:
        user_backward = cls.vjp
    uses_setup = _uses_setup_context(cls)

    def forward(engine_ctx: Context, *arrays: np.ndarray, state: dict[str, Any]) -> Any:
        args, kwargs = state["args"], state["kwargs"]
        ctx = FunctionCtx()
        needs = iter(engine_ctx.needs_input_grad)
        ctx.needs_input_grad = tuple(
            next(needs) if isinstance(a, Tensor) else False for a in args
        )
        try:
            with no_grad():
                if uses_setup:
                    raw = user_forward(*args, **kwargs)
                    cls.setup_context(ctx, args, raw)
                else:
                    raw = user_forward(ctx, *args, **kwargs)
        except ValueError as error:
            # the engine would re-word a ValueError as a broadcasting error: raise it as is
            state["error"] = error
            state.update(ctx=ctx, outputs=(), differentiable=[], aliases=[], multiple=False)
            return np.empty(0)
        multiple = isinstance(raw, tuple)
        outputs = raw if multiple else (raw,)
        if not multiple and not isinstance(raw, Tensor):
            state["error"] = TypeError(
                f"{cls.__name__}.forward must return a Tensor or a tuple, got "
                f"{type(raw).__name__}"
            )
            state.update(ctx=ctx, outputs=(), differentiable=[], aliases=[], multiple=False)
            return np.empty(0)
        input_arrays = {id(a._data): a for a in args if isinstance(a, Tensor)}
        for a in args:
            if isinstance(a, Tensor) and id(a) in ctx._dirty:
                if a.requires_grad and a._node is None and _GradMode.enabled:
                    state["error"] = RuntimeError(
                        f"{cls.__name__}: a leaf Variable that requires grad (shape "
                        f"{a.shape}) is being used in an in-place operation (mark_dirty); "
                        "clone() it first"
                    )
                a._version.value += 1
        differentiable = [
            isinstance(o, Tensor)
            and o._data.dtype.kind in "fc"
            and id(o) not in ctx._non_differentiable
            for o in outputs
        ]
        aliases = [
            input_arrays.get(id(o._data)) if isinstance(o, Tensor) else None for o in outputs
        ]
        state.update(
            ctx=ctx, outputs=outputs, differentiable=differentiable, aliases=aliases,
            multiple=multiple,
        )
        engine_ctx.fn_ctx = ctx
        engine_ctx.outputs = [
            (o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None for o in outputs
        ]
        engine_ctx.multiple = multiple
        engine_ctx.tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        engine_ctx.input_shapes = [a._data.shape for a in args if isinstance(a, Tensor)]
        engine_ctx.num_args = len(args)
        # the engine checks these arrays' versions before backward (in-place after save)
        engine_ctx.save_for_backward(*[t._data for t in ctx._saved if t is not None])
        if not multiple:
            return outputs[0]._data
        packed = np.empty(len(outputs), dtype=object)
        for index, output in enumerate(outputs):
            packed[index] = output._data if isinstance(output, Tensor) else None
        return packed

    def backward(engine_ctx: Context, grad: Any) -> tuple[Any, ...]:
        ctx: FunctionCtx = engine_ctx.fn_ctx
        if isinstance(grad, Tensor):
            return _backward_on_tensors(engine_ctx, grad)
        grads: list[Tensor | None]
        if engine_ctx.multiple:
            grads = []
            for slot, meta in zip(grad, engine_ctx.outputs):
                if isinstance(slot, np.ndarray):
                    grads.append(_wrap(slot))
                elif meta is not None and ctx.materialize_grads:
                    grads.append(_wrap(np.zeros(meta[0], dtype=meta[1])))
                else:
                    grads.append(None)
        else:
            grads = [_wrap(grad)]
        with no_grad():
            result = user_backward(ctx, *grads)
        return _check_grads(engine_ctx, result, on_tensors=False)

    def _backward_on_tensors(engine_ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        # create_graph=True: the engine passes a graph Tensor and, in engine_ctx.saved, the
        # saved arrays as the graph tensors they came from (inputs, output) or constants
        if getattr(user_backward, "once_differentiable", False):
            raise RuntimeError(
                f"{cls.__name__}: its backward is decorated with once_differentiable, so it "
                "cannot be differentiated again (backward/grad with create_graph=True); remove "
                "the decorator and write the backward with differentiable Tensor ops"
            )
        fn_ctx: FunctionCtx = engine_ctx.fn_ctx
        ctx = FunctionCtx.__new__(FunctionCtx)
        ctx.__dict__.update(fn_ctx.__dict__)
        graph_saved = iter(engine_ctx.saved)
        graph_outputs = getattr(engine_ctx, "graph_outputs", {})
        ctx._saved = tuple(
            None if t is None else graph_outputs.get(id(t._data), next(graph_saved))
            for t in fn_ctx._saved
        )
        if engine_ctx.multiple:
            slots = grad.slots if isinstance(grad, _SlotGrads) else {}
            grads: list[Tensor | None] = []
            for index, meta in enumerate(engine_ctx.outputs):
                if index in slots:
                    grads.append(slots[index])
                elif meta is not None and ctx.materialize_grads:
                    grads.append(_wrap(np.zeros(meta[0], dtype=meta[1])))
                else:
                    grads.append(None)
        else:
            grads = [grad]
        result = user_backward(ctx, *grads)  # grad mode is on: the backward is recorded
        return _check_grads(engine_ctx, result, on_tensors=True)

    def _check_grads(engine_ctx: Context, result: Any, on_tensors: bool) -> tuple[Any, ...]:
        if not isinstance(result, tuple):
            result = (result,)
        num_args = engine_ctx.num_args
        if len(result) < num_args or any(g is not None for g in result[num_args:]):
            raise RuntimeError(
                f"function {cls.__name__}Backward returned an incorrect number of gradients "
                f"(expected {num_args}, got {len(result)})"
            )
        positions = set(engine_ctx.tensor_positions)
        for index, g in enumerate(result[:num_args]):
            if index not in positions and g is not None:
                raise RuntimeError(
                    f"function {cls.__name__}Backward returned a gradient different than None "
                    f"at position {index + 1}, but the corresponding forward input was not a "
                    "Tensor"
                )
        out: list[Tensor | np.ndarray | None] = []
        for position, shape in zip(engine_ctx.tensor_positions, engine_ctx.input_shapes):
            g = result[position]
            if g is None:
                out.append(None)
                continue
            array = g._data if isinstance(g, Tensor) else np.asarray(g)
            if array.shape != shape and not _expandable(shape, array.shape):
                raise RuntimeError(
                    f"Function {cls.__name__}Backward returned an invalid gradient at index "
                    f"{position} - got {list(array.shape)} but expected shape compatible with "
                    f"{list(shape)}"
                )
            if on_tensors:
                out.append(g if isinstance(g, Tensor) else _wrap(array))
            else:
                out.append(array)
        return tuple(out)

    def select_forward(engine_ctx: Context, packed: np.ndarray, index: int) -> np.ndarray:
        engine_ctx.index = index
        engine_ctx.size = packed.shape[0]
        return packed[index]

    def select_backward(engine_ctx: Context, grad: np.ndarray) -> np.ndarray:
        if isinstance(grad, Tensor):  # create_graph=True
            return _SlotGrads.of(engine_ctx.size, {engine_ctx.index: grad})
        slots = np.zeros(engine_ctx.size, dtype=object)
        slots[engine_ctx.index] = grad
        return slots

    # differentiable_backward: higher_order runs backward on Tensors under create_graph=True
    # (it then calls the user's backward with grad mode on, or raises naming the Function)
    node_primitive = type(
        cls.__name__,
        (Primitive,),
        {"forward": staticmethod(forward), "backward": staticmethod(backward),
         "differentiable_backward": True,
         "__module__": cls.__module__, "__qualname__": cls.__qualname__},
    )
    select_primitive = type(
        cls.__name__,
        (Primitive,),
        {"forward": staticmethod(select_forward), "backward": staticmethod(select_backward),
         "differentiable_backward": True,
         "__module__": cls.__module__, "__qualname__": cls.__qualname__},
    )
    return node_primitive, select_primitive


class _SlotGrads(Tensor):
    """Under create_graph=True, the gradient of a several-output Function's packed node: a graph
    Tensor per output that got one (``slots``). Its array is an object array of the pack's
    shape, so the engine's checks pass, and the engine's ``previous + g`` adds slot by slot."""

    __slots__ = ("slots",)
    slots: dict[int, Tensor]

    @classmethod
    def of(cls, size: int, slots: dict[int, Tensor]) -> _SlotGrads:
        out = cls.__new__(cls)
        out._data = np.zeros(size, dtype=object)
        out.grad = None
        out.requires_grad = False
        out._node = None
        out._version = _wrap(out._data)._version
        out._retains_grad = False
        out.slots = slots
        return out

    def __add__(self, other: Any) -> Any:
        if not isinstance(other, _SlotGrads):
            return NotImplemented
        slots = dict(self.slots)
        for index, g in other.slots.items():
            slots[index] = slots[index] + g if index in slots else g
        return _SlotGrads.of(self._data.shape[0], slots)

    __radd__ = __add__


def _expandable(shape: tuple[int, ...], grad_shape: tuple[int, ...]) -> bool:
    """Whether an input of ``shape`` broadcasts to ``grad_shape`` (the engine sums it back)."""
    if len(shape) > len(grad_shape):
        return False
    for size, grad_size in zip(reversed(shape), reversed(grad_shape)):
        if size != grad_size and size != 1:
            return False
    return True

