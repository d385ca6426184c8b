"""Every layer's forward against an independent NumPy computation, and its gradients (input
and parameters) against numerical differentiation in float64."""

import math

import numpy as np
import pytest

import minigrad as mg
import nn

RNG = np.random.default_rng(1234)


def randn(*shape):
    return RNG.standard_normal(shape)


def check_grads(layer, x, seed=None):
    """gradcheck over the input and every parameter of a float64 layer."""
    layer.double()
    inputs = [mg.tensor(x, requires_grad=True), *layer.parameters()]

    def fn(x, *params):
        if seed is not None:
            mg.manual_seed(seed)
        return layer(x)

    assert mg.gradcheck(fn, inputs)


# ----------------------------------------------------------------------------- references


def conv2d_reference(x, w, b, stride, padding, dilation, groups):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    per_group = o // groups
    for oc in range(o):
        g = oc // per_group
        for i in range(oh):
            for j in range(ow):
                patch = xp[
                    :,
                    g * cg : (g + 1) * cg,
                    i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                    j * sw : j * sw + dw * (kw - 1) + 1 : dw,
                ]
                out[:, oc, i, j] = np.sum(patch * w[oc], axis=(1, 2, 3))
        if b is not None:
            out[:, oc] += b[oc]
    return out


def pool_reference(x, kernel, stride, padding, reduce, pad_value):
    k, s, p = kernel, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=pad_value)
    oh = (x.shape[2] + 2 * p - k) // s + 1
    ow = (x.shape[3] + 2 * p - k) // s + 1
    out = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reduce(xp[:, :, i * s : i * s + k, j * s : j * s + k], axis=(2, 3))
    return out


def adaptive_avg_reference(x, out_h, out_w):
    h, w = x.shape[2:]
    out = np.zeros(x.shape[:2] + (out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            rows = slice(i * h // out_h, math.ceil((i + 1) * h / out_h))
            cols = slice(j * w // out_w, math.ceil((j + 1) * w / out_w))
            out[:, :, i, j] = x[:, :, rows, cols].mean(axis=(2, 3))
    return out


# ----------------------------------------------------------------------------- Linear, Conv2d


def test_linear_forward_and_grads():
    layer = nn.Linear(5, 3).double()
    x = randn(4, 5)
    expected = x @ layer.weight._data.T + layer.bias._data
    np.testing.assert_allclose(layer(mg.tensor(x))._data, expected, rtol=1e-12)
    check_grads(layer, randn(2, 5))
    no_bias = nn.Linear(5, 3, bias=False)
    assert no_bias.bias is None and len(list(no_bias.parameters())) == 1
    check_grads(no_bias, randn(2, 3, 5))


def test_linear_float32_forward():
    layer = nn.Linear(7, 2)
    x = randn(3, 7).astype(np.float32)
    out = layer(mg.tensor(x))
    assert out.dtype == np.float32
    expected = x.astype(np.float64) @ layer.weight._data.T.astype(np.float64) + layer.bias._data
    np.testing.assert_allclose(out._data, expected, rtol=1e-5, atol=1e-6)


CONV_CASES = [
    dict(in_channels=2, out_channels=3, kernel_size=3),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=1, stride=2),
    dict(in_channels=4, out_channels=2, kernel_size=(2, 3), dilation=2, groups=2, bias=False),
    dict(in_channels=1, out_channels=2, kernel_size=(3, 1), stride=(1, 2), padding=(1, 0)),
]


@pytest.mark.parametrize("kwargs", CONV_CASES)
def test_conv2d_forward_matches_loop_reference(kwargs):
    layer = nn.Conv2d(**kwargs).double()
    x = randn(2, kwargs["in_channels"], 7, 6)
    bias = None if layer.bias is None else layer.bias._data
    expected = conv2d_reference(
        x, layer.weight._data, bias, layer.stride, layer.padding, layer.dilation, layer.groups
    )
    np.testing.assert_allclose(layer(mg.tensor(x))._data, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs", CONV_CASES)
def test_conv2d_grads(kwargs):
    check_grads(nn.Conv2d(**kwargs), randn(1, kwargs["in_channels"], 5, 5))


def test_conv2d_same_and_valid_padding():
    for kernel in (3, 4):
        layer = nn.Conv2d(2, 3, kernel, padding="same").double()
        x = randn(1, 2, 6, 5)
        out = layer(mg.tensor(x))
        assert out.shape == (1, 3, 6, 5)
        total = kernel - 1
        padded = np.pad(
            x, ((0, 0), (0, 0), (total // 2, total - total // 2), (total // 2, total - total // 2))
        )
        expected = conv2d_reference(
            padded, layer.weight._data, layer.bias._data, (1, 1), (0, 0), (1, 1), 1
        )
        np.testing.assert_allclose(out._data, expected, rtol=1e-10, atol=1e-12)
    assert nn.Conv2d(1, 1, 3, padding="valid")(mg.zeros(1, 1, 5, 5)).shape == (1, 1, 3, 3)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="divisible"):
        nn.Conv2d(3, 4, 3, groups=2)


def test_conv2d_weight_shape():
    layer = nn.Conv2d(4, 6, (3, 5), groups=2)
    assert layer.weight.shape == (6, 2, 3, 5) and layer.bias.shape == (6,)
    assert layer.weight.dtype == np.float32


# ----------------------------------------------------------------------------- pooling


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 1, 1), (3, 2, 1)])
def test_max_pool2d_forward_and_grads(kernel, stride, padding):
    layer = nn.MaxPool2d(kernel, stride=stride, padding=padding)
    x = randn(2, 3, 6, 6)
    expected = pool_reference(x, kernel, stride or kernel, padding, np.max, -np.inf)
    np.testing.assert_allclose(layer(mg.tensor(x))._data, expected)
    check_grads(layer, RNG.permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) / 10.0)  # no ties


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 1, 1), (3, 2, 1)])
def test_avg_pool2d_forward_and_grads(kernel, stride, padding):
    layer = nn.AvgPool2d(kernel, stride=stride, padding=padding)
    x = randn(2, 3, 6, 6)
    expected = pool_reference(x, kernel, stride or kernel, padding, np.mean, 0.0)
    np.testing.assert_allclose(layer(mg.tensor(x))._data, expected, rtol=1e-12)
    check_grads(layer, randn(1, 2, 5, 5))


@pytest.mark.parametrize("output_size", [1, (2, 3), (3, 3)])
def test_adaptive_avg_pool2d_forward_and_grads(output_size):
    layer = nn.AdaptiveAvgPool2d(output_size)
    x = randn(2, 3, 7, 6)
    out_h, out_w = (output_size, output_size) if isinstance(output_size, int) else output_size
    np.testing.assert_allclose(
        layer(mg.tensor(x))._data, adaptive_avg_reference(x, out_h, out_w), rtol=1e-12
    )
    check_grads(layer, randn(1, 2, 5, 4))


# --------------------------------------------------------------------- shape and activations


def test_flatten_and_identity():
    x = randn(2, 3, 4, 5)
    np.testing.assert_array_equal(nn.Flatten()(mg.tensor(x))._data, x.reshape(2, 60))
    np.testing.assert_array_equal(nn.Flatten(0, 2)(mg.tensor(x))._data, x.reshape(24, 5))
    np.testing.assert_array_equal(nn.Identity(3, k=1)(mg.tensor(x))._data, x)
    check_grads(nn.Flatten(), randn(2, 2, 3))
    check_grads(nn.Identity(), randn(2, 2))


def softmax_reference(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Softmax(dim=1), lambda x: softmax_reference(x, 1)),
    (nn.Softmax(dim=-1), lambda x: softmax_reference(x, -1)),
    (nn.LogSoftmax(dim=1), lambda x: np.log(softmax_reference(x, 1))),
]


@pytest.mark.parametrize("layer,reference", ACTIVATIONS, ids=lambda v: repr(v)[:20])
def test_activation_forward_and_grads(layer, reference):
    x = randn(3, 4, 2)
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the ReLU kink
    np.testing.assert_allclose(layer(mg.tensor(x))._data, reference(x), rtol=1e-12, atol=1e-15)
    check_grads(layer, x)


def test_softmax_without_dim_uses_pytorch_legacy_choice():
    x = randn(2, 3)
    np.testing.assert_allclose(nn.Softmax()(mg.tensor(x))._data, softmax_reference(x, 1))
    x3 = randn(2, 3, 4)
    np.testing.assert_allclose(
        nn.LogSoftmax()(mg.tensor(x3))._data, np.log(softmax_reference(x3, 0))
    )


# ----------------------------------------------------------------------------- dropout


def test_dropout_train_and_eval():
    layer = nn.Dropout(0.3)
    x = np.ones((200, 50))
    out = layer(mg.tensor(x))._data
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(out[kept], 1 / 0.7)
    layer.eval()
    np.testing.assert_array_equal(layer(mg.tensor(x))._data, x)
    assert np.all(nn.Dropout(1.0)(mg.tensor(x))._data == 0)
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)


def test_dropout_grads_with_a_fixed_mask():
    check_grads(nn.Dropout(0.5), randn(3, 4), seed=7)


# ----------------------------------------------------------------------------- batch norm


def batch_norm_reference(x, gamma, beta, eps, axes):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    shape = [1] * x.ndim
    shape[1] = -1
    return (x - mean) / np.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


@pytest.mark.parametrize(
    "layer_class,shape,axes",
    [
        (nn.BatchNorm1d, (8, 3), (0,)),
        (nn.BatchNorm1d, (4, 3, 5), (0, 2)),
        (nn.BatchNorm2d, (4, 3, 5, 2), (0, 2, 3)),
    ],
)
def test_batch_norm_training_forward_and_running_stats(layer_class, shape, axes):
    layer = layer_class(3, momentum=0.2).double()
    layer.weight._data[:] = [1.5, -0.5, 2.0]
    layer.bias._data[:] = [0.1, 0.2, -0.3]
    x = randn(*shape) * 2 + 1
    out = layer(mg.tensor(x))
    expected = batch_norm_reference(x, layer.weight._data, layer.bias._data, 1e-5, axes)
    np.testing.assert_allclose(out._data, expected, rtol=1e-10, atol=1e-12)
    count = x.size // 3
    np.testing.assert_allclose(layer.running_mean._data, 0.2 * x.mean(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(
        layer.running_var._data, 0.8 + 0.2 * x.var(axis=axes) * count / (count - 1), rtol=1e-12
    )
    assert layer.num_batches_tracked._data == 1


def test_batch_norm_eval_uses_running_stats():
    layer = nn.BatchNorm2d(2).double()
    layer.running_mean._data[:] = [0.5, -1.0]
    layer.running_var._data[:] = [4.0, 0.25]
    layer.weight._data[:] = [2.0, 1.0]
    layer.eval()
    x = randn(3, 2, 4, 4)
    expected = (
        (x - np.array([0.5, -1.0]).reshape(1, 2, 1, 1))
        / np.sqrt(np.array([4.0, 0.25]).reshape(1, 2, 1, 1) + 1e-5)
        * np.array([2.0, 1.0]).reshape(1, 2, 1, 1)
    )
    np.testing.assert_allclose(layer(mg.tensor(x))._data, expected, rtol=1e-12)
    np.testing.assert_array_equal(layer.running_mean._data, [0.5, -1.0])  # not updated in eval
    assert layer.num_batches_tracked._data == 0
    check_grads(layer, randn(2, 2, 3, 3))


def test_batch_norm_cumulative_average_and_no_tracking():
    layer = nn.BatchNorm1d(2, momentum=None).double()
    batches = [randn(5, 2) for _ in range(3)]
    for batch in batches:
        layer(mg.tensor(batch))
    np.testing.assert_allclose(
        layer.running_mean._data, np.mean([b.mean(axis=0) for b in batches], axis=0), rtol=1e-12
    )
    free = nn.BatchNorm1d(2, affine=False, track_running_stats=False).double()
    assert free.running_mean is None and list(free.parameters()) == []
    x = randn(6, 2)
    free.eval()  # no running statistics: batch statistics even in eval mode
    np.testing.assert_allclose(
        free(mg.tensor(x))._data, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-12
    )
    assert list(free.state_dict()) == []


def test_batch_norm_state_dict_keys_and_errors():
    layer = nn.BatchNorm2d(4)
    assert list(layer.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        layer(mg.zeros(1, 4, 1, 1))
    with pytest.raises(ValueError, match="4D"):
        layer(mg.zeros(2, 4))
    with pytest.raises(ValueError, match="channels"):
        nn.BatchNorm1d(3)(mg.zeros(2, 4))


@pytest.mark.parametrize(
    "layer_class,shape", [(nn.BatchNorm1d, (5, 2)), (nn.BatchNorm2d, (3, 2, 2, 2))]
)
def test_batch_norm_training_grads(layer_class, shape):
    layer = layer_class(2)
    layer.double()
    layer.weight._data[:] = [1.5, 0.7]
    layer.bias._data[:] = [0.2, -0.1]
    check_grads(layer, randn(*shape))


def test_functional_batch_norm_is_exported():
    import nn.functional as F

    x = mg.tensor(randn(4, 3))
    out = F.batch_norm(x, None, None, training=True)
    np.testing.assert_allclose(out._data,
                               (x._data - x._data.mean(0)) / np.sqrt(x._data.var(0) + 1e-5))
