"""Optimizer: parameter groups, per-parameter state, zero_grad and state_dict.

Subclasses implement ``step``. Updates work on the parameters' NumPy arrays in place, so they
record no graph and never replace a parameter's array; each update bumps the parameter's
version counter, as an in-place op would.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from minigrad.autograd import enable_grad
from minigrad.tensor import Tensor


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class: ``param_groups`` (dicts with ``'params'`` and hyperparameters) and
    ``state`` (a dict from parameter to its optimizer state)."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                "got a Tensor; pass model.parameters() or [tensor]"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones: defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(
                    f"{type(self).__name__} can only optimize Tensors, got {type(param).__name__}"
                )
            if param._node is not None:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"{type(self).__name__}: parameter group didn't specify a value of "
                    f"required optimization parameter {name}"
                )
            group.setdefault(name, default)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or existing & {id(p) for p in params}:
            raise ValueError(
                f"{type(self).__name__}: some parameters appear more than once (in one group "
                "or in several); pass each parameter once"
            )
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset gradients: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    param.grad._data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        raise NotImplementedError

    def _closure_loss(self, closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ----------------------------------------------------------------------- state dict

    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}``.

        Parameters are referred to by their position across groups, as in PyTorch; the state
        tensors are the live ones (save them or deep-copy the dict to keep a snapshot).
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            indices = []
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
                indices.append(index_of[id(param)])
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = indices
            groups.append(packed)
        state = {
            index_of[id(param)]: param_state
            for param, param_state in self.state.items()
            if id(param) in index_of
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by ``state_dict`` (copies, cast to the
        parameters' dtypes)."""
        try:
            saved_groups = state_dict["param_groups"]
            saved_state = state_dict["state"]
        except (KeyError, TypeError):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: expected a dict with 'state' and "
                "'param_groups', as returned by Optimizer.state_dict()"
            ) from None
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: loaded state dict has "
                f"{len(saved_groups)} parameter groups, the optimizer has {len(self.param_groups)}"
            )
        for position, (group, saved) in enumerate(
            zip(self.param_groups, saved_groups, strict=True)
        ):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: parameter group {position} has "
                    f"{len(saved['params'])} parameters in the state dict but "
                    f"{len(group['params'])} in the optimizer"
                )
        param_of: dict[int, Tensor] = {}
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            for index, param in zip(saved["params"], group["params"], strict=True):
                param_of[int(index)] = param
        new_state: dict[Tensor, dict[str, Any]] = {}
        for index, param_state in saved_state.items():
            param = param_of.get(int(index))
            if param is None:
                continue
            new_state[param] = {
                key: self._cast_state(param, key, value) for key, value in param_state.items()
            }
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            for key, value in saved.items():
                if key != "params":
                    group[key] = copy.deepcopy(value)
        self.state = new_state

    @staticmethod
    def _cast_state(param: Tensor, key: str, value: Any) -> Any:
        if isinstance(value, Tensor):
            array = value._data
            if key != "step" and array.dtype.kind == "f":
                array = array.astype(param._data.dtype)
            if key != "step" and array.shape != param._data.shape:
                raise ValueError(
                    f"Optimizer.load_state_dict: state '{key}' has shape {array.shape} but its "
                    f"parameter has shape {param._data.shape}"
                )
            return Tensor(np.array(array, copy=True))
        return copy.deepcopy(value)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for position, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {position}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _bump_version(param: Tensor) -> None:
    param._version.value += 1
