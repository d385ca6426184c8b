"""Numerical gradient checking in float64, like ``torch.autograd.gradcheck``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad.autograd import grad, no_grad
from minigrad.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when analytical and numerical gradients disagree."""


def _outputs(result: Any) -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    return [r for r in result if isinstance(r, Tensor) and r.is_floating_point()]


def gradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Compare backward with central differences for every input that requires grad.

    The outputs are contracted with a fixed random vector v, so the check compares v^T J
    (one backward) with the finite differences of v . f(x) for every input element: a wrong
    Jacobian entry is caught unless it cancels exactly against v, which has probability zero.
    Inputs that require grad must be float64.

    Example::

        >>> import minigrad as mg
        >>> x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
        >>> mg.gradcheck(lambda t: (t * t.sin()).sum(), (x,))
        True
    """
    args = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass tensors with requires_grad=True")
    for t in checked:
        if t.dtype != np.float64:
            raise TypeError(
                f"gradcheck: inputs must be float64 for a meaningful check, got {t.dtype} for an "
                f"input of shape {t.shape}; use x.double()"
            )
    outputs = _outputs(fn(*args))
    rng = np.random.default_rng(seed)
    projections = [rng.standard_normal(o.shape) for o in outputs]

    def projected() -> float:
        with no_grad():
            outs = _outputs(fn(*args))
        return float(sum(np.sum(o._data * v) for o, v in zip(outs, projections)))

    active = [(o, v) for o, v in zip(outputs, projections) if o.requires_grad]
    if active:
        analytic = grad(
            [o for o, _ in active],
            checked,
            grad_outputs=[Tensor(v) for _, v in active],
            allow_unused=True,
        )
    else:
        analytic = (None,) * len(checked)

    worst: tuple[float, str] = (-1.0, "")
    ok = True
    for i, (t, g) in enumerate(zip(checked, analytic)):
        analytic_grad = np.zeros(t.shape) if g is None else g._data
        numeric = np.zeros(t.shape)
        flat = t._data.reshape(-1)
        if flat.size and not np.shares_memory(flat, t._data):  # empty arrays share nothing
            raise ValueError("gradcheck: inputs must be contiguous arrays")
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + eps
            plus = projected()
            flat[k] = original - eps
            minus = projected()
            flat[k] = original
            numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        error = np.abs(analytic_grad - numeric)
        bound = atol + rtol * np.abs(numeric)
        excess = error - bound
        if excess.size and excess.max() > worst[0]:
            k = int(np.argmax(excess))
            index = np.unravel_index(k, t.shape) if t.shape else ()
            worst = (
                float(excess.max()),
                f"input {i} (shape {t.shape}) element {tuple(int(j) for j in index)}: "
                f"analytical {analytic_grad.reshape(-1)[k]:.8g}, numerical "
                f"{numeric.reshape(-1)[k]:.8g}, |difference| {error.reshape(-1)[k]:.3g} > "
                f"atol + rtol*|numerical| = {bound.reshape(-1)[k]:.3g}",
            )
        if np.any(excess > 0) or not np.all(np.isfinite(analytic_grad)):
            ok = False
    if not ok and raise_exception:
        raise GradcheckError("gradcheck: backward disagrees with finite differences; worst at "
                             + worst[1])
    return ok


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Tensor | Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check second derivatives: the gradient of ``fn`` (taken with ``create_graph=True``) is
    itself checked against central differences, with respect to the inputs and to the
    ``grad_outputs`` (random float64 tensors when not given), as ``torch.autograd.gradgradcheck``.
    """
    from minigrad.autograd import enable_grad

    args = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradgradcheck: no input requires grad; pass tensors with "
                         "requires_grad=True")
    with enable_grad():
        outputs = _outputs(fn(*args))
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        vs = [Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outputs]
    else:
        vs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    n_args = len(args)

    def first_derivatives(*values: Any) -> tuple[Tensor, ...]:
        xs, v = list(values[:n_args]), list(values[n_args:])
        with enable_grad():
            outs = _outputs(fn(*xs))
            wanted = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
            pairs = [(o, g) for o, g in zip(outs, v) if o.requires_grad]
            grads = grad([o for o, _ in pairs], wanted, grad_outputs=[g for _, g in pairs],
                         create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, [*args, *vs], eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, seed=seed)
