"""Optimizer: parameter groups, per-parameter state, zero_grad, state_dict and validation.

A subclass declares its defaults (validated with the ``_check_*`` helpers) and writes its update
rule in ``_update(p, grad, state, group)`` on NumPy arrays; the base class walks the groups,
skips parameters without a gradient, applies ``maximize``, creates state lazily through
``_init_state`` and bumps each updated parameter's version counter, as an in-place op would.
Updates change the parameters' arrays in place, so they record no graph and never replace an
array. LBFGS, which needs a closure and global state, overrides ``step`` instead.
"""

from __future__ import annotations

import copy
import importlib
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, cast

import numpy as np

from minigrad.autograd import enable_grad
from minigrad.tensor import Tensor

# The module itself: the package attribute ``minigrad.tensor`` is the factory function.
_tensor_module = importlib.import_module("minigrad.tensor")

# PyTorch's performance switches: accepted so that its scripts run, recorded in the parameter
# groups as PyTorch records them, and otherwise ignored (every update here is one NumPy pass
# per parameter, and no update is differentiable).
IGNORED_OPTIONS = ("foreach", "capturable", "differentiable", "fused")


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class InvalidHyperparameterError(ValueError, TypeError):
    """A hyperparameter that is not a number: both ValueError (as minigrad reports every bad
    hyperparameter) and TypeError (what PyTorch raises when it compares a non-number)."""


class Optimizer:
    """Base class: ``param_groups`` (dicts with ``'params'`` and hyperparameters) and
    ``state`` (a dict from parameter to its optimizer state)."""

    # State entries that are not shaped like their parameter (LBFGS keeps flat vectors).
    _unshaped_state: frozenset[str] = frozenset()

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        # As in PyTorch, looking up a parameter without state gives (and stores) an empty dict.
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
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
        """Add a group of parameters with its own hyperparameters (missing ones: defaults).

        ``params`` may hold Tensors or ``(name, Tensor)`` pairs, as ``named_parameters()``
        yields; the names are kept in the group's ``'param_names'``.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: param_group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry")
        params = param_group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: optimizer parameters need to be organized in ordered collections, but "
                "the ordering of tensors in sets will change between runs; use a list instead"
            )
        params = [params] if isinstance(params, Tensor) else list(params)
        names = [entry[0] for entry in params if isinstance(entry, tuple)]
        params = [entry[1] if isinstance(entry, tuple) else entry for entry in params]
        if names and len(names) != len(params):
            raise ValueError(
                f"{name}: all optimizer params should be with or without names; some param "
                "names are missing"
            )
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, got {type(param).__name__}")
            if param._node is not None:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        if names:
            group["param_names"] = names
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(
                    f"{name}: parameter group didn't specify a value of required optimization "
                    f"parameter {key}"
                )
            group.setdefault(key, default)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or existing & {id(p) for p in params}:
            raise ValueError(
                f"{name}: some parameters appear more than once (in one group or in several); "
                "pass each parameter once"
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

    # ------------------------------------------------------------------------------ step

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad._data
                if grad.shape != param._data.shape:
                    raise RuntimeError(
                        f"{type(self).__name__}.step: a gradient has shape {grad.shape} but "
                        f"its parameter has shape {param._data.shape}"
                    )
                if group.get("maximize", False):
                    grad = -grad
                state = self.state.get(param) or {}
                if not state:
                    self._init_state(state, param._data, group)
                self._update(param._data, grad, state, group)
                if state:
                    self.state[param] = state
                _bump_version(param)
        return loss

    def _init_state(self, state: dict[str, Any], p: np.ndarray, group: dict[str, Any]) -> None:
        """Fill a parameter's empty state before its first update."""

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Update ``p`` in place from ``grad`` (already negated under ``maximize``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement its update")

    def _closure_loss(self, closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ----------------------------------------------------------------- validation helpers

    def _number(self, what: str, value: Any) -> float:
        """``value`` as a float; a one-element Tensor is read out, anything else raises."""
        if isinstance(value, Tensor):
            if value._data.size != 1:
                raise ValueError(f"{type(self).__name__}: Tensor {what} must be 1-element")
            return float(value._data.reshape(()))
        if not isinstance(value, numbers.Real):
            raise InvalidHyperparameterError(
                f"{type(self).__name__}: invalid {what}: {value!r} is not a number"
            )
        return cast(float, value)  # an int or a float, kept as given

    def _check_at_least(self, what: str, value: Any, low: float = 0.0) -> Any:
        """Reject non-numbers, NaN and values below ``low``: ``invalid <what>: <value>``."""
        number = self._number(what, value)
        if not low <= number:
            raise ValueError(f"{type(self).__name__}: invalid {what}: {value}")
        return number if isinstance(value, Tensor) else value

    def _check_interval(
        self, what: str, value: Any, low: float, high: float, *, include_high: bool
    ) -> Any:
        """Reject non-numbers, NaN and values outside ``[low, high)`` (or ``[low, high]``)."""
        number = self._number(what, value)
        inside = low <= number <= high if include_high else low <= number < high
        if not inside:
            raise ValueError(f"{type(self).__name__}: invalid {what}: {value}")
        return number if isinstance(value, Tensor) else value

    def _check_betas(self, betas: Any) -> tuple[float, float]:
        """Two numbers in ``[0, 1)``, as PyTorch's ``invalid beta parameter at index i``."""
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise InvalidHyperparameterError(
                f"{type(self).__name__}: invalid betas: {betas!r}; pass two numbers "
                "(beta1, beta2) in [0, 1)"
            )
        beta1, beta2 = (
            self._check_interval(
                f"beta parameter at index {index}", beta, 0.0, 1.0, include_high=False
            )
            for index, beta in enumerate(betas)
        )
        return beta1, beta2

    def _check_adam_hyperparameters(
        self, lr: Any, eps: Any, betas: Any, weight_decay: Any
    ) -> tuple[Any, tuple[float, float]]:
        """The Adam family's checks, in PyTorch's order; returns the checked ``lr`` and betas."""
        lr = self._check_at_least("learning rate", lr)
        self._check_at_least("epsilon value", eps)
        betas = self._check_betas(betas)
        self._check_at_least("weight_decay value", weight_decay)
        return lr, betas

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
        """Restore hyperparameters and state saved by ``state_dict`` (copies; per-element
        state cast to its parameter's dtype)."""
        name = type(self).__name__
        try:
            saved_groups = state_dict["param_groups"]
            saved_state = state_dict["state"]
        except (KeyError, TypeError):
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups', as "
                "returned by Optimizer.state_dict()"
            ) from None
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: loaded state dict has {len(saved_groups)} parameter "
                f"groups, the optimizer has {len(self.param_groups)}"
            )
        for position, (group, saved) in enumerate(
            zip(self.param_groups, saved_groups, strict=True)
        ):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {position} has "
                    f"{len(saved['params'])} parameters in the state dict but "
                    f"{len(group['params'])} in the optimizer"
                )
        param_of: dict[int, Tensor] = {}
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            for index, param in zip(saved["params"], group["params"], strict=True):
                param_of[int(index)] = param
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for index, param_state in saved_state.items():
            param = param_of.get(int(index))
            if param is None:
                continue
            new_state[param] = {
                key: self._cast_state(param, key, value) for key, value in param_state.items()
            }
            if "step" in new_state[param] and not isinstance(new_state[param]["step"], Tensor):
                new_state[param]["step"] = _scalar_tensor(float(new_state[param]["step"]))
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            for key, value in saved.items():
                if key != "params":
                    group[key] = copy.deepcopy(value)
        self.state = new_state

    def _cast_state(self, param: Tensor, key: str, value: Any) -> Any:
        if isinstance(value, Tensor):
            array = value._data
            # Per-element state takes the parameter's dtype. Scalar state (step counts, NAdam's
            # mu product, ASGD's eta and mu) keeps its own, so that a resumed run continues
            # bit for bit.
            if array.ndim > 0 and array.dtype.kind == "f":
                array = array.astype(param._data.dtype)
            if (
                key not in self._unshaped_state
                and array.ndim > 0
                and array.shape != param._data.shape
            ):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: state '{key}' has shape "
                    f"{array.shape} but its parameter has shape {param._data.shape}"
                )
            return Tensor(np.array(array, copy=True))
        if isinstance(value, (list, tuple)):
            return type(value)(self._cast_state(param, key, item) for item in value)
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


# ------------------------------------------------------------------- helpers for update rules


def _bump_version(param: Tensor) -> None:
    param._version.value += 1


def _scalar_dtype() -> np.dtype:
    """PyTorch keeps scalar state (step counts, NAdam's mu product, ASGD's eta and mu) in the
    default float dtype when that is float32, else in float64."""
    default = np.dtype(_tensor_module.DEFAULT_FLOAT)
    return np.dtype(np.float64) if default == np.float64 else np.dtype(np.float32)


def _scalar_tensor(value: float) -> Tensor:
    return Tensor(np.array(value, dtype=_scalar_dtype()))


def _increment_step(state: dict[str, Any]) -> float:
    """``state['step'] += 1`` (a 0-d Tensor, as in PyTorch); returns the new count."""
    step = state["step"]._data
    step += 1
    return float(step)


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start += weight * (end - start)`` in place, with PyTorch's two-sided formula."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


def _zeros_like(p: np.ndarray) -> Tensor:
    return Tensor(np.zeros_like(p))


def _weight_decay(
    p: np.ndarray, grad: np.ndarray, group: dict[str, Any], decoupled: bool = False
) -> np.ndarray:
    """``grad + weight_decay * p``; decoupled, ``p *= 1 - lr * weight_decay`` in place instead
    and ``grad`` unchanged."""
    weight_decay = group["weight_decay"]
    if weight_decay == 0:
        return grad
    if decoupled:
        p *= 1 - group["lr"] * weight_decay
        return grad
    return grad + weight_decay * p


def _adam_moments_(
    exp_avg: np.ndarray, exp_avg_sq: np.ndarray, grad: np.ndarray, beta1: float, beta2: float
) -> None:
    """Adam's moment updates in place: ``m = lerp(m, g, 1 - beta1)``,
    ``v = beta2 * v + (1 - beta2) * g * g``."""
    _lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
