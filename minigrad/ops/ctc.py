"""Connectionist temporal classification: the negative log-likelihood of each target sequence
under per-step label log-probabilities, by the alpha (forward) recursion in log space, and its
gradient by the beta (backward) recursion. Both are vectorised over the batch and the positions
of the blank-extended target; only the time steps are a Python loop."""

from __future__ import annotations

import numpy as np

from minigrad.autograd.engine import Context, Primitive


def _logsumexp3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """log(e^a + e^b + e^c) elementwise, -inf where all three are -inf."""
    top = np.maximum(np.maximum(a, b), c)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return safe + np.log(np.exp(a - safe) + np.exp(b - safe) + np.exp(c - safe))


def _shift_right(x: np.ndarray, by: int, fill: float) -> np.ndarray:
    """x[..., s - by] at position s (fill below ``by``), along the last axis."""
    out = np.full_like(x, fill)
    out[..., by:] = x[..., :-by]
    return out


def _shift_left(x: np.ndarray, by: int, fill: float) -> np.ndarray:
    """x[..., s + by] at position s (fill at the top ``by`` positions)."""
    out = np.full_like(x, fill)
    out[..., :-by] = x[..., by:]
    return out


class CTCNegLogLikelihood(Primitive):
    """(T, N, C) log-probabilities -> (N,) negative log-likelihoods of the padded targets
    ``labels`` (N, S) with ``input_lengths`` and ``target_lengths`` (int arrays of N).

    The gradient is PyTorch's: exp(log_probs) - (posterior occupancy of each label), the
    gradient with respect to the logits of a log_softmax that produced log_probs; zero at time
    steps past a sample's input length."""

    @staticmethod
    def forward(ctx: Context, log_probs: np.ndarray, *, labels: np.ndarray,
                input_lengths: np.ndarray, target_lengths: np.ndarray, blank: int,
                zero_infinity: bool) -> np.ndarray:
        steps, batch, _ = log_probs.shape
        positions = 2 * labels.shape[1] + 1
        extended = np.full((batch, positions), blank, dtype=np.int64)
        extended[:, 1::2] = labels
        # a label may be reached from two positions back unless it repeats the label there
        skip = np.zeros((batch, positions), dtype=bool)
        skip[:, 3::2] = labels[:, 1:] != labels[:, :-1]
        index = np.broadcast_to(extended[None], (steps, batch, positions))
        lp_ext = np.take_along_axis(log_probs, index, axis=2)  # (T, N, L)

        alpha = np.full((steps, batch, positions), -np.inf, dtype=log_probs.dtype)
        if steps:
            alpha[0, :, :2] = lp_ext[0, :, :2]
        for t in range(1, steps):
            prev = alpha[t - 1]
            two_back = np.where(skip, _shift_right(prev, 2, -np.inf), -np.inf)
            alpha[t] = lp_ext[t] + _logsumexp3(prev, _shift_right(prev, 1, -np.inf), two_back)

        ends = 2 * target_lengths
        position = np.arange(positions)[None, :]
        final = (position == ends[:, None]) | ((position == ends[:, None] - 1)
                                               & (target_lengths[:, None] > 0))
        last = np.maximum(input_lengths - 1, 0)
        at_last = alpha[last, np.arange(batch)] if steps else np.full(
            (batch, positions), -np.inf, dtype=log_probs.dtype)
        picked = np.where(final, at_last, -np.inf)
        top = picked.max(axis=1)
        safe = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            nll = -(safe + np.log(np.exp(picked - safe[:, None]).sum(axis=1)))
        empty = input_lengths == 0
        nll = np.where(empty, np.where(target_lengths == 0, -0.0, np.inf), nll)
        nll = nll.astype(log_probs.dtype)
        ctx.save_for_backward(log_probs, alpha, lp_ext, nll)
        ctx.setup = (extended, skip, final, input_lengths, zero_infinity)
        if zero_infinity:
            return np.where(nll == np.inf, 0.0, nll).astype(log_probs.dtype)
        return nll

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        log_probs, alpha, lp_ext, nll = ctx.saved
        extended, skip, final, input_lengths, zero_infinity = ctx.setup
        steps, batch, classes = log_probs.shape
        positions = extended.shape[1]
        last = input_lengths - 1
        # beta[t, s]: log-probability of emitting the rest of the target from position s at t
        beta = np.full_like(alpha, -np.inf)
        skip_from = _shift_left(skip, 2, False)  # s -> s + 2 allowed
        following = np.full((batch, positions), -np.inf, dtype=alpha.dtype)
        for t in range(steps - 1, -1, -1):
            two_ahead = np.where(skip_from, _shift_left(following, 2, -np.inf), -np.inf)
            step = lp_ext[t] + _logsumexp3(
                following, _shift_left(following, 1, -np.inf), two_ahead)
            start = np.where(final, lp_ext[t], -np.inf)
            following = np.where((t == last)[:, None], start,
                                 np.where((t < last)[:, None], step, -np.inf))
            beta[t] = following
        with np.errstate(invalid="ignore", over="ignore"):
            occupancy = np.exp(alpha + beta + nll[None, :, None] - lp_ext)  # (T, N, L)
        occupancy = np.where(np.isneginf(alpha + beta), 0.0, occupancy)
        flat = ((np.arange(steps)[:, None, None] * batch + np.arange(batch)[None, :, None])
                * classes + extended[None])
        per_class = np.bincount(flat.ravel(), weights=occupancy.ravel(),
                                minlength=steps * batch * classes)
        per_class = per_class.reshape(steps, batch, classes)
        grad_lp = np.exp(log_probs) - per_class
        inside = np.arange(steps)[:, None] < input_lengths[None, :]  # (T, N)
        impossible = nll == np.inf
        if zero_infinity:
            inside = inside & ~impossible[None, :]
        else:
            # PyTorch's -inf + inf: NaN at every class of the steps that were used
            grad_lp = np.where(impossible[None, :, None], np.nan, grad_lp)
        grad_lp = np.where(inside[:, :, None], grad_lp, 0.0)
        return (grad_lp * grad[None, :, None]).astype(log_probs.dtype, copy=False)
