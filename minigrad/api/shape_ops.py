"""Shape ops: triangles and diagonals, roll/rot90, splitting and stacking helpers,
meshgrid and broadcasting, einsum, outer/kron. Each declaration gives the method and the
torch-level function (and the in-place variant where PyTorch has one)."""

from __future__ import annotations

import builtins
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.declare import op
from minigrad.errors import OpError
from minigrad.ops import layout
from minigrad.tensor import Tensor, _normalize_dims, _one_dim, cat, stack


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _need_dims(input: Tensor, ndim: int, op_name: str) -> None:
    if input.ndim < ndim:
        raise OpError(
            f"{op_name}: expects a tensor with at least {ndim} dimensions, got shape "
            f"{tuple(input.shape)}"
        )


# ---------------------------------------------------------------------------- diagonals


@op(inplace=True)
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """(..., n, m): zero above the ``diagonal``-th diagonal."""
    _need_dims(input, 2, "tril")
    return layout.Triangle.apply(input, diagonal=diagonal, upper=False)


@op(inplace=True)
def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """(..., n, m): zero below the ``diagonal``-th diagonal."""
    _need_dims(input, 2, "triu")
    return layout.Triangle.apply(input, diagonal=diagonal, upper=True)


@op()
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset`` diagonal of dims (dim1, dim2), as the last dim."""
    _need_dims(input, 2, "diagonal")
    d1, d2 = _one_dim(dim1, input.ndim, "diagonal"), _one_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise OpError(f"diagonal: dim1 and dim2 cannot be the same dimension ({dim1}, {dim2})")
    return layout.Diagonal.apply(input, offset=offset, dim1=d1, dim2=d2)


@op()
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """``(..., n) -> (..., n + |offset|, n + |offset|)`` with the input on a diagonal."""
    ndim = input.ndim + 1
    d1, d2 = _one_dim(dim1, ndim, "diag_embed"), _one_dim(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise OpError(f"diag_embed: dim1 and dim2 cannot be the same dimension ({dim1}, {dim2})")
    return layout.DiagEmbed.apply(input, offset=offset, dim1=d1, dim2=d2)


@op()
def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-D -> the square matrix with it on a diagonal; 2-D -> that diagonal."""
    if input.ndim == 1:
        return diag_embed(input, diagonal)
    if input.ndim == 2:
        return layout.Diagonal.apply(input, offset=diagonal, dim1=0, dim2=1)
    raise OpError(f"diag: expects a 1-D or 2-D tensor, got shape {tuple(input.shape)}")


@op()
def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened input on a diagonal of a square matrix."""
    return diag_embed(input.reshape(-1), offset)


@op()
def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a 2-D tensor."""
    if input.ndim != 2:
        raise OpError(f"trace: expects a 2-D tensor, got shape {tuple(input.shape)}")
    return diag(input).sum()


# ---------------------------------------------------------------------------- moving data


@op()
def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift elements along dims, wrapping around (flattened when dims is None)."""
    shift_t = (shifts,) if isinstance(shifts, (builtins.int, np.integer)) else tuple(shifts)
    if dims is None:
        if len(shift_t) != 1:
            raise OpError("roll: with dims=None, shifts must be one number")
        return layout.Roll.apply(input, shifts=shift_t[0], dims=None)
    dims_t = _normalize_dims(dims, input.ndim, "roll") or ()
    if len(dims_t) != len(shift_t):
        raise OpError(f"roll: shifts {shift_t} and dims {dims_t} must have the same length")
    return layout.Roll.apply(input, shifts=shift_t, dims=dims_t)


@op()
def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees k times in the plane of dims (from the first toward the second)."""
    if len(dims) != 2:
        raise OpError(f"rot90: expected 2 dims, got {len(dims)}")
    d0, d1 = _normalize_dims(dims, input.ndim, "rot90") or (0, 1)
    if d0 == d1:
        raise OpError(f"rot90: the two dims must differ, got {tuple(dims)}")
    k %= 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip(d0, d1)
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input.clone()


@op("movedim", "moveaxis")
def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """Move dims ``source`` to positions ``destination``; the others keep their order."""
    src = _normalize_dims(source, input.ndim, "movedim") or ()
    dst = _normalize_dims(destination, input.ndim, "movedim") or ()
    if len(src) != len(dst):
        raise OpError(f"movedim: source {source} and destination {destination} differ in length")
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise OpError(f"movedim: repeated dim in source {source} or destination {destination}")
    order = [d for d in range(input.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return input.permute(*order)


@op()
def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Dimensions ``dim0`` and ``dim1`` swapped (an alias of :meth:`Tensor.transpose`)."""
    return input.transpose(dim0, dim1)


@op()
def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """input sliced to [start, start + length) along dim (a view)."""
    d = _one_dim(dim, input.ndim, "narrow")
    size = input.shape[d]
    start = builtins.int(start)
    if not -size <= start <= size:
        raise IndexError(f"narrow: start out of range (expected to be in range of [{-size}, "
                         f"{size}], but got {start})")
    if length < 0:
        raise OpError(f"narrow(): length must be non-negative, got {length}")
    if start < 0:
        start += size
    if start + length > size:
        raise OpError(
            f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size}) of "
            f"dim {dim} (shape {tuple(input.shape)})"
        )
    return input[(slice(None),) * d + (slice(start, start + length),)]


@op()
def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into n nearly equal parts (the first ones one longer) or at the given indices."""
    d = _one_dim(dim, input.ndim, "tensor_split")
    size = input.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (builtins.int, np.integer)):
        n = builtins.int(indices_or_sections)
        if n <= 0:
            raise OpError(f"tensor_split: number of sections must be positive, got {n}")
        base, extra = divmod(size, n)
        bounds = np.cumsum([0] + [base + (i < extra) for i in range(n)]).tolist()
    else:
        bounds = [0] + [builtins.min(builtins.max(i if i >= 0 else i + size, 0), size)
                        for i in indices_or_sections] + [size]
    prefix = (slice(None),) * d
    return tuple(input[prefix + (slice(lo, builtins.max(lo, hi)),)]
                 for lo, hi in zip(bounds[:-1], bounds[1:]))


def _split_along(input: Tensor, sections: Any, dim: int, op_name: str, min_dims: int
                 ) -> tuple[Tensor, ...]:
    _need_dims(input, min_dims, op_name)
    if isinstance(sections, (builtins.int, np.integer)) and input.shape[dim] % sections:
        raise OpError(
            f"{op_name}: dim {dim} of size {input.shape[dim]} is not divisible by {sections} "
            "sections; use tensor_split for uneven parts"
        )
    return tensor_split(input, sections, dim)


@op()
def hsplit(input: Tensor, sections: Any) -> tuple[Tensor, ...]:
    """Pieces along dimension 1 (dimension 0 of a 1-d tensor): ``sections`` equal pieces
    (an int), or cut before each of the listed indices: (4, 6) -> (4, 1), (4, 3), (4, 2) with
    ``[1, 4]``.
    """
    return _split_along(input, sections, 1 if input.ndim > 1 else 0, "hsplit", 1)


@op()
def vsplit(input: Tensor, sections: Any) -> tuple[Tensor, ...]:
    """Pieces along dimension 0 of a tensor of at least 2 dimensions: ``sections`` equal
    pieces (an int), or cut before each of the listed indices.
    """
    return _split_along(input, sections, 0, "vsplit", 2)


@op()
def dsplit(input: Tensor, sections: Any) -> tuple[Tensor, ...]:
    """Pieces along dimension 2 of a tensor of at least 3 dimensions: ``sections`` equal
    pieces (an int), or cut before each of the listed indices.
    """
    return _split_along(input, sections, 2, "dsplit", 3)


# ---------------------------------------------------------------------------- stacking

SEQUENCE = "takes a sequence of tensors"


def _atleast(tensors: tuple[Any, ...], ndim: int) -> Any:
    def one(t: Tensor) -> Tensor:
        t = _as_tensor(t)
        if t.ndim >= ndim:
            return t
        if ndim == 3 and t.ndim == 2:
            return t.unsqueeze(-1)
        if ndim == 3 and t.ndim == 1:
            return t.reshape(1, t.shape[0], 1)
        return t.reshape((1,) * (ndim - t.ndim) + tuple(t.shape))

    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(one(t) for t in tensors[0])
    return one(tensors[0]) if len(tensors) == 1 else tuple(one(t) for t in tensors)


@op(method=False, reason="takes one or several tensors")
def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least 1 dimension: () -> (1,). One tensor gives a tensor;
    several (or one list of them) give a tuple.
    """
    return _atleast(tensors, 1)


@op(method=False, reason="takes one or several tensors")
def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least 2 dimensions: () -> (1, 1), (n,) -> (1, n). One tensor
    gives a tensor; several (or one list of them) give a tuple.
    """
    return _atleast(tensors, 2)


@op(method=False, reason="takes one or several tensors")
def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least 3 dimensions: () -> (1, 1, 1), (n,) -> (1, n, 1),
    (m, n) -> (m, n, 1). One tensor gives a tensor; several (or one list) give a tuple.
    """
    return _atleast(tensors, 3)


@op(method=False, reason=SEQUENCE)
def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors concatenated along dimension 1, or along dimension 0 when they are
    1-d: (n,) and (m,) -> (n + m,).
    """
    parts = _atleast((list(tensors),), 1)
    return cat(parts, dim=0 if parts[0].ndim == 1 else 1)


@op(method=False, reason=SEQUENCE)
def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors made at least 2-d and concatenated along dimension 0: 1-d tensors
    become rows, (n,) and (n,) -> (2, n). ``row_stack`` is the same function.
    """
    return cat(_atleast((list(tensors),), 2), dim=0)


row_stack = op("row_stack", method=False, reason=SEQUENCE)(vstack)


@op(method=False, reason=SEQUENCE)
def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors made at least 3-d (see :func:`atleast_3d`) and concatenated along
    dimension 2: (m, n) and (m, n) -> (m, n, 2).
    """
    return cat(_atleast((list(tensors),), 3), dim=2)


@op(method=False, reason=SEQUENCE)
def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """0-d and 1-d tensors as columns (n, 1), 2-d ones as they are, concatenated along
    dimension 1: (n,) and (n,) -> (n, 2).
    """
    parts = [_as_tensor(t) for t in tensors]
    parts = [t.reshape(-1, 1) if t.ndim <= 1 else t for t in parts]
    return cat(parts, dim=1)


@op(method=False, reason=SEQUENCE, out=False)
def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids of 1-D tensors, indexing='ij' (matrix) or 'xy' (Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise OpError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    parts = [_as_tensor(t).reshape(-1) if _as_tensor(t).ndim == 0 else _as_tensor(t)
             for t in tensors]
    for t in parts:
        if t.ndim != 1:
            raise OpError(f"meshgrid: expects 0-D or 1-D tensors, got shape {tuple(t.shape)}")
    swap = indexing == "xy" and len(parts) >= 2
    if swap:
        parts[0], parts[1] = parts[1], parts[0]
    shape = tuple(t.shape[0] for t in parts)
    grids = [t.reshape([-1 if i == k else 1 for i in range(len(parts))]).expand(*shape)
             for k, t in enumerate(parts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


@op(method=False, reason=SEQUENCE, out=False)
def broadcast_tensors(*tensors: Any) -> tuple[Tensor, ...]:
    """The tensors broadcast to their common shape, as a tuple:
    (2, 1) and (3,) -> two (2, 3) tensors.
    """
    parts = [_as_tensor(t) for t in tensors]
    shape = broadcast_shapes(*[t.shape for t in parts])
    return tuple(t.broadcast_to(shape) for t in parts)


@op(method=False, reason="takes shapes, not tensors", out=False)
def broadcast_shapes(*shapes: Any) -> tuple[builtins.int, ...]:
    """The shape that tensors of the given shapes broadcast to, as a tuple (PyTorch
    returns a ``Size``); an int counts as a 1-d shape: ``broadcast_shapes((2, 1), (3,))`` is
    ``(2, 3)``.
    """
    fixed = [(s,) if isinstance(s, (builtins.int, np.integer)) else tuple(s) for s in shapes]
    try:
        return tuple(np.broadcast_shapes(*fixed))
    except ValueError:
        raise OpError(f"broadcast_shapes: shapes {fixed} cannot be broadcast together") from None


# ---------------------------------------------------------------------------- products


@op(method=False, reason="takes an equation and a sequence of tensors")
def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation (explicit '->' or implicit output; '...' supported)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [_as_tensor(t) for t in operands]
    inputs, output = _parse_einsum(equation.replace(" ", ""), tensors)
    dtype = np.result_type(*[t._data.dtype for t in tensors])
    tensors = [t.to(dtype) for t in tensors]
    return layout.Einsum.apply(*tensors, inputs=tuple(inputs), output=output)


def _parse_einsum(equation: str, tensors: list[Any]) -> tuple[list[str], str]:
    lhs, arrow, rhs = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(tensors):
        raise OpError(
            f"einsum: the equation {equation!r} has {len(inputs)} operands but "
            f"{len(tensors)} tensors were given"
        )
    used = set(c for c in equation if c.isalpha())
    spare = iter(c for c in string.ascii_letters if c not in used)
    ellipsis_letters = ""
    longest = 0
    for sub, t in zip(inputs, tensors):
        if "..." in sub:
            longest = builtins.max(longest, t.ndim - len(sub.replace("...", "")))
    ellipsis_letters = "".join(next(spare) for _ in range(longest))
    expanded = []
    for sub, t in zip(inputs, tensors):
        if any(not (c.isalpha() or c == ".") for c in sub):
            raise OpError(f"einsum: invalid subscript {sub!r} in {equation!r}; use letters")
        if "..." in sub:
            n = t.ndim - len(sub.replace("...", ""))
            sub = sub.replace("...", ellipsis_letters[longest - n:] if n else "")
        if len(sub) != t.ndim:
            raise OpError(
                f"einsum: subscript {sub!r} has {len(sub)} letters for an operand of shape "
                f"{tuple(t.shape)}"
            )
        expanded.append(sub)
    sizes: dict[str, int] = {}
    for sub, t in zip(expanded, tensors):
        for c, n in zip(sub, t.shape):
            if sizes.get(c, n) != n and 1 not in (n, sizes[c]):
                raise OpError(
                    f"einsum: subscript {c!r} has size {n} for one operand and {sizes[c]} for "
                    f"another in {equation!r}"
                )
            sizes[c] = builtins.max(sizes.get(c, n), n)
    if arrow:
        output = rhs.replace("...", ellipsis_letters)
        if any(c not in sizes for c in output) or len(set(output)) != len(output):
            raise OpError(f"einsum: output subscripts {rhs!r} must be distinct input letters")
    else:
        counts = "".join(expanded)
        output = ellipsis_letters + "".join(
            sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ellipsis_letters))
    return expanded, output


@op("outer", "ger")
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """(n,) x (m,) -> (n, m)."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise OpError(
            f"outer: expects two 1-D tensors, got shapes {tuple(input.shape)} and "
            f"{tuple(vec2.shape)}"
        )
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


@op()
def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product: blocks input[i] * other."""
    other = _as_tensor(other)
    ndim = builtins.max(input.ndim, other.ndim)
    a = input.reshape((1,) * (ndim - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (ndim - other.ndim) + tuple(other.shape))
    inter_a = [v for n in a.shape for v in (n, 1)]
    inter_b = [v for n in b.shape for v in (1, n)]
    product = a.reshape(inter_a) * b.reshape(inter_b)
    return product.reshape([m * n for m, n in zip(a.shape, b.shape)])


@op()
def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    """repeat with dims padded by ones on the left to the input's ndim."""
    dims = tuple(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return input.repeat(*dims)


@op()
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (default: the first dim of size 3)."""
    a, b = input._operands(other, "cross")
    shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)
    if dim is None:
        sizes = [i for i, n in enumerate(shape) if n == 3]
        if not sizes:
            raise OpError(f"cross: no dimension of size 3 in shape {shape}")
        dim = sizes[0]
    d = _one_dim(dim, len(shape), "cross")
    if shape[d] != 3:
        raise OpError(f"cross: dimension {dim} does not have size 3 (shape {shape})")

    def part(t: Tensor, i: int) -> Tensor:
        return t[(slice(None),) * d + (i,)]

    x = part(a, 1) * part(b, 2) - part(a, 2) * part(b, 1)
    y = part(a, 2) * part(b, 0) - part(a, 0) * part(b, 2)
    z = part(a, 0) * part(b, 1) - part(a, 1) * part(b, 0)
    return stack([x, y, z], dim=d)
