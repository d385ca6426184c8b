"""Shape primitives beyond reshape/permute/index: triangles, diagonals, roll, einsum."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.autograd.engine import Context, Primitive

if TYPE_CHECKING:
    from minigrad.tensor import Tensor


class Triangle(Primitive):
    """tril (``upper=False``) or triu of the last two dims; the gradient keeps the same part."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, diagonal: int, upper: bool) -> np.ndarray:
        ctx.diagonal, ctx.upper = diagonal, upper
        return np.triu(a, diagonal) if upper else np.tril(a, diagonal)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return np.triu(grad, ctx.diagonal) if ctx.upper else np.tril(grad, ctx.diagonal)


def _diagonal_index(n_rows: int, n_cols: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(min(n_rows - start_row, n_cols - start_col), 0)
    steps = np.arange(length)
    return steps + start_row, steps + start_col


class Diagonal(Primitive):
    """The diagonal at ``offset`` of dims (dim1, dim2), appended as the last dim."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
        ctx.shape, ctx.offset, ctx.dims = a.shape, offset, (dim1, dim2)
        return np.diagonal(a, offset, dim1, dim2).copy()

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint of the pick
            from minigrad.autograd.higher_order import linear_backward

            return linear_backward(Diagonal, ctx, grad, lambda c, x: Diagonal.forward(
                Context(), x, c.offset, *c.dims))
        dim1, dim2 = ctx.dims
        moved_shape = [n for i, n in enumerate(ctx.shape) if i not in (dim1, dim2)]
        moved_shape += [ctx.shape[dim1], ctx.shape[dim2]]
        out = np.zeros(moved_shape, grad.dtype)
        rows, cols = _diagonal_index(ctx.shape[dim1], ctx.shape[dim2], ctx.offset)
        out[..., rows, cols] = grad
        return np.moveaxis(out, (-2, -1), (dim1, dim2))


class DiagEmbed(Primitive):
    """The last dim of ``a`` written on the ``offset`` diagonal of new dims (dim1, dim2)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
        n = a.shape[-1] + abs(offset)
        out = np.zeros(a.shape[:-1] + (n, n), a.dtype)
        rows, cols = _diagonal_index(n, n, offset)
        out[..., rows, cols] = a
        ctx.offset, ctx.dims = offset, (dim1, dim2)
        return np.moveaxis(out, (-2, -1), (dim1, dim2))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the adjoint of the embedding
            from minigrad.autograd.higher_order import linear_backward

            return linear_backward(DiagEmbed, ctx, grad, lambda c, x: DiagEmbed.forward(
                Context(), x, c.offset, *c.dims))
        return np.diagonal(grad, ctx.offset, *ctx.dims).copy()


class Roll(Primitive):
    @staticmethod
    def forward(ctx: Context, a: np.ndarray, shifts: int | tuple[int, ...],
                dims: tuple[int, ...] | None) -> np.ndarray:
        ctx.shifts, ctx.dims = shifts, dims
        if dims is None:
            return np.roll(a.reshape(-1), shifts).reshape(a.shape)
        return np.roll(a, shifts, dims)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        if ctx.dims is None:
            return np.roll(grad.reshape(-1), -ctx.shifts).reshape(grad.shape)
        back = tuple(-s for s in ctx.shifts)
        return np.roll(grad, back, ctx.dims)


class Einsum(Primitive):
    """np.einsum forward; the gradient of each operand is another einsum (of the output
    gradient with the other operands), broadcast over indices only that operand had."""

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, inputs: tuple[str, ...], output: str
                ) -> np.ndarray:
        ctx.save_for_backward(*arrays)
        ctx.inputs, ctx.output = inputs, output
        return np.asarray(np.einsum(",".join(inputs) + "->" + output, *arrays, optimize=True))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        if not isinstance(grad, (np.ndarray, np.generic)):  # create_graph=True
            return _einsum_backward_on_tensors(ctx, grad)
        arrays = ctx.saved
        sizes = {c: n for sub, a in zip(ctx.inputs, arrays) for c, n in zip(sub, a.shape)}
        grads: list[np.ndarray | None] = []
        for k, (sub, need) in enumerate(zip(ctx.inputs, ctx.needs_input_grad)):
            if not need:
                grads.append(None)
                continue
            others = [(s, a) for j, (s, a) in enumerate(zip(ctx.inputs, arrays)) if j != k]
            available = set(ctx.output).union(*[set(s) for s, _ in others])
            kept = "".join(c for c in dict.fromkeys(sub) if c in available)
            spec = ",".join([ctx.output] + [s for s, _ in others]) + "->" + kept
            partial = np.einsum(spec, grad, *[a for _, a in others], optimize=True)
            # indices only this operand had were summed away: broadcast back over them
            full = "".join(dict.fromkeys(sub))
            shape = [sizes[c] if c in kept else 1 for c in full]
            order = [kept.index(c) for c in full if c in kept]
            partial = np.broadcast_to(
                np.transpose(partial, order).reshape(shape), [sizes[c] for c in full])
            if len(full) != len(sub):  # a repeated index (a diagonal): write onto it
                out = np.zeros([sizes[c] for c in sub], grad.dtype)
                view = np.einsum(sub + "->" + full, out)
                view.flags.writeable = True
                view[...] = partial
                partial = out
            grads.append(np.ascontiguousarray(partial))
        return tuple(grads)


def _einsum_backward_on_tensors(ctx: Context, grad: Any) -> tuple[Tensor | None, ...]:
    """Einsum's backward on Tensors: the same einsums as graph ops; a repeated index writes
    onto the diagonal as the adjoint of reading it (a linear map)."""
    tensors = ctx.graph_inputs
    sizes = {c: n for sub, t in zip(ctx.inputs, tensors) for c, n in zip(sub, t.shape)}
    grads: list[Any] = []
    for k, (sub, need) in enumerate(zip(ctx.inputs, ctx.needs_input_grad)):
        if not need:
            grads.append(None)
            continue
        others = [(s, t) for j, (s, t) in enumerate(zip(ctx.inputs, tensors)) if j != k]
        available = set(ctx.output).union(*[set(s) for s, _ in others])
        kept = "".join(c for c in dict.fromkeys(sub) if c in available)
        partial = Einsum.apply(grad, *[t for _, t in others],
                               inputs=(ctx.output, *[s for s, _ in others]), output=kept)
        full = "".join(dict.fromkeys(sub))
        shape = tuple(sizes[c] if c in kept else 1 for c in full)
        order = [kept.index(c) for c in full if c in kept]
        partial = partial.permute(*order).reshape(shape).broadcast_to(
            tuple(sizes[c] for c in full))
        if len(full) != len(sub):
            partial = _onto_diagonal(sub, full, tuple(sizes[c] for c in sub))(partial)
        grads.append(partial)
    return tuple(grads)


def _onto_diagonal(sub: str, full: str, shape: tuple[int, ...]) -> Any:
    """The linear map writing an array indexed by ``full`` onto the diagonal of a zero array
    indexed by ``sub`` (a repeated index), and its adjoint, reading that diagonal."""
    from minigrad.autograd.higher_order import LinearMap

    def write(x: np.ndarray) -> np.ndarray:
        out = np.zeros(shape, x.dtype)
        view = np.einsum(sub + "->" + full, out)
        view.flags.writeable = True
        view[...] = x
        return out

    def read(g: np.ndarray) -> np.ndarray:
        return np.einsum(sub + "->" + full, g).copy()

    return LinearMap(write, read, "einsum_diagonal")
