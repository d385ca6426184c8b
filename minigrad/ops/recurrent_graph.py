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


# ``gi`` is the input's contribution to the gates at one step, x_t W_ih^T + b (the cells of
# ``nn`` call these steps too, so the cell equations are written once)


def rnn_step(gi: Any, h: Any, w_hh_t: Any, relu: bool) -> Any:
    """One Elman step: act(gi + h W_hh^T)."""
    pre = gi + h @ w_hh_t
    return pre.relu() if relu else pre.tanh()


def lstm_step(gi: Any, h: Any, c: Any, w_hh_t: Any, w_hr_t: Any | None) -> tuple[Any, Any]:
    """One LSTM step (gates i, f, g, o): the new (h, c), h projected by W_hr^T if given."""
    gates = gi + h @ w_hh_t
    size = c.shape[-1]
    input_forget = gates[:, : 2 * size].sigmoid()
    cell = gates[:, 2 * size : 3 * size].tanh()
    output = gates[:, 3 * size :].sigmoid()
    c = input_forget[:, size:] * c + input_forget[:, :size] * cell
    h = output * c.tanh()
    return (h if w_hr_t is None else h @ w_hr_t), c


def gru_step(gi: Any, h: Any, w_hh_t: Any, b_hh: Any | None) -> Any:
    """One GRU step (gates r, z, n) with n = tanh(gi_n + r * (h W_hn^T + b_hn))."""
    gh = h @ w_hh_t
    if b_hh is not None:
        gh = gh + b_hh
    size = h.shape[-1]
    reset_update = (gi[:, : 2 * size] + gh[:, : 2 * size]).sigmoid()
    new = (gi[:, 2 * size :] + reset_update[:, :size] * gh[:, 2 * size :]).tanh()
    update = reset_update[:, size:]
    return new + update * (h - new)


def rnn_layer(gates_x: Any, h0: Any, w_hh: Any, relu: bool, reverse: bool,
              mask: np.ndarray | None) -> Any:
    """gates_x (T, B, H), h0 (B, H), w_hh (H, H) -> h after each step (T, B, H)."""
    from minigrad.tensor import stack

    w_hh_t = w_hh.t()
    h = h0
    states: list[Any] = [None] * gates_x.shape[0]
    for t in _order(gates_x.shape[0], reverse):
        h = _keep(mask, t, rnn_step(gates_x[t], h, w_hh_t, relu), h)
        states[t] = h
    return stack(states, 0)


def lstm_layer(gates_x: Any, h0: Any, c0: Any, w_hh: Any, *projection: Any, reverse: bool,
               mask: np.ndarray | None) -> Any:
    """gates_x (T, B, 4H), h0 (B, P), c0 (B, H), w_hh (4H, P) [, w_hr (P, H)]
    -> (T, B, P + H): h and c after each step, side by side."""
    from minigrad.tensor import cat, stack

    w_hh_t = w_hh.t()
    w_hr_t = projection[0].t() if projection else None
    h, c = h0, c0
    steps: list[Any] = [None] * gates_x.shape[0]
    for t in _order(gates_x.shape[0], reverse):
        h_new, c_new = lstm_step(gates_x[t], h, c, w_hh_t, w_hr_t)
        h, c = _keep(mask, t, h_new, h), _keep(mask, t, c_new, c)
        steps[t] = cat([h, c], -1)
    return stack(steps, 0)


def gru_layer(gates_x: Any, h0: Any, w_hh: Any, *bias: Any, reverse: bool,
              mask: np.ndarray | None) -> Any:
    """gates_x (T, B, 3H), h0 (B, H), w_hh (3H, H) [, b_hh (3H,)] -> h after each step."""
    from minigrad.tensor import stack

    w_hh_t = w_hh.t()
    b_hh = bias[0] if bias else None
    h = h0
    states: list[Any] = [None] * gates_x.shape[0]
    for t in _order(gates_x.shape[0], reverse):
        h = _keep(mask, t, gru_step(gates_x[t], h, w_hh_t, b_hh), h)
        states[t] = h
    return stack(states, 0)
