"""``minigrad.autograd.functional``: Jacobians, Hessians and their products, as
``torch.autograd.functional`` (``vectorize=False``: one backward per output element).

Each function takes ``func`` (Tensors in, a Tensor or a tuple of Tensors out) and ``inputs`` (a
Tensor or a tuple of them). The inputs are not modified; the results do not require grad
unless ``create_graph=True``. With ``strict=True``, an output that does not depend on an input
raises instead of giving zeros.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.autograd.engine import enable_grad, grad
from minigrad.tensor import Tensor, _wrap

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(value: Any, name: str, fn_name: str) -> tuple[bool, tuple[Tensor, ...]]:
    if isinstance(value, Tensor):
        return False, (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(v, Tensor) for v in value):
        return True, tuple(value)
    raise TypeError(
        f"{fn_name}: the {name} must be a Tensor or a tuple of Tensors, got "
        f"{type(value).__name__}"
    )


def _prepare(inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """Inputs that require grad: the same tensors under create_graph, detached copies else."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            copy = _wrap(t._data)
            if t.is_floating_point():
                copy.requires_grad_(True)
            out.append(copy)
    return tuple(out)


def _grads(outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...], grad_outputs: Any,
           create_graph: bool, strict: bool, fn_name: str, what: str = "input"
           ) -> tuple[Tensor, ...]:
    """d(outputs)/d(inputs) contracted with ``grad_outputs``; zeros for unused inputs."""
    used = [o for o in outputs if o.requires_grad]
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if used:
        result = grad([o for o, _ in pairs], list(inputs), grad_outputs=[g for _, g in pairs],
                      create_graph=True, allow_unused=True)
    else:
        result = (None,) * len(inputs)
    out = []
    for i, (t, g) in enumerate(zip(inputs, result)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"{fn_name}: the output of the user-provided function is independent of "
                    f"{what} {i}. This is not allowed in strict mode."
                )
            g = _wrap(np.zeros_like(t._data))
        out.append(g if create_graph else g.detach())
    return tuple(out)


def _call(func: Callable[..., Any], inputs: tuple[Tensor, ...], fn_name: str
          ) -> tuple[bool, tuple[Tensor, ...]]:
    with enable_grad():
        result = func(*inputs)
    return _as_tuple(result, "outputs of the user-provided function", fn_name)


def _ones_or(v: Any, like: tuple[Tensor, ...], fn_name: str, name: str) -> tuple[Tensor, ...]:
    if v is None:
        if any(t.numel() != 1 for t in like):
            raise RuntimeError(
                f"{fn_name}: the vector {name} can only be None if the user-provided function "
                "returns a single Tensor with a single element"
            )
        return tuple(_wrap(np.ones_like(t._data)) for t in like)
    _, vs = _as_tuple(v, name, fn_name)
    if len(vs) != len(like) or any(a.shape != b.shape for a, b in zip(vs, like)):
        raise RuntimeError(
            f"{fn_name}: {name} has shapes {[tuple(t.shape) for t in vs]} but it must match "
            f"{[tuple(t.shape) for t in like]}"
        )
    return vs


def _result(tensors: tuple[Tensor, ...], is_tuple: bool, create_graph: bool) -> Any:
    out = tuple(t if create_graph else t.detach() for t in tensors)
    return out if is_tuple else out[0]


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), v^T J)``: the vector-Jacobian product."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _call(func, xs, "vjp")
    vs = _ones_or(v, outs, "vjp", "v")
    g = _grads(outs, xs, vs, create_graph, strict, "vjp")
    return _result(outs, out_tuple, create_graph), _result(g, in_tuple, create_graph)


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), J v)``: the Jacobian-vector product, by the double-backward trick (the
    vjp is linear in its vector u, so differentiating it in u gives J v)."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
    xs = _prepare(xs, create_graph)
    vs = _ones_or(v, xs, "jvp", "v")
    out_tuple, outs = _call(func, xs, "jvp")
    us = tuple(_wrap(np.zeros_like(o._data)).requires_grad_(True) for o in outs)
    with enable_grad():
        g = _grads(outs, xs, us, True, strict, "jvp")
        result = grad(list(g), list(us), grad_outputs=list(vs), create_graph=create_graph,
                      allow_unused=True)
    jv = tuple(_wrap(np.zeros_like(o._data)) if r is None else r for r, o in zip(result, outs))
    if strict and any(r is None for r in result):
        raise RuntimeError("jvp: the output of the user-provided function is independent of the "
                           "inputs. This is not allowed in strict mode.")
    return _result(outs, out_tuple, create_graph), _result(jv, out_tuple, create_graph)


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False, strategy: str = "reverse-mode"
             ) -> Any:
    """The Jacobian: for output i and input j, a tensor of shape out_i.shape + in_j.shape,
    nested as PyTorch nests them (a Tensor, a tuple, or a tuple of tuples)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f'jacobian: strategy must be "reverse-mode" or "forward-mode", got '
                         f"{strategy!r}")
    in_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _call(func, xs, "jacobian")
    rows: list[list[Tensor]] = []
    for i, out in enumerate(outs):
        flat_rows: list[list[Tensor]] = [[] for _ in xs]
        for k in range(out.numel()):
            onehot = np.zeros(out._data.size, dtype=out._data.dtype)
            onehot[k] = 1
            vs = tuple(_wrap(onehot.reshape(out._data.shape)) if j == i else
                       _wrap(np.zeros_like(o._data)) for j, o in enumerate(outs))
            g = _grads(outs, xs, vs, create_graph, strict, "jacobian") if out.requires_grad \
                else _grads((), xs, (), create_graph, strict, "jacobian")
            for j, gj in enumerate(g):
                flat_rows[j].append(gj)
        from minigrad.tensor import stack

        row = []
        for j, x in enumerate(xs):
            if flat_rows[j]:
                block = stack(flat_rows[j]).reshape(tuple(out.shape) + tuple(x.shape))
            else:
                block = _wrap(np.zeros(tuple(out.shape) + tuple(x.shape), x._data.dtype))
            row.append(block if create_graph else block.detach())
        rows.append(row)
    if not out_tuple and not in_tuple:
        return rows[0][0]
    if not out_tuple:
        return tuple(rows[0])
    if not in_tuple:
        return tuple(r[0] for r in rows)
    return tuple(tuple(r) for r in rows)


def _scalar_function(func: Callable[..., Any], fn_name: str) -> Callable[..., Tensor]:
    def scalar(*xs: Tensor) -> Tensor:
        out = func(*xs)
        if isinstance(out, (tuple, list)):
            if len(out) != 1:
                raise RuntimeError(f"{fn_name}: the function must return a single Tensor")
            out = out[0]
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError(
                f"{fn_name}: the function given to {fn_name} must return a single-element Tensor"
            )
        return out.reshape(())
    return scalar


def _scalar_grad(out: Tensor, xs: tuple[Tensor, ...], strict: bool, fn_name: str
                 ) -> tuple[Tensor, ...]:
    """d(out)/d(xs) of a scalar ``out``, recorded so it can be differentiated again."""
    return _grads((out,), xs, (_wrap(np.ones((), out._data.dtype)),), True, strict, fn_name)


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    scalar = _scalar_function(func, "hessian")
    in_tuple, xs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*ys: Tensor) -> tuple[Tensor, ...]:
        with enable_grad():
            return _scalar_grad(scalar(*ys), ys, strict, "hessian")

    result = jacobian(gradient, xs, create_graph=create_graph, strict=strict)
    if not in_tuple:
        return result[0][0]
    return result


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Tensor, Any]:
    """``(func(inputs), v^T H)`` for a scalar function."""
    scalar = _scalar_function(func, "vhp")
    in_tuple, xs = _as_tuple(inputs, "inputs", "vhp")
    xs = _prepare(xs, create_graph)
    vs = _ones_or(v, xs, "vhp", "v")
    with enable_grad():
        out = scalar(*xs)
        g = _scalar_grad(out, xs, strict, "vhp")
        result = _grads(g, xs, vs, create_graph, strict, "vhp", what="input")
    return (out if create_graph else out.detach()), _result(result, in_tuple, create_graph)


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Tensor, Any]:
    """``(func(inputs), H v)`` for a scalar function (the double-backward trick, as PyTorch
    computes it; equal to ``vhp`` for a symmetric Hessian)."""
    scalar = _scalar_function(func, "hvp")
    in_tuple, xs = _as_tuple(inputs, "inputs", "hvp")
    xs = _prepare(xs, create_graph)
    vs = _ones_or(v, xs, "hvp", "v")
    with enable_grad():
        out = scalar(*xs)
        g = _scalar_grad(out, xs, strict, "hvp")
        us = tuple(_wrap(np.zeros_like(t._data)).requires_grad_(True) for t in g)
        gv = _grads(g, xs, us, True, strict, "hvp")
        result = _grads(gv, us, vs, create_graph, strict, "hvp", what="input")
    return (out if create_graph else out.detach()), _result(result, in_tuple, create_graph)
