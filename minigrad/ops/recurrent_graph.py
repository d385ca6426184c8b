"""The recurrent layers written from differentiable ops, for ``create_graph=True``.

``recurrent.py`` runs each layer's recurrence on ndarrays and backpropagates through time in
one hand-written backward, which is fast but first-order only. Under ``create_graph=True`` its
backward hands over to these: the same cell equations, one step at a time on Tensors, whose
gradients (``minigrad.autograd.higher_order.recomputed_backward``) are recorded and so can be
differentiated again. Shapes, gate order, ``reverse`` and ``mask`` are those of
``recurrent.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _order(steps: int, reverse: bool) -> range:
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _keep(mask: np.ndarray | None, t: int, new: Any, old: Any) -> Any:
    """The new state where step t belongs to the sequence, the old one elsewhere."""
    from minigrad.tensor import where

    return new if mask is None else where(mask[t][:, None], new, old)


def rnn_layer(gates_x: Any, h0: Any, w_hh: Any, relu: bool, reverse: bool,
              mask: np.ndarray | None) -> Any:
    """gates_x (T, B, H), h0 (B, H), w_hh (H, H) -> h after each step (T, B, H)."""
    from minigrad.tensor import stack

    w_hh_t = w_hh.t()
    h = h0
    states: list[Any] = [None] * gates_x.shape[0]
    for t in _order(gates_x.shape[0], reverse):
        pre = gates_x[t] + h @ w_hh_t
        h = _keep(mask, t, pre.relu() if relu else pre.tanh(), h)
        states[t] = h
    return stack(states, 0)


def lstm_layer(gates_x: Any, h0: Any, c0: Any, w_hh: Any, *projection: Any, reverse: bool,
               mask: np.ndarray | None) -> Any:
    """gates_x (T, B, 4H), h0 (B, P), c0 (B, H), w_hh (4H, P) [, w_hr (P, H)]
    -> (T, B, P + H): h and c after each step, side by side."""
    from minigrad.tensor import cat, stack

    size = c0.shape[-1]
    w_hh_t = w_hh.t()
    w_hr_t = projection[0].t() if projection else None
    h, c = h0, c0
    steps: list[Any] = [None] * gates_x.shape[0]
    for t in _order(gates_x.shape[0], reverse):
        z = gates_x[t] + h @ w_hh_t
        input_forget = z[:, : 2 * size].sigmoid()
        cell = z[:, 2 * size : 3 * size].tanh()
        output = z[:, 3 * size :].sigmoid()
        c_new = input_forget[:, size:] * c + input_forget[:, :size] * cell
        h_new = output * c_new.tanh()
        if w_hr_t is not None:
            h_new = h_new @ w_hr_t
        h, c = _keep(mask, t, h_new, h), _keep(mask, t, c_new, c)
        steps[t] = cat([h, c], -1)
    return stack(steps, 0)


def gru_layer(gates_x: Any, h0: Any, w_hh: Any, *bias: Any, reverse: bool,
              mask: np.ndarray | None) -> Any:
    """gates_x (T, B, 3H), h0 (B, H), w_hh (3H, H) [, b_hh (3H,)] -> h after each step."""
    from minigrad.tensor import stack

    size = h0.shape[-1]
    w_hh_t = w_hh.t()
    h = h0
    states: list[Any] = [None] * gates_x.shape[0]
    for t in _order(gates_x.shape[0], reverse):
        gh = h @ w_hh_t
        if bias:
            gh = gh + bias[0]
        reset_update = (gates_x[t, :, : 2 * size] + gh[:, : 2 * size]).sigmoid()
        reset, update = reset_update[:, :size], reset_update[:, size:]
        new = (gates_x[t, :, 2 * size :] + reset * gh[:, 2 * size :]).tanh()
        h = _keep(mask, t, new + update * (h - new), h)
        states[t] = h
    return stack(states, 0)
