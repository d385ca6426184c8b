"""Fuzzing the public API against PyTorch: random shapes, dtypes and argument values.

For every draw, either both libraries return and the results agree (values, shape and dtype),
or PyTorch refuses and minigrad raises a ValueError/RuntimeError/TypeError/IndexError whose
message names the op. Anything else — a raw NumPy error, minigrad returning where PyTorch
refuses (or the reverse), a wrong number or dtype — fails.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import minigrad.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

CLEAR_ERRORS = (ValueError, RuntimeError, TypeError, IndexError)


DTYPES = [np.float32, np.float64, np.int64]
FLOATS = [np.float32, np.float64]


def both(array: np.ndarray) -> tuple[mg.Tensor, Any]:
    return mg.tensor(array.copy()), torch.from_numpy(array.copy())


def as_numpy(value: Any) -> Any:
    if isinstance(value, mg.Tensor):
        return value._data
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    if isinstance(value, (tuple, list)):
        return tuple(as_numpy(item) for item in value)
    return value


def assert_same(got: Any, expected: Any, rtol: float | None = None,
                atol: float | None = None) -> None:
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected), (got, expected)
        for g, e in zip(got, expected, strict=True):
            assert_same(g, e, rtol, atol)
        return
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"shape {got.shape} != PyTorch's {expected.shape}"
    assert got.dtype == expected.dtype, f"dtype {got.dtype} != PyTorch's {expected.dtype}"
    if expected.dtype.kind in "fc":
        single = expected.dtype.itemsize <= 4
        rtol = rtol if rtol is not None else (1e-4 if single else 1e-10)
        atol = atol if atol is not None else (1e-4 if single else 1e-12)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)


def check(
    names: str,
    ours: Callable[[], Any],
    theirs: Callable[[], Any],
    rtol: float | None = None,
    atol: float | None = None,
    compare: Callable[[Any, Any], None] | None = None,
) -> None:
    """The contract of the module docstring, for one draw; ``names`` is the op-name regex."""
    expected_error = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = as_numpy(theirs())
        except Exception as error:  # noqa: BLE001 - any refusal by PyTorch
            expected_error = error
        try:
            got = as_numpy(ours())
        except Exception as error:  # noqa: BLE001 - judged below
            assert isinstance(error, CLEAR_ERRORS), f"unclear {type(error).__name__}: {error}"
            assert re.search(names, str(error), re.IGNORECASE), f"op not named: {error}"
            assert expected_error is not None, f"PyTorch returns, minigrad raised {error!r}"
            return
    assert expected_error is None, f"PyTorch raises {expected_error!r}, minigrad returned {got!r}"
    if compare is not None:
        compare(got, expected)
    else:
        assert_same(got, expected, rtol, atol)


@st.composite
def arrays(draw: Any, dtypes: list[Any] = DTYPES, shape: Any = None, low: float = -4,
           high: float = 4) -> np.ndarray:
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)
                 if shape is None else shape)
    if np.dtype(dtype).kind == "f":
        elements = st.floats(low, high, width=32)
    else:
        elements = st.integers(int(low), int(high))
    return draw(hnp.arrays(dtype, shape, elements=elements))


@st.composite
def operand_pairs(draw: Any) -> tuple[Any, Any]:
    """Two operands: broadcastable shapes mostly, arbitrary ones sometimes; a Python scalar
    in place of a tensor sometimes; dtypes drawn independently (type promotion)."""
    if draw(st.booleans()):
        shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
        first, second = shapes.input_shapes
    else:
        first, second = (draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=3))
                         for _ in range(2))
    a = draw(arrays(shape=st.just(first)))
    b: Any = draw(arrays(shape=st.just(second)))
    if draw(st.integers(0, 4)) == 0:
        b = draw(st.one_of(st.integers(-3, 3), st.floats(-3, 3, width=32), st.booleans()))
    return a, b


def _broadcastable(a: np.ndarray, b: Any) -> bool:
    try:
        np.broadcast_shapes(a.shape, np.shape(b))
    except ValueError:
        return False
    return True


def _pair(a: np.ndarray, b: Any) -> tuple[Any, Any, Any, Any]:
    ma, ta = both(a)
    mb, tb = both(b) if isinstance(b, np.ndarray) else (b, b)
    return ma, ta, mb, tb


@pytest.mark.parametrize(
    ("op", "names"),
    [pytest.param(lambda p, q: p + q, "add", id="add"),
     pytest.param(lambda p, q: p - q, "sub", id="sub"),
     pytest.param(lambda p, q: p * q, "mul", id="mul"),
     pytest.param(lambda p, q: p / q, "div", id="div"),
     pytest.param(lambda p, q: p**q, "pow", id="pow"),
     pytest.param(lambda p, q: p > q, "gt|greater|compar", id="gt")],
)
@given(pair=operand_pairs())
def test_binary_elementwise(op, names, pair):
    a, b = pair
    ma, ta, mb, tb = _pair(a, b)
    if names == "pow" and a.dtype.kind in "iub" and np.any(np.asarray(b) < 0) and (
        np.asarray(b).dtype.kind in "iub"
    ):
        return  # integers to negative integer powers: PyTorch gives garbage, minigrad raises
    check(names, lambda: op(ma, mb), lambda: op(ta, tb))


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs",
                                  "neg", "sin", "floor"])
@given(array=arrays())
def test_unary_elementwise(name, array):
    m, t = both(array)
    check(name, lambda: getattr(mg, name)(m), lambda: getattr(torch, name)(t))


@given(array=arrays(), dim=st.one_of(st.none(), st.integers(-5, 4)), keepdim=st.booleans(),
       name=st.sampled_from(["sum", "mean", "amax", "prod"]))
def test_reductions(array, dim, keepdim, name):
    m, t = both(array)
    if dim is None:
        check(name, lambda: getattr(m, name)(), lambda: getattr(t, name)())
    else:
        check(name, lambda: getattr(m, name)(dim, keepdim=keepdim),
              lambda: getattr(t, name)(dim, keepdim=keepdim))


@given(array=arrays(), dim=st.integers(-4, 3), keepdim=st.booleans())
def test_max_with_dim_returns_values_and_indices_of_a_maximum(array, dim, keepdim):
    m, t = both(array)

    def compare(got: Any, expected: Any) -> None:
        (values, indices), (expected_values, expected_indices) = got, expected
        assert_same(values, expected_values, 0, 0)
        assert indices.dtype == np.int64 and indices.shape == expected_indices.shape
        if array.ndim == 0:  # PyTorch treats a 0-d tensor as having one dim of size 1
            assert indices == 0
            return
        picked = np.take_along_axis(array, indices if keepdim else np.expand_dims(indices, dim),
                                    axis=dim)
        assert_same(picked if keepdim else np.squeeze(picked, dim), expected_values, 0, 0)

    check("max", lambda: tuple(m.max(dim, keepdim=keepdim)),
          lambda: tuple(t.max(dim, keepdim=keepdim)), compare=compare)


@given(array=arrays(), dim=st.integers(-4, 3), name=st.sampled_from(["softmax", "log_softmax"]))
def test_softmax_family(array, dim, name):
    if array.size == 0 and array.dtype.kind != "f":
        return  # PyTorch returns an empty int64 tensor without checking; minigrad refuses ints
    m, t = both(array)
    check(name, lambda: getattr(F, name)(m, dim=dim), lambda: getattr(TF, name)(t, dim=dim))


@given(a=arrays(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)),
       b=arrays(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)))
def test_matmul(a, b):
    ma, ta = both(a)
    mb, tb = both(b)
    check("matmul|mm", lambda: ma @ mb, lambda: ta @ tb)


@given(array=arrays(dtypes=[np.float32]),
       shape=st.lists(st.integers(-1, 6), min_size=0, max_size=4))
def test_reshape(array, shape):
    m, t = both(array)
    check("reshape|view|shape", lambda: m.reshape(tuple(shape)), lambda: t.reshape(tuple(shape)))


@given(array=arrays(dtypes=[np.float32]),
       dims=st.lists(st.integers(-4, 4), min_size=0, max_size=4))
def test_permute(array, dims):
    m, t = both(array)
    check("permute", lambda: m.permute(tuple(dims)), lambda: t.permute(tuple(dims)))


@given(array=arrays(dtypes=[np.float32]), dim0=st.integers(-4, 4), dim1=st.integers(-4, 4))
def test_transpose(array, dim0, dim1):
    m, t = both(array)
    check("transpose|dim", lambda: m.transpose(dim0, dim1), lambda: t.transpose(dim0, dim1))


@given(parts=st.lists(arrays(dtypes=[np.float32, np.float64],
                             shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)),
                      min_size=1, max_size=3),
       dim=st.integers(-3, 2))
def test_cat(parts, dim):
    ours = [mg.tensor(p) for p in parts]
    theirs = [torch.from_numpy(p.copy()) for p in parts]
    check("cat", lambda: mg.cat(ours, dim=dim), lambda: torch.cat(theirs, dim=dim))


@given(array=arrays(), low=st.one_of(st.none(), st.floats(-3, 3, width=32)),
       high=st.one_of(st.none(), st.floats(-3, 3, width=32)))
def test_clamp(array, low, high):
    m, t = both(array)
    check("clamp", lambda: m.clamp(low, high), lambda: t.clamp(low, high))


@st.composite
def conv_arguments(draw: Any) -> dict[str, Any]:
    dtype = draw(st.sampled_from(FLOATS))
    groups = draw(st.integers(0, 2))
    channels = draw(st.integers(1, 4))
    out_channels = draw(st.integers(1, 4))
    kernel = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    weight_channels = draw(st.sampled_from([max(channels // max(groups, 1), 1), channels, 1]))
    size = draw(st.tuples(st.integers(1, 6), st.integers(1, 6)))
    padding = draw(st.one_of(st.integers(-1, 2), st.sampled_from(["same", "valid"])))
    return {
        "input": draw(arrays(dtypes=[dtype], shape=st.just((draw(st.integers(1, 2)), channels,
                                                             *size)))),
        "weight": draw(arrays(dtypes=[dtype], shape=st.just((out_channels, weight_channels,
                                                              *kernel)))),
        "bias": draw(st.one_of(st.none(), arrays(dtypes=[dtype], shape=st.just((out_channels,))))),
        "stride": draw(st.integers(0, 3)),
        "padding": padding,
        "dilation": draw(st.integers(1, 2)),
        "groups": groups,
    }


@given(args=conv_arguments())
def test_conv2d(args):
    tensors = {k: args[k] for k in ("input", "weight", "bias") if args[k] is not None}
    ours = {k: mg.tensor(v) for k, v in tensors.items()}
    theirs = {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}
    options = {k: args[k] for k in ("stride", "padding", "dilation", "groups")}
    check("conv2d", lambda: F.conv2d(**ours, **options), lambda: TF.conv2d(**theirs, **options),
          rtol=1e-4, atol=1e-4)


@st.composite
def pool_arguments(draw: Any) -> dict[str, Any]:
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 7)),
             draw(st.integers(1, 7)))
    return {
        "input": draw(arrays(dtypes=FLOATS, shape=st.just(shape))),
        "kernel_size": draw(st.one_of(st.integers(0, 4),
                                      st.tuples(st.integers(1, 3), st.integers(1, 3)))),
        "stride": draw(st.one_of(st.none(), st.integers(0, 3))),
        "padding": draw(st.integers(0, 2)),
        "ceil_mode": draw(st.booleans()),
    }


def _window_exceeds_input(args: dict[str, Any], dilation: int = 1) -> bool:
    """ceil_mode with a window larger than the padded input: test_known_pools_with_ceil_mode."""
    kernel = args["kernel_size"]
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    size = args["input"].shape[2:]
    return args["ceil_mode"] and any(
        dilation * (k - 1) + 1 > n + 2 * args["padding"] for k, n in zip(kernel, size, strict=True)
    )


@given(args=pool_arguments(), dilation=st.integers(1, 2))
def test_max_pool2d(args, dilation):
    if _window_exceeds_input(args, dilation):
        return
    m, t = both(args.pop("input"))
    check("max_pool2d", lambda: F.max_pool2d(m, **args, dilation=dilation),
          lambda: TF.max_pool2d(t, **args, dilation=dilation), rtol=0, atol=0)


@given(args=pool_arguments(), count_include_pad=st.booleans())
def test_avg_pool2d(args, count_include_pad):
    if _window_exceeds_input(args):
        return
    m, t = both(args.pop("input"))
    check("avg_pool2d", lambda: F.avg_pool2d(m, **args, count_include_pad=count_include_pad),
          lambda: TF.avg_pool2d(t, **args, count_include_pad=count_include_pad))


@given(batch=st.integers(1, 4), classes=st.integers(1, 5), data=st.data(),
       reduction=st.sampled_from(["mean", "sum", "none"]),
       label_smoothing=st.sampled_from([0.0, 0.1]), dtype=st.sampled_from(FLOATS))
def test_cross_entropy(batch, classes, data, reduction, label_smoothing, dtype):
    logits = data.draw(arrays(dtypes=[dtype], shape=st.just((batch, classes)), low=-30,
                              high=30))
    target_batch = data.draw(st.sampled_from([batch, batch, batch + 1]))
    target = np.array(data.draw(st.lists(st.integers(-1, classes), min_size=target_batch,
                                         max_size=target_batch)), dtype=np.int64)
    (ml, tl), (mt, tt) = both(logits), both(target)
    options = {"reduction": reduction, "label_smoothing": label_smoothing}
    check("cross_entropy|target", lambda: F.cross_entropy(ml, mt, **options),
          lambda: TF.cross_entropy(tl, tt, **options))


@given(pair=operand_pairs(), data=st.data())
def test_where(pair, data):
    a, b = pair
    if not isinstance(b, np.ndarray):
        b = np.asarray(b, dtype=a.dtype)
    condition = data.draw(hnp.arrays(np.bool_, data.draw(st.sampled_from([a.shape, b.shape,
                                                                          (2, 5)]))))
    (mc, tc), (ma, ta), (mb, tb) = both(condition), both(a), both(b)
    check("where", lambda: mg.where(mc, ma, mb), lambda: torch.where(tc, ta, tb))


# ------------------------------------------------------------------ failures found, reproduced
# (the first draws that failed: regression tests once fixed, strict xfails while known)


def _float(*values: Any, dtype: Any = np.float32) -> np.ndarray:
    return np.array(values, dtype=dtype)


def test_found_comparison_of_shapes_that_do_not_broadcast():
    (ma, ta), (mb, tb) = both(_float(0, 0)), both(_float(0, 0, 0))
    check("gt|greater|compar", lambda: ma > mb, lambda: ta > tb)


def test_found_relu_of_an_empty_tensor():
    m, t = both(np.zeros(0, np.float32))
    check("relu", lambda: mg.relu(m), lambda: torch.relu(t))


def test_found_softmax_of_empty_and_integer_tensors():
    m, t = both(np.zeros(0, np.float32))
    check("softmax", lambda: F.softmax(m, dim=0), lambda: TF.softmax(t, dim=0))
    m, t = both(np.arange(3))
    check("softmax", lambda: F.softmax(m, dim=0), lambda: TF.softmax(t, dim=0))


def test_found_matmul_of_mixed_dtypes():
    (ma, ta), (mb, tb) = both(_float(1, 2)), both(_float(3, 4, dtype=np.float64))
    check("matmul|dot|dtype", lambda: ma @ mb, lambda: ta @ tb)


def test_found_transpose_of_0d_and_1d_tensors():
    for array in (np.array(1.0, np.float32), np.zeros(3, np.float32)):
        m, t = both(array)
        check("transpose|dim", lambda m=m: m.transpose(0, 1), lambda t=t: t.transpose(0, 1))


def test_found_clamp_of_an_integer_tensor_with_float_bounds():
    m, t = both(np.arange(3))
    check("clamp", lambda: m.clamp(None, 0.5), lambda: t.clamp(None, 0.5))


def test_known_pools_with_ceil_mode_and_a_window_larger_than_the_input():
    m, t = both(np.ones((1, 1, 1, 1), np.float32))
    check("avg_pool2d", lambda: F.avg_pool2d(m, 2, ceil_mode=True),
          lambda: TF.avg_pool2d(t, 2, ceil_mode=True))
    check("max_pool2d", lambda: F.max_pool2d(m, 2, ceil_mode=True),
          lambda: TF.max_pool2d(t, 2, ceil_mode=True))


# ------------------------------------------------------------------ more ops


@given(batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), features=st.integers(1, 4),
       out_features=st.integers(1, 4), weight_features=st.sampled_from([0, 1]),
       use_bias=st.booleans(), dtype=st.sampled_from(FLOATS), data=st.data())
def test_linear(batch, features, out_features, weight_features, use_bias, dtype, data):
    x = data.draw(arrays(dtypes=[dtype], shape=st.just((*batch, features))))
    weight = data.draw(arrays(dtypes=[dtype],
                              shape=st.just((out_features, features + weight_features))))
    bias = data.draw(arrays(dtypes=[dtype], shape=st.just((out_features,)))) if use_bias else None
    (mx, tx), (mw, tw) = both(x), both(weight)
    mb, tb = both(bias) if bias is not None else (None, None)
    check("linear|matmul|shape", lambda: F.linear(mx, mw, mb), lambda: TF.linear(tx, tw, tb))


@given(parts=st.lists(arrays(dtypes=[np.float32],
                             shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=2)),
                      min_size=1, max_size=3),
       dim=st.integers(-4, 3))
def test_stack(parts, dim):
    ours = [mg.tensor(p) for p in parts]
    theirs = [torch.from_numpy(p.copy()) for p in parts]
    check("stack", lambda: mg.stack(ours, dim=dim), lambda: torch.stack(theirs, dim=dim))


@given(array=arrays(dtypes=FLOATS), dim=st.one_of(st.none(), st.integers(-4, 3)),
       correction=st.integers(0, 2), keepdim=st.booleans())
def test_var(array, dim, correction, keepdim):
    m, t = both(array)
    check("var", lambda: m.var(dim, correction=correction, keepdim=keepdim),
          lambda: t.var(dim, correction=correction, keepdim=keepdim))


@given(array=arrays(dtypes=[np.float32],
                    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)),
       dim=st.integers(-3, 2), data=st.data())
def test_gather(array, dim, data):
    index_shape = data.draw(hnp.array_shapes(min_dims=array.ndim, max_dims=array.ndim,
                                             min_side=0, max_side=3))
    index = data.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(-1, 3)))
    (m, t), (mi, ti) = both(array), both(index)
    check("gather|index", lambda: m.gather(dim, mi), lambda: t.gather(dim, ti))


def test_found_stack_with_a_dim_out_of_range():
    m, t = both(np.array(0.0, np.float32))
    check("stack", lambda: mg.stack([m], dim=1), lambda: torch.stack([t], dim=1))
