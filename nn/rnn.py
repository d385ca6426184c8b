"""Recurrent layers: RNN, LSTM, GRU and their cells, with PyTorch's parameter names, shapes,
gate order and initialisation, so a PyTorch state_dict loads by name.

Gate order: LSTM (input, forget, cell, output); GRU (reset, update, new) with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``. Each time step is a handful of Tensor
operations (the gradient comes from theirs); the only Python loops are over time steps,
layers and directions. A sequence is handled as a list of per-step ``(B, features)`` tensors
from the first layer to the last, so that backward never scatters into a whole sequence per step.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

import minigrad.functional as F
from minigrad.errors import OpError
from minigrad.ops.recurrent import GRULayer, LSTMLayer, RNNLayer
from minigrad.ops.recurrent_graph import gru_step as _gru_step
from minigrad.ops.recurrent_graph import lstm_step as _lstm_step
from minigrad.ops.recurrent_graph import rnn_step as _rnn_step
from minigrad.tensor import Tensor, _wrap, cat, stack
from nn import init
from nn.conv import factory_dtype
from nn.module import Module
from nn.parameter import Parameter
from nn.utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ------------------------------------------------------------------------------ one time step
# ``gi`` is the input's contribution x_t W_ih^T + b_ih (+ b_hh where it simply adds); the step
# functions (the cell equations) live in minigrad.ops.recurrent_graph, which also uses them
# for the layers' second derivatives.


def _input_bias(mode: str, b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor | None:
    """The bias added to x W_ih^T: b_ih + b_hh, except GRU's b_hh, which sits inside r * (.)."""
    if b_ih is None:
        return None
    return b_ih if mode == "GRU" else b_ih + b_hh


def _project(x: Tensor, w_ih_t: Tensor, bias: Tensor | None) -> Tensor:
    out = x @ w_ih_t
    return out if bias is None else out + bias


# ------------------------------------------------------------------------------ layers


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU (PyTorch's RNNBase)."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of "
                "an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}", stacklevel=2)
        for name, value in (("hidden_size", hidden_size), ("num_layers", num_layers),
                            ("input_size", input_size)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        dtype = factory_dtype(self._label, device, dtype)
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = "_reverse" if direction == 1 else ""
                shapes: list[tuple[str, tuple[int, ...]]] = [
                    ("weight_ih", (gate_size, layer_input)),
                    ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for base, shape in shapes:
                    name = f"{base}_l{layer}{suffix}"
                    setattr(self, name, Parameter(np.empty(shape, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters per layer and direction: ``[[w_ih, w_hh, b_ih, b_hh], ...]``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _flat_weights(self) -> list[Parameter]:
        return [getattr(self, name) for name in self._flat_weights_names]

    def flatten_parameters(self) -> None:
        """Nothing to do on the CPU (PyTorch compacts weights for cuDNN here)."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ forward

    @property
    def _label(self) -> str:
        return "RNN" if self.mode.startswith("RNN") else self.mode

    def _check_input(self, input: Tensor) -> None:
        if input.ndim not in (2, 3):
            raise ValueError(
                f"{self._label}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead"
            )
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                f"Convert input: input.to({weight.dtype}), or convert model: "
                f"model.to({input.dtype})"
            )
        if input.shape[-1] != self.input_size:
            raise OpError(
                f"{self._label}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {input.shape[-1]}"
            )

    def _state(self, state: Tensor | None, batched: bool, batch: int, size: int,
               dtype: npt.DTypeLike, which: str) -> Tensor:
        """The initial state as (layers * directions, batch, size), zeros when not given."""
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, batch, size)
        if state is None:
            return _wrap(np.zeros(expected, dtype=dtype))
        label = "hx" if which == "" else ("hx" if which == "[0]" else "cx")
        if batched and state.ndim != 3:
            raise OpError(f"For batched 3-D input, {label} should also be 3-D but got "
                          f"{state.ndim}-D tensor")
        if not batched:
            if state.ndim != 2:
                raise OpError(f"For unbatched 2-D input, {label} should also be 2-D but got "
                              f"{state.ndim}-D tensor")
            state = state.unsqueeze(1)
        if state.shape != expected:
            raise OpError(
                f"Expected hidden{which} size {expected}, got {list(state.shape)}"
            )
        return state

    def _packed_input(self, input: PackedSequence) -> tuple[Tensor, np.ndarray]:
        """The packed steps as a padded (T, B, I) batch in sorted order, and the (T, B) mask
        of the steps each sequence has."""
        data, batch_sizes = input.data, np.asarray(input.batch_sizes._data).astype(np.int64)
        if data.ndim != 2:
            raise OpError(f"{self._label}: input must have 2 dimensions, got {data.ndim}")
        self._check_input(data)
        batch = int(batch_sizes[0]) if batch_sizes.size else 0
        mask = np.arange(batch)[None, :] < batch_sizes[:, None]
        rows = np.full(mask.shape, data.shape[0], dtype=np.int64)
        rows[mask] = np.arange(int(mask.sum()))
        padding = _wrap(np.zeros((1, data.shape[1]), dtype=data.dtype))
        return cat([data, padding], 0)[rows], mask

    def _run(self, x: Tensor, h0: Tensor, c0: Tensor | None, mask: np.ndarray | None
             ) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """All layers over time-major ``x`` (T, B, I): the last layer's outputs (T, B, D * P)
        and the final h (and c) of each (layer, direction)."""
        directions = 2 if self.bidirectional else 1
        out_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        h_n: list[Tensor] = []
        c_n: list[Tensor] = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                weights = [getattr(self, name) for name in self._all_weights[index]]
                w_ih, w_hh = weights[0], weights[1]
                b_ih, b_hh = (weights[2], weights[3]) if self.bias else (None, None)
                gates_x = _project(x, w_ih.t(), _input_bias(self.mode, b_ih, b_hh))
                reverse = direction == 1
                last = 0 if reverse else x.shape[0] - 1
                if self.mode == "LSTM":
                    assert c0 is not None  # forward gives an LSTM its cell state
                    projection = (weights[-1],) if self.proj_size > 0 else ()
                    both = LSTMLayer.apply(gates_x, h0[index], c0[index], w_hh, *projection,
                                           reverse=reverse, mask=mask)
                    outputs.append(both[:, :, :out_size])
                    h_n.append(both[last, :, :out_size])
                    c_n.append(both[last, :, out_size:])
                    continue
                if self.mode == "GRU":
                    bias = (b_hh,) if b_hh is not None else ()
                    states = GRULayer.apply(gates_x, h0[index], w_hh, *bias, reverse=reverse,
                                            mask=mask)
                else:
                    states = RNNLayer.apply(gates_x, h0[index], w_hh,
                                            relu=self.mode == "RNN_RELU", reverse=reverse,
                                            mask=mask)
                outputs.append(states)
                h_n.append(states[last])
            x = outputs[0] if directions == 1 else cat(outputs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, h_n, c_n

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> Any:
        packed = input if isinstance(input, PackedSequence) else None
        mask: np.ndarray | None
        if isinstance(input, PackedSequence):
            x, mask = self._packed_input(input)
            batched = True
        else:
            self._check_input(input)
            batched = input.ndim == 3
            if not batched:
                x = input.unsqueeze(1)
            else:
                x = input.transpose(0, 1) if self.batch_first else input
            mask = None
        steps, batch = x.shape[0], x.shape[1]
        if steps == 0:
            raise OpError(f"{self._label}: the input has no time steps")
        sorted_indices = packed.sorted_indices if packed is not None else None
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if self.mode == "LSTM":
            if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0) of two tensors")
            h0 = self._state(None if hx is None else hx[0], batched, batch, real_hidden,
                             x.dtype, "[0]")
            c0 = self._state(None if hx is None else hx[1], batched, batch, self.hidden_size,
                             x.dtype, "[1]")
        else:
            if isinstance(hx, (tuple, list)):
                raise TypeError(f"{self._label}: hx must be a single tensor, not a tuple")
            h0 = self._state(hx, batched, batch, real_hidden, x.dtype, "")
            c0 = None
        if sorted_indices is not None and hx is not None:  # hx is in the caller's batch order
            order = np.asarray(sorted_indices._data)
            h0 = h0[:, order]
            c0 = None if c0 is None else c0[:, order]
        output, h_n, c_n = self._run(x, h0, c0, mask)
        h = stack(h_n, 0)
        c = stack(c_n, 0) if c_n else None
        if packed is not None:
            assert mask is not None  # a packed input gives a mask
            data = output.reshape(steps * batch, -1)[np.flatnonzero(mask)]
            packed_output = PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                                           packed.unsorted_indices)
            if packed.unsorted_indices is not None:
                order = np.asarray(packed.unsorted_indices._data)
                h = h[:, order]
                c = None if c is None else c[:, order]
            return (packed_output, h) if self.mode != "LSTM" else (packed_output, (h, c))
        if not batched:
            output, h = output.squeeze(1), h.squeeze(1)
            c = None if c is None else c.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, h) if self.mode != "LSTM" else (output, (h, c))


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``; returns ``(output, h_n)``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.__dict__["nonlinearity"] = args[3]
            args = args[:3] + args[4:]
        else:
            self.__dict__["nonlinearity"] = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory; returns ``(output, (h_n, c_n))``. With ``proj_size > 0`` the
    hidden state is projected by ``weight_hr_l{k}`` (proj_size, hidden_size)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit; returns ``(output, h_n)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ------------------------------------------------------------------------------ cells


class RNNCellBase(Module):
    """Parameters ``weight_ih`` (G*H, I), ``weight_hh`` (G*H, H), ``bias_ih``, ``bias_hh``."""

    _mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        dtype = factory_dtype(type(self).__name__, device, dtype)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(np.empty((num_chunks * hidden_size, input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((num_chunks * hidden_size, hidden_size),
                                            dtype=dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(np.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise the parameters again, as the constructor does (PyTorch's scheme)."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _prepare(self, input: Tensor, states: list[Tensor | None]
                 ) -> tuple[Tensor, list[Tensor], bool]:
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise OpError(
                f"{name}: input has inconsistent input_size: got {input.shape[-1]} expected "
                f"{self.input_size}"
            )
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        prepared = []
        for i, state in enumerate(states):
            if state is None:
                prepared.append(_wrap(np.zeros((x.shape[0], self.hidden_size),
                                               dtype=input.dtype)))
                continue
            if state.ndim not in (1, 2):
                label = "hx" if len(states) == 1 else f"hx[{i}]"
                raise ValueError(
                    f"{name}: Expected {label} to be 1D or 2D, got {state.ndim}D instead")
            state = state if batched else state.unsqueeze(0)
            if state.shape != (x.shape[0], self.hidden_size):
                raise OpError(
                    f"{name}: hidden state of shape {state.shape} does not match the expected "
                    f"{(x.shape[0], self.hidden_size)}"
                )
            prepared.append(state)
        return x, prepared, batched

    def _input_gates(self, x: Tensor) -> Tensor:
        return _project(x, self.weight_ih.t(), _input_bias(self._mode, self.bias_ih,
                                                            self.bias_hh))


class RNNCell(RNNCellBase):
    """One Elman RNN step: ``(B, I), (B, H) -> (B, H)`` (or unbatched ``(I,), (H,)``)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity
        self._mode = "RNN_RELU" if nonlinearity == "relu" else "RNN_TANH"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), batched = self._prepare(input, [hx])
        out = _rnn_step(self._input_gates(x), h, self.weight_hh.t(), self.nonlinearity == "relu")
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``(B, I), ((B, H), (B, H)) -> (h', c')``."""

    _mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, Tensor]:
        states: list[Tensor | None] = [None, None] if hx is None else list(hx)
        x, (h, c), batched = self._prepare(input, states)
        h, c = _lstm_step(self._input_gates(x), h, c, self.weight_hh.t(), None)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: ``(B, I), (B, H) -> (B, H)``."""

    _mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), batched = self._prepare(input, [hx])
        out = _gru_step(self._input_gates(x), h, self.weight_hh.t(), self.bias_hh)
        return out if batched else out.squeeze(0)
