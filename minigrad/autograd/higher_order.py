"""Differentiating gradients: ``backward(create_graph=True)`` and ``grad(..., create_graph=True)``.

Each primitive's derivative is written once, in its ``backward``, with NumPy calls and array
operators. For a first-order backward the engine runs it on ndarrays, exactly as before. With
``create_graph=True`` the engine runs the same ``backward`` on Tensors: the incoming gradient
is a Tensor, the saved arrays that are the op's inputs or output become those graph Tensors,
and NumPy calls on Tensors dispatch to minigrad's ops (``Tensor.__array_ufunc__`` and
``__array_function__``, NumPy's protocols for array types), so the backward pass is itself
recorded and can be differentiated again.

That is exact only for a ``backward`` whose saved arrays are the inputs, the output, or
constants of the derivative (masks, indices), and that uses operations with a Tensor
meaning. ``DIFFERENTIABLE`` lists the primitives checked to be so (each against PyTorch's
second derivatives in the tests), and a primitive of your own joins by setting the class
attribute ``differentiable_backward = True`` (``minigrad.gradgradcheck`` tells whether that is
right); any other primitive met under ``create_graph=True`` raises
an error naming it, and a NumPy call with no Tensor meaning raises too, so a second derivative
is never silently wrong. Turning an array-only helper of a backward into one that also takes
Tensors (``scatter_add_into`` below) is how a primitive joins the list. A fused primitive
whose backward is a hand-written loop on ndarrays (the recurrent layers) joins through
``recomputed_backward``: under create_graph its backward recomputes the op from
differentiable ones and returns the recorded gradients of that recomputation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.autograd.engine import Context, Node, Primitive, _as_used_by, _GradMode

# filled by _register() on first use: primitive classes whose backward is differentiable
DIFFERENTIABLE: set[type] = set()


class differentiating:  # noqa: N801 - a context manager used like no_grad
    """Record operations and let NumPy calls on Tensors dispatch to minigrad (per thread)."""

    def __enter__(self) -> None:
        self.previous = (_GradMode.enabled, getattr(_GradMode, "differentiating", False))
        _GradMode.enabled = True
        _GradMode.differentiating = True

    def __exit__(self, *exc: object) -> None:
        _GradMode.enabled, _GradMode.differentiating = self.previous


def is_differentiating() -> bool:
    return getattr(_GradMode, "differentiating", False)


def backward_on_tensors(node: Node, output: Any, grad: Any) -> Any:
    """Run ``node``'s backward on Tensors, recording it (the create_graph=True path)."""
    if not DIFFERENTIABLE:
        _register()
    fn = node.fn
    if fn not in DIFFERENTIABLE and not getattr(fn, "differentiable_backward", False):
        raise RuntimeError(
            f"{node.name()}: differentiating this op's gradient (create_graph=True) is not "
            "supported yet; compute the first derivative only (create_graph=False), or write the "
            "op from differentiable ones"
        )
    ctx = node.ctx
    view = Context.__new__(Context)
    view.__dict__.update(ctx.__dict__)
    inputs = tuple(_as_used_by(t, node.seq) if t._node is not None and t._node.previous
                   is not None else t for t in node.inputs)
    # the graph Tensors of the inputs, for a backward whose forward kept only derived arrays
    # (a convolution keeps its im2col columns, not x): its Tensor branch reads these
    view.graph_inputs = inputs
    if ctx.saved:
        view.saved = tuple(_graph_value(s, inputs, output) for s in ctx.saved)
    with differentiating():
        return fn.backward(view, grad)


def _graph_value(saved: Any, inputs: tuple[Any, ...], output: Any) -> Any:
    """A saved array as the graph Tensor it is (an input or the output), else a constant."""
    from minigrad.tensor import _wrap

    for t in inputs:
        if saved is t._data:
            return t
    if output is not None and saved is output._data:
        return output
    if isinstance(saved, np.ndarray):
        # a reshaped view of an input or the output (a reduction keeps its keepdims result
        # and returns it squeezed): the same elements in the same order, so the graph Tensor
        for t in (*inputs, output):
            if t is not None and _same_elements(saved, t._data):
                return t.reshape(saved.shape)
        return _wrap(saved)
    return saved


def _same_elements(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` are C-contiguous arrays over the same memory (reshapes)."""
    return (a.size == b.size and a.dtype == b.dtype and a.size > 0
            and a.flags.c_contiguous and b.flags.c_contiguous
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


# ------------------------------------------------------------------ scatter, the adjoint of a pick


def scatter_add_into(shape: tuple[int, ...], index: Any, grad: Any) -> Any:
    """zeros(shape) with ``grad`` added at ``index`` (repeated indices accumulate): the gradient
    of ``x[index]``. On ndarrays in NumPy; on Tensors a primitive whose gradient is a pick."""
    from minigrad.tensor import Tensor

    if isinstance(grad, Tensor):
        return ScatterAdd.apply(grad, shape=shape, index=index)
    out = np.zeros(shape, dtype=grad.dtype)
    np.add.at(out, index, grad)
    return out


class ScatterAdd(Primitive):
    """out = zeros(shape); out[index] += grad. Its backward picks: grad_out[index]."""

    @staticmethod
    def forward(ctx: Context, grad: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
        ctx.index = index
        return scatter_add_into(shape, index, grad)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad[ctx.index]


# ------------------------------------------------------------------ linear maps and adjoints


class LinearMap:
    """A linear map with constant data (a mask, an index, a window geometry) and its adjoint,
    each on ndarrays. Many backward rules are such a map applied to the incoming gradient (a
    scatter, a window sum); wrapped in :class:`ApplyLinear` the same code differentiates."""

    def __init__(self, forward: Callable[[np.ndarray], np.ndarray],
                 adjoint: Callable[[np.ndarray], np.ndarray], name: str) -> None:
        self.forward, self.adjoint, self.name = forward, adjoint, name

    def __call__(self, x: Any, transpose: bool = False) -> Any:
        """The map (its adjoint with ``transpose``) of an ndarray, or of a Tensor as a node."""
        from minigrad.tensor import Tensor

        if not isinstance(x, Tensor):  # an ndarray (or a NumPy scalar some op left)
            return (self.adjoint if transpose else self.forward)(np.asarray(x))
        return ApplyLinear.apply(x, linear=self, transpose=transpose)


class ApplyLinear(Primitive):
    """y = A x (A^T x with ``transpose``) for a :class:`LinearMap` A; its gradient is the other."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, linear: LinearMap, transpose: bool) -> np.ndarray:
        ctx.linear, ctx.transpose = linear, transpose
        return linear(x, transpose)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return ctx.linear(grad, not ctx.transpose)


def array_context(ctx: Context) -> Context:
    """A copy of a backward's context with its saved values as arrays again: for a backward
    that is linear in the gradient, whose saved arrays are constants of the derivative."""
    from minigrad.tensor import Tensor

    arrays = Context.__new__(Context)
    arrays.__dict__.update(ctx.__dict__)
    saved = []
    for value in ctx.saved:
        if isinstance(value, Tensor):
            if value.requires_grad:
                raise RuntimeError(
                    "array_context: a saved array is an input or the output of the op, so its "
                    "backward is not a linear map of the gradient with constant data"
                )
            value = value._data
        saved.append(value)
    arrays.saved = tuple(saved)
    return arrays


def linear_backward(prim: type[Primitive], ctx: Context, grad: Any,
                    pick: Callable[[Context, np.ndarray], np.ndarray]) -> Any:
    """``prim.backward`` on a Tensor gradient, for a backward that is one linear map of the
    gradient with constant data (a scatter, a window sum): recorded as the adjoint of
    ``pick(ctx, x)``, the map it transposes (an index, a window read, often the op's own
    forward). Returns the one gradient (a backward returning a 1-tuple wraps it again)."""
    arrays = array_context(ctx)

    def adjoint(g: np.ndarray) -> np.ndarray:
        result = prim.backward(arrays, g)
        return result[0] if isinstance(result, tuple) else result

    def forward(x: np.ndarray) -> np.ndarray:
        return pick(arrays, x)

    return LinearMap(forward, adjoint, prim.__name__)(grad, transpose=True)


# ------------------------------------------------------------------ recomputation


class Alias(Primitive):
    """y = x, the same array: joins a recomputation's stand-in leaf to the graph Tensor."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return x

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad


def recomputed_backward(ctx: Context, grad: Any, recompute: Callable[..., Any]) -> tuple[Any, ...]:
    """A backward on Tensors for a fused primitive (a recurrence run on ndarrays): the
    gradients of ``recompute(*inputs)``, the same function written from differentiable ops,
    for ``grad``, recorded so that they can be differentiated again.

    The recomputation starts from stand-in leaves holding the inputs' arrays, so that its
    backward stops there and does not run through the graph before the op; the leaves are
    then joined to the graph Tensors of the inputs (an :class:`Alias` node each), so the
    recorded gradients depend on the inputs as the op's own gradients do."""
    from minigrad.autograd.engine import run_backward
    from minigrad.tensor import _wrap

    inputs = ctx.graph_inputs
    leaves = []
    for t, need in zip(inputs, ctx.needs_input_grad):
        leaf = _wrap(t._data)
        leaf.requires_grad = bool(need)
        leaf._version = t._version  # in-place changes of the input are still detected
        leaves.append(leaf)
    with differentiating():
        out = recompute(*leaves)
        wanted = [leaf for leaf in leaves if leaf.requires_grad]
        grads = run_backward([out], [grad], retain_graph=True, capture=wanted,
                             create_graph=True)
    for leaf, t in zip(leaves, inputs):
        if leaf.requires_grad:
            leaf._node = Node(Alias, Context(), (t,))
    assert grads is not None  # capture= was given: the captured gradients
    found = iter(grads)
    return tuple(next(found) if leaf.requires_grad else None for leaf in leaves)


# ------------------------------------------------------------------ NumPy calls on Tensors


def _tensor(value: Any) -> Any:
    from minigrad.tensor import Tensor, _wrap

    if isinstance(value, Tensor):
        return value
    return _wrap(np.asarray(value))


def _method(name: str) -> Callable[..., Any]:
    def call(a: Any, *rest: Any) -> Any:
        return getattr(_tensor(a), name)(*rest)

    return call


def _binary(name: str) -> Callable[..., Any]:
    def call(a: Any, b: Any) -> Any:
        from minigrad.tensor import Tensor

        if isinstance(a, Tensor):
            return getattr(a, name)(b)
        return getattr(_tensor(a), name)(b if isinstance(b, Tensor) else _tensor(b))

    return call


def _maximum(a: Any, b: Any) -> Any:
    from minigrad.tensor import maximum

    return maximum(_tensor(a), b)


def _minimum(a: Any, b: Any) -> Any:
    from minigrad.tensor import minimum

    return minimum(_tensor(a), b)


UFUNCS: dict[str, Callable[..., Any]] = {
    "add": _binary("__add__"),
    "subtract": _binary("__sub__"),
    "multiply": _binary("__mul__"),
    "true_divide": _binary("__truediv__"),
    "divide": _binary("__truediv__"),
    "power": _binary("__pow__"),
    "matmul": _binary("__matmul__"),
    "equal": _binary("__eq__"),
    "not_equal": _binary("__ne__"),
    "less": _binary("__lt__"),
    "less_equal": _binary("__le__"),
    "greater": _binary("__gt__"),
    "greater_equal": _binary("__ge__"),
    "logical_and": _binary("__and__"),
    "logical_or": _binary("__or__"),
    "maximum": _maximum,
    "minimum": _minimum,
    "negative": _method("__neg__"),
    "positive": _method("__pos__"),
    "absolute": _method("abs"),
    "logical_not": _method("logical_not"),
    **{name: _method(name) for name in (
        "exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sign", "square", "reciprocal",
        "log1p", "expm1", "floor", "ceil", "trunc", "isnan", "isfinite", "isinf", "sinh", "cosh",
        "log2", "log10", "exp2", "signbit",
    )},
    "arcsin": _method("asin"),
    "arccos": _method("acos"),
    "arctan": _method("atan"),
    "arcsinh": _method("asinh"),
    "arccosh": _method("acosh"),
    "arctanh": _method("atanh"),
    "rint": _method("round"),
}


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
    """``Tensor.__array_ufunc__``: ``np.exp(t)``, ``ndarray * t`` and the like on Tensors."""
    from minigrad.tensor import Tensor

    if method == "__call__" and not kwargs:
        fn = UFUNCS.get(ufunc.__name__)
        if fn is not None:
            return fn(*inputs)
    if is_differentiating():
        raise TypeError(
            f"np.{ufunc.__name__}{'' if method == '__call__' else '.' + method} has no "
            "differentiable meaning on minigrad tensors (used in a backward under "
            "create_graph=True); write the backward with minigrad-supported operations"
        )
    # outside a differentiable backward: NumPy on the arrays, as for any array-like
    arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
    if "out" in kwargs:
        kwargs = {**kwargs, "out": tuple(o._data if isinstance(o, Tensor) else o
                                         for o in kwargs["out"])}
    return getattr(ufunc, method)(*arrays, **kwargs)


def _unwrap(value: Any) -> Any:
    from minigrad.tensor import Tensor

    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _axes(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, (list, tuple, np.ndarray)) else axis


def _sum(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Any:
    return _tensor(a).sum(dim=_axes(axis), keepdim=keepdims, dtype=dtype)


def _mean(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Any:
    return _tensor(a).mean(dim=_axes(axis), keepdim=keepdims, dtype=dtype)


def _expand_dims(a: Any, axis: Any) -> Any:
    t = _tensor(a)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    ndim = t.ndim + len(axes)
    shape = list(t.shape)
    for d in sorted(d % ndim for d in axes):
        shape.insert(d, 1)
    return t.reshape(tuple(shape))


def _where(cond: Any, a: Any, b: Any) -> Any:
    from minigrad.tensor import where

    return where(cond._data if hasattr(cond, "_data") else cond, a, b)


def _constant_like(fill: Callable[..., np.ndarray]) -> Callable[..., Any]:
    def call(a: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
        from minigrad.tensor import _wrap

        array = a._data if hasattr(a, "_data") else np.asarray(a)
        return _wrap(fill(array, dtype, *args, **kwargs))

    return call


def _split(a: Any, indices: Any, axis: int = 0) -> list[Any]:
    t = _tensor(a)
    size = t.shape[axis]
    if isinstance(indices, (int, np.integer)):
        step = size // int(indices)
        bounds = list(range(step, size, step))
    else:
        bounds = [int(i) for i in indices]
    edges = [0, *bounds, size]
    prefix = (slice(None),) * (axis % t.ndim)
    return [t[prefix + (slice(lo, hi),)] for lo, hi in zip(edges[:-1], edges[1:])]


def _swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    return _tensor(a).transpose(axis1, axis2)


def _transpose(a: Any, axes: Any = None) -> Any:
    t = _tensor(a)
    order = tuple(reversed(range(t.ndim))) if axes is None else tuple(int(d) for d in axes)
    return t.permute(*order)


def _broadcast_to(a: Any, shape: Any) -> Any:
    return _tensor(a).broadcast_to(tuple(shape))


def _reshape(a: Any, shape: Any, *args: Any, **kwargs: Any) -> Any:
    return _tensor(a).reshape(shape)


def _concatenate(arrays: Any, axis: int = 0) -> Any:
    from minigrad.tensor import cat

    return cat([_tensor(x) for x in arrays], dim=axis)


def _squeeze(a: Any, axis: Any = None) -> Any:
    return _tensor(a).squeeze(_axes(axis)) if axis is not None else _tensor(a).squeeze()


def _flip(a: Any, axis: Any = None) -> Any:
    t = _tensor(a)
    dims = range(t.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
    return t.flip(*dims)


def _cumsum(a: Any, axis: int, dtype: Any = None) -> Any:
    return _tensor(a).cumsum(axis, dtype=dtype)


def _triangle(upper: bool) -> Callable[..., Any]:
    def call(a: Any, k: int = 0) -> Any:
        return _tensor(a).triu(k) if upper else _tensor(a).tril(k)

    return call


def _roll(a: Any, shift: Any, axis: Any = None) -> Any:
    return _tensor(a).roll(shift, axis)


ARRAY_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "flip": _flip,
    "cumsum": _cumsum,
    "triu": _triangle(True),
    "tril": _triangle(False),
    "roll": _roll,
    "sum": _sum,
    "mean": _mean,
    "expand_dims": _expand_dims,
    "where": _where,
    "zeros_like": _constant_like(np.zeros_like),
    "ones_like": _constant_like(np.ones_like),
    "split": _split,
    "swapaxes": _swapaxes,
    "transpose": _transpose,
    "broadcast_to": _broadcast_to,
    "reshape": _reshape,
    "concatenate": _concatenate,
    "squeeze": _squeeze,
}


def array_function(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``Tensor.__array_function__``: inside a differentiable backward, NumPy functions on
    Tensors run as minigrad ops; elsewhere they run on the arrays, as for any array-like."""
    if is_differentiating():
        impl = ARRAY_FUNCTIONS.get(func.__name__)
        if impl is None:
            raise TypeError(
                f"np.{func.__name__} has no differentiable meaning on minigrad tensors (used in "
                "a backward under create_graph=True); write the backward with minigrad-supported "
                "operations"
            )
        return impl(*args, **kwargs)
    return func(*_unwrap(args), **_unwrap(kwargs))


# ------------------------------------------------------------------ the audited primitives


def _register() -> None:
    """The primitives whose backward is exact on Tensors (second derivatives tested)."""
    from minigrad.ops import (
        activation,
        binary,
        conv,
        conv_graph,
        decomposition,
        distance,
        embedding,
        indexing,
        layout,
        linalg,
        loss,
        normalization,
        norms,
        padding,
        poolnd,
        recurrent,
        reduce,
        resample,
        sampling,
        shape,
        shape_inplace,
        special,
        strided,
        unary,
        windows,
    )
    from minigrad.ops import elementwise as ew

    names = {
        ew: "Add Sub Mul Div Neg Pow PowScalar Exp Log Sqrt Sin Cos Tanh Sigmoid Relu LeakyRelu "
            "Abs Clamp Maximum Minimum Where",
        unary: "Asin Acos Atan Sinh Cosh Tan Asinh Acosh Atanh Log2 Log10 Log1p Exp2 Expm1 "
               "Sign Floor Ceil Round Trunc Frac ZeroGrad NotDifferentiable Sinc NanToNum Logit",
        binary: "Atan2 Hypot Copysign LogAddExp Xlogy Lerp RoundedDiv Remainder Fmod",
        special: "Erf Erfc Erfinv",
        activation: "Hardtanh Softplus LogSigmoid Elu",
        reduce: "Sum Extreme Gather LogSoftmax Softmax StdFromVariance CumSum Prod CumProd "
                "LogCumSumExp SelectedValue",
        norms: "VectorNorm SingularValues",
        decomposition: "Inverse Determinant Solve",
        distance: "Cdist",
        layout: "Triangle Roll Diagonal DiagEmbed Einsum",
        shape: "Reshape Permute Expand GetItem GetItemView SetItem Cat Pad Cast Clone",
        indexing: "Scatter ScatterReduce AddAt",
        linalg: "MatMul",
        normalization: "Normalize",
        conv: "Conv2d MaxPool2d AvgPool2d AdaptiveAvgPool2d Unfold Fold",
        embedding: "EmbeddingLookup EmbeddingBag",
        loss: "BinaryCrossEntropy",
        windows: "ConvNd ConvTransposeNd",
        poolnd: "IndexedMax AvgPoolNd SeparableLinear MaxUnpool",
        strided: "UnfoldWindows",
        shape_inplace: "PermuteInPlace ReshapeInPlace",
        resample: "Interpolate",
        padding: "IndexAxes",
        conv_graph: "Convolution ConvInput ConvWeight",
        recurrent: "RNNLayer LSTMLayer GRULayer",
        sampling: "Bernoulli Normal",
    }
    for module, listed in names.items():
        for name in listed.split():
            DIFFERENTIABLE.add(getattr(module, name))
    DIFFERENTIABLE.update((ScatterAdd, ApplyLinear, Alias))
