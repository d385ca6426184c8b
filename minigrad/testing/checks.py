"""Checks for your own ops and modules, usable inside ``@given`` and outside it.

``check_module(module, input)`` runs every property a module should have and reports each
one that fails by name; ``assert_matches_reference`` compares an op with a NumPy, SciPy or
PyTorch reference.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad.gradcheck import GradcheckError, gradcheck
from minigrad.random import manual_seed
from minigrad.tensor import Tensor
from minigrad.testing.close import assert_close


class ModuleCheckError(AssertionError):
    """One or more properties of a module failed; the message lists each with its reason."""


def _array(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def assert_matches_reference(
    fn: Callable[..., Any],
    reference_fn: Callable[..., Any],
    *inputs: Any,
    rtol: float | None = None,
    atol: float | None = None,
    check_dtype: bool = True,
    to_reference: Callable[[np.ndarray], Any] | None = None,
) -> None:
    """``fn(*tensors)`` equals ``reference_fn(*reference_inputs)``: the inputs (arrays or
    tensors) become minigrad tensors for ``fn`` and, through ``to_reference`` (default: the
    NumPy array itself; pass ``torch.from_numpy`` for PyTorch), the reference's inputs.
    Results may be tensors, arrays or tuples of them; dtypes must agree unless
    ``check_dtype=False``."""
    arrays = [np.array(_array(x), copy=True) for x in inputs]
    ours = fn(*[Tensor(a.copy()) for a in arrays])
    convert = to_reference or (lambda a: a)
    theirs = reference_fn(*[convert(a.copy()) for a in arrays])
    ours_list = list(ours) if isinstance(ours, (tuple, list)) else [ours]
    theirs_list = list(theirs) if isinstance(theirs, (tuple, list)) else [theirs]
    if len(ours_list) != len(theirs_list):
        raise AssertionError(f"fn gave {len(ours_list)} results, the reference "
                             f"{len(theirs_list)}")
    for i, (a, b) in enumerate(zip(ours_list, theirs_list)):
        a_arr, b_arr = _array(a), _array(b)
        try:
            assert_close(a_arr, b_arr, rtol=rtol, atol=atol, check_dtype=check_dtype)
        except AssertionError as error:
            raise AssertionError(f"result {i} differs from the reference:\n{error}") from None


def check_module(
    module: Any,
    input: Any,
    *,
    grad: bool = True,
    state_dict: bool = True,
    modes: bool = True,
    determinism: bool = True,
    dtypes: bool = True,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> None:
    """Check the properties every ``nn.Module`` should have, on ``input`` (a tensor or array,
    or a tuple of them for several inputs):

    - ``grad``: backward matches central differences in float64 for the input and every
      parameter (in eval mode, and in train mode with the random state re-seeded per call);
    - ``inputs not mutated``: forward and backward leave the inputs unchanged;
    - ``state_dict``: a round trip through ``minigrad.save``/``minigrad.load`` into a copy with
      scrambled parameters gives identical outputs;
    - ``modes``: ``train()``/``eval()`` set ``training`` on every submodule, and eval outputs
      are deterministic;
    - ``determinism``: the same ``manual_seed`` gives the same train-mode output;
    - ``dtypes``: float32 and float64 copies both run and give outputs of their own dtype,
      close to each other.

    Raises ``ModuleCheckError`` naming every property that failed and why.
    """
    from minigrad import load, save

    originals = [np.array(_array(x), dtype=np.float64, copy=True)
                 for x in (input if isinstance(input, (tuple, list)) else (input,))]
    failures: list[str] = []

    def inputs(requires_grad: bool = False, dtype: Any = np.float64) -> list[Tensor]:
        return [Tensor(a.astype(dtype), requires_grad=requires_grad and a.dtype.kind == "f")
                for a in originals]

    def outputs(result: Any) -> list[np.ndarray]:
        return [t._data for t in _tensors_of(result)]

    def mutated(xs: Sequence[Tensor]) -> int | None:
        """The index of the first input whose values changed, else None."""
        for i, (x, a) in enumerate(zip(xs, originals)):
            if not np.array_equal(x._data, a.astype(x._data.dtype)):
                return i
        return None

    def run(m: Any, xs: Sequence[Tensor], reseed: bool = True) -> Any:
        if reseed:
            manual_seed(seed)
        return m(*xs)

    double = copy.deepcopy(module).double()
    if grad:
        for mode in ("eval", "train"):
            m = copy.deepcopy(double)
            getattr(m, mode)()
            xs = inputs(requires_grad=True)
            params = [p for p in m.parameters() if p.requires_grad]
            checked = [x for x in xs if x.requires_grad] + params
            if not checked:
                continue
            try:
                gradcheck(lambda *_, m=m, xs=xs: _tensors_of(run(m, xs)), checked, eps=eps,
                          atol=atol, rtol=rtol)
            except GradcheckError as error:
                names = [f"input {i}" for i, x in enumerate(xs) if x.requires_grad] + [
                    name for name, p in m.named_parameters() if p.requires_grad]
                failures.append(f"grad ({mode} mode): {error} [inputs in order: {names}]")
            changed = mutated(xs)
            if changed is not None:
                failures.append(f"inputs not mutated: input {changed} changed during forward or "
                                "backward")
    else:
        xs = inputs()
        run(copy.deepcopy(double), xs)
        changed = mutated(xs)
        if changed is not None:
            failures.append(f"inputs not mutated: input {changed} changed during forward")

    if state_dict:
        m = copy.deepcopy(double).eval()
        expected = outputs(run(m, inputs()))
        other = copy.deepcopy(double).eval()
        for p in other.parameters():
            p._data[...] = np.random.default_rng(seed + 1).standard_normal(p._data.shape)
        handle, path = tempfile.mkstemp(suffix=".npz")
        os.close(handle)
        try:
            save(m.state_dict(), path)
            other.load_state_dict(load(path))
            got = outputs(run(other, inputs()))
            same = len(got) == len(expected) and all(
                np.array_equal(g, e, equal_nan=True) for g, e in zip(got, expected))
            if not same:
                failures.append("state_dict: outputs differ after a save/load round trip into a "
                                "copy with other parameters")
        except Exception as error:  # noqa: BLE001 - reported as the failed property
            failures.append(f"state_dict: the round trip raised {type(error).__name__}: {error}")
        finally:
            os.unlink(path)

    if modes:
        m = copy.deepcopy(double)
        m.train()
        if not all(sub.training for sub in m.modules()):
            failures.append("modes: train() left a submodule with training=False")
        m.eval()
        if any(sub.training for sub in m.modules()):
            failures.append("modes: eval() left a submodule with training=True")
        first = outputs(m(*inputs()))
        second = outputs(m(*inputs()))
        if not all(np.array_equal(a, b, equal_nan=True) for a, b in zip(first, second)):
            failures.append("modes: two eval-mode calls on the same input gave different outputs")

    if determinism:
        a_model, b_model = copy.deepcopy(double).train(), copy.deepcopy(double).train()
        first, second = outputs(run(a_model, inputs())), outputs(run(b_model, inputs()))
        if not all(np.array_equal(a, b, equal_nan=True) for a, b in zip(first, second)):
            failures.append("determinism: the same manual_seed gave different train-mode outputs")

    if dtypes:
        try:
            out64 = outputs(run(copy.deepcopy(module).double().eval(), inputs()))
            out32 = outputs(run(copy.deepcopy(module).float().eval(),
                                inputs(dtype=np.float32)))
            if any(o.dtype != np.float64 for o in out64 if o.dtype.kind == "f"):
                failures.append("dtypes: a float64 module with float64 input gave a non-float64 "
                                "output")
            if any(o.dtype != np.float32 for o in out32 if o.dtype.kind == "f"):
                failures.append("dtypes: a float32 module with float32 input gave a non-float32 "
                                "output")
            for a, b in zip(out32, out64):
                if a.dtype.kind == "f" and not np.allclose(a, b, rtol=1e-3, atol=1e-4):
                    worst = float(np.max(np.abs(a.astype(np.float64) - b)))
                    failures.append(
                        f"dtypes: float32 and float64 outputs differ by up to {worst:.3g}")
                    break
        except Exception as error:  # noqa: BLE001 - reported as the failed property
            failures.append(f"dtypes: raised {type(error).__name__}: {error}")

    if failures:
        raise ModuleCheckError(
            f"check_module({type(module).__name__}): {len(failures)} propert"
            f"{'y' if len(failures) == 1 else 'ies'} failed:\n- " + "\n- ".join(failures)
        )


def _tensors_of(result: Any) -> list[Tensor]:
    """The tensors of a module's result: a tensor, or nested tuples such as an LSTM's."""
    if isinstance(result, Tensor):
        return [result]
    flat: list[Tensor] = []
    for item in result if isinstance(result, (tuple, list)) else ():
        flat += _tensors_of(item)
    return flat
