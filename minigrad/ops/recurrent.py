"""Recurrent primitives: one direction of one RNN, LSTM or GRU layer over a whole sequence.

The input's contribution to the gates, ``gates_x[t] = x_t W_ih^T + b`` for every step, is one
matmul outside (the engine differentiates it); these primitives run the recurrence over time
steps on ndarrays, keep what backward needs, and backpropagate through time in one backward
call. That is a handful of graph nodes per layer instead of a dozen per time step.

Shapes: T steps, B sequences, H hidden units, P outputs per step (P = H unless an LSTM
projects to proj_size). ``mask`` (T, B) bool, when given, marks the steps each sequence has
(packed sequences of different lengths): elsewhere the state is carried over unchanged.
``reverse`` runs from the last step to the first. Gate order is PyTorch's: LSTM (i, f, g, o),
GRU (r, z, n) with ``n = tanh(gx_n + r * (h W_hn^T + b_hn))``.
"""

from __future__ import annotations

import numpy as np

from minigrad.autograd.engine import Context, Primitive
from minigrad.autograd.higher_order import recomputed_backward
from minigrad.ops.recurrent_graph import gru_layer, lstm_layer, rnn_layer


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-x) = inf gives the exact limit 0
        return 1.0 / (1.0 + np.exp(-x))


def _order(steps: int, reverse: bool) -> range:
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _previous(states: np.ndarray, initial: np.ndarray, reverse: bool) -> np.ndarray:
    """The state each step started from: (T, B, n) from the states after each step."""
    if reverse:
        return np.concatenate([states[1:], initial[None]], axis=0)
    return np.concatenate([initial[None], states[:-1]], axis=0)


def _keep(mask: np.ndarray | None, t: int, new: np.ndarray, old: np.ndarray) -> np.ndarray:
    return new if mask is None else np.where(mask[t][:, None], new, old)


def _split_grad(mask: np.ndarray | None, t: int, grad: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray | None]:
    """(the part of a state's gradient that went through step t, the part carried past it)."""
    if mask is None:
        return grad, None
    active = mask[t][:, None]
    return grad * active, grad * ~active


class RNNLayer(Primitive):
    """gates_x (T, B, H), h0 (B, H), w_hh (H, H) -> h after each step (T, B, H)."""

    @staticmethod
    def forward(ctx: Context, gates_x: np.ndarray, h0: np.ndarray, w_hh: np.ndarray,
                relu: bool, reverse: bool, mask: np.ndarray | None) -> np.ndarray:
        states = np.empty(gates_x.shape, dtype=gates_x.dtype)
        w_hh_t = np.ascontiguousarray(w_hh.T)  # a contiguous operand: a faster GEMM per step
        h = h0
        for t in _order(gates_x.shape[0], reverse):
            pre = gates_x[t] + h @ w_hh_t
            h = _keep(mask, t, np.maximum(pre, 0) if relu else np.tanh(pre), h)
            states[t] = h
        ctx.relu, ctx.reverse, ctx.mask = relu, reverse, mask
        ctx.save_for_backward(states, h0, w_hh)
        return states

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the cell equations as ops
            return recomputed_backward(ctx, grad, lambda *inputs: rnn_layer(
                *inputs, relu=ctx.relu, reverse=ctx.reverse, mask=ctx.mask))
        states, h0, w_hh = ctx.saved
        mask = ctx.mask
        grad_pre = np.zeros_like(states)
        dh_next = np.zeros_like(h0)
        for t in _order(states.shape[0], not ctx.reverse):
            dh, carried = _split_grad(mask, t, grad[t] + dh_next)
            h = states[t]
            dpre = dh * (h > 0) if ctx.relu else dh * (1 - h * h)
            grad_pre[t] = dpre
            dh_next = dpre @ w_hh if carried is None else dpre @ w_hh + carried
        previous = _previous(states, h0, ctx.reverse)
        grad_w = grad_pre.reshape(-1, grad_pre.shape[-1]).T @ previous.reshape(
            -1, previous.shape[-1])
        return grad_pre, dh_next, grad_w


class LSTMLayer(Primitive):
    """gates_x (T, B, 4H), h0 (B, P), c0 (B, H), w_hh (4H, P) [, w_hr (P, H)]
    -> (T, B, P + H): h and c after each step, side by side."""

    @staticmethod
    def forward(ctx: Context, gates_x: np.ndarray, h0: np.ndarray, c0: np.ndarray,
                w_hh: np.ndarray, *projection: np.ndarray, reverse: bool,
                mask: np.ndarray | None) -> np.ndarray:
        steps, batch, _ = gates_x.shape
        size, out_size = c0.shape[-1], h0.shape[-1]
        w_hr = projection[0] if projection else None
        dtype = gates_x.dtype
        out = np.empty((steps, batch, out_size + size), dtype=dtype)
        gates = np.empty(gates_x.shape, dtype=dtype)  # activated i, f, g, o
        tanh_c = np.empty((steps, batch, size), dtype=dtype)
        w_hh_t = np.ascontiguousarray(w_hh.T)  # a contiguous operand: a faster GEMM per step
        w_hr_t = None if w_hr is None else np.ascontiguousarray(w_hr.T)
        h, c = h0, c0
        with np.errstate(over="ignore"):  # exp(-z) = inf gives sigmoid's exact limit 0
            for t in _order(steps, reverse):
                z = gates_x[t] + h @ w_hh_t
                act = gates[t]
                np.negative(z, out=act)  # sigmoid of all four gates, then tanh for g
                np.exp(act, out=act)
                act += 1
                np.reciprocal(act, out=act)
                np.tanh(z[:, 2 * size : 3 * size], out=act[:, 2 * size : 3 * size])
                c_new = act[:, size : 2 * size] * c
                c_new += act[:, :size] * act[:, 2 * size : 3 * size]
                np.tanh(c_new, out=tanh_c[t])
                h_new = act[:, 3 * size :] * tanh_c[t]
                if w_hr_t is not None:
                    h_new = h_new @ w_hr_t
                h, c = _keep(mask, t, h_new, h), _keep(mask, t, c_new, c)
                out[t, :, :out_size] = h
                out[t, :, out_size:] = c
        ctx.reverse, ctx.mask = reverse, mask
        ctx.save_for_backward(out, gates, tanh_c, h0, c0, w_hh, w_hr)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the cell equations as ops
            return recomputed_backward(ctx, grad, lambda *inputs: lstm_layer(
                *inputs, reverse=ctx.reverse, mask=ctx.mask))
        out, gates, tanh_c, h0, c0, w_hh, w_hr = ctx.saved
        mask, reverse = ctx.mask, ctx.reverse
        steps, batch = out.shape[:2]
        out_size, size = h0.shape[-1], c0.shape[-1]
        i, f = gates[:, :, :size], gates[:, :, size : 2 * size]
        g, o = gates[:, :, 2 * size : 3 * size], gates[:, :, 3 * size :]
        previous_c = _previous(out[:, :, out_size:], c0, reverse)
        # the step-local factors of the gates' gradients, for all steps at once:
        # dz_i = dc * g i (1 - i), dz_f = dc * c_prev f (1 - f), dz_g = dc * i (1 - g²),
        # dz_o = dh * tanh(c) o (1 - o); and dc gets dh * o (1 - tanh(c)²)
        factors = np.empty((steps, batch, 4, size), dtype=gates.dtype)
        factors[:, :, 0] = g * i * (1 - i)
        factors[:, :, 1] = previous_c * f * (1 - f)
        factors[:, :, 2] = i * (1 - g * g)
        factors[:, :, 3] = tanh_c * o * (1 - o)
        dc_from_h = o * (1 - tanh_c * tanh_c)
        grad_z = np.empty_like(factors)
        grad_h_steps = np.empty((steps, batch, out_size), dtype=gates.dtype) if (
            w_hr is not None) else None
        flat_size = 4 * size
        dh_next = np.zeros_like(h0)
        dc_next = np.zeros_like(c0)
        for t in _order(steps, not reverse):
            dh, carried_h = _split_grad(mask, t, grad[t, :, :out_size] + dh_next)
            dc, carried_c = _split_grad(mask, t, grad[t, :, out_size:] + dc_next)
            if grad_h_steps is not None:
                grad_h_steps[t] = dh
                dh = dh @ w_hr
            dc += dh * dc_from_h[t]
            np.multiply(dc[:, None, :], factors[t, :, :3], out=grad_z[t, :, :3])
            np.multiply(dh, factors[t, :, 3], out=grad_z[t, :, 3])
            dh_next = grad_z[t].reshape(batch, flat_size) @ w_hh
            dc_next = dc * f[t]
            if carried_h is not None:
                dh_next += carried_h
                dc_next += carried_c
        grad_z = grad_z.reshape(steps, batch, flat_size)
        previous_h = _previous(out[:, :, :out_size], h0, reverse)
        grad_w_hh = grad_z.reshape(-1, flat_size).T @ previous_h.reshape(-1, out_size)
        grads = [grad_z, dh_next, dc_next, grad_w_hh]
        if grad_h_steps is not None:  # projected (w_hr given)
            hidden = (o * tanh_c).reshape(-1, size)  # the step outputs before projection
            grads.append(grad_h_steps.reshape(-1, out_size).T @ hidden)
        return tuple(grads)


class GRULayer(Primitive):
    """gates_x (T, B, 3H), h0 (B, H), w_hh (3H, H) [, b_hh (3H,)] -> h after each step."""

    @staticmethod
    def forward(ctx: Context, gates_x: np.ndarray, h0: np.ndarray, w_hh: np.ndarray,
                *bias: np.ndarray, reverse: bool, mask: np.ndarray | None) -> np.ndarray:
        steps = gates_x.shape[0]
        size = h0.shape[-1]
        states = np.empty(gates_x.shape[:2] + (size,), dtype=gates_x.dtype)
        # sigmoid(r), sigmoid(z), tanh(n) and h W_hn^T + b_hn, per step
        saved = np.empty(gates_x.shape[:2] + (4 * size,), dtype=gates_x.dtype)
        w_hh_t = np.ascontiguousarray(w_hh.T)  # a contiguous operand: a faster GEMM per step
        h = h0
        for t in _order(steps, reverse):
            gh = h @ w_hh_t
            if bias:
                gh = gh + bias[0]
            step = saved[t]
            step[:, : 2 * size] = _sigmoid(gates_x[t, :, : 2 * size] + gh[:, : 2 * size])
            step[:, 3 * size :] = gh[:, 2 * size :]
            step[:, 2 * size : 3 * size] = np.tanh(gates_x[t, :, 2 * size :]
                                                   + step[:, :size] * gh[:, 2 * size :])
            n, z = step[:, 2 * size : 3 * size], step[:, size : 2 * size]
            h = _keep(mask, t, n + z * (h - n), h)
            states[t] = h
        ctx.reverse, ctx.mask, ctx.has_bias = reverse, mask, bool(bias)
        ctx.save_for_backward(states, saved, h0, w_hh)
        return states

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        if not isinstance(grad, np.ndarray):  # create_graph=True: the cell equations as ops
            return recomputed_backward(ctx, grad, lambda *inputs: gru_layer(
                *inputs, reverse=ctx.reverse, mask=ctx.mask))
        states, saved, h0, w_hh = ctx.saved
        mask, reverse = ctx.mask, ctx.reverse
        size = h0.shape[-1]
        previous = _previous(states, h0, reverse)
        grad_x = np.empty(states.shape[:2] + (3 * size,), dtype=states.dtype)
        grad_h = np.empty_like(grad_x)
        dh_next = np.zeros_like(h0)
        for t in _order(states.shape[0], not reverse):
            dh, carried = _split_grad(mask, t, grad[t] + dh_next)
            r, z = saved[t, :, :size], saved[t, :, size : 2 * size]
            n, gh_n = saved[t, :, 2 * size : 3 * size], saved[t, :, 3 * size :]
            dn = dh * (1 - z) * (1 - n * n)
            dr = dn * gh_n * r * (1 - r)
            dz = dh * (previous[t] - n) * z * (1 - z)
            grad_x[t, :, :size], grad_x[t, :, size : 2 * size] = dr, dz
            grad_x[t, :, 2 * size :] = dn
            grad_h[t, :, : 2 * size] = grad_x[t, :, : 2 * size]
            grad_h[t, :, 2 * size :] = dn * r
            dh_next = grad_h[t] @ w_hh + dh * z
            if carried is not None:
                dh_next += carried
        flat = grad_h.reshape(-1, 3 * size)
        grads = [grad_x, dh_next, flat.T @ previous.reshape(-1, size)]
        if ctx.has_bias:
            grads.append(flat.sum(axis=0))
        return tuple(grads)
