"""Hostile inputs across the public API: every bad call raises the documented exception type,
and its message names the op that refused it (never a raw NumPy or Python traceback)."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
import minigrad.optim as optim
import nn
from minigrad.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    RandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)
from minigrad.errors import DeviceError


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[], Any]
    error: type[BaseException] | tuple[type[BaseException], ...]
    names: str  # a regex the message must contain (case-insensitive): the op's name


def x(*shape: int, grad: bool = False, dtype: Any = np.float32) -> mg.Tensor:
    size = int(np.prod(shape)) if shape else 1
    data = (np.arange(size, dtype=np.float64).reshape(shape) / max(size, 1)).astype(dtype)
    return mg.tensor(data, requires_grad=grad)


def ints(*shape: int) -> mg.Tensor:
    return mg.tensor(np.zeros(shape, np.int64))


def _backward_twice() -> None:
    a = x(3, grad=True)
    y = (a * a).sum()
    y.backward()
    y.backward()


def _inplace_on_saved() -> None:
    a = x(3, grad=True)
    b = a * 1.0
    c = b.sin()  # saves its input
    b.add_(1.0)
    c.sum().backward()


def _quiet(fn: Callable[..., Any], *args: Any) -> Any:
    """Calls fn without its (PyTorch-like) broadcasting warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def _foreign_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


def _self_containing() -> dict[str, Any]:
    looped: dict[str, Any] = {}
    looped["me"] = looped
    return looped


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)


TENSORS = [
    Case("tensor_ragged", lambda: mg.tensor([[1, 2], [3]]), (ValueError, TypeError), "tensor"),
    Case("tensor_object", lambda: mg.tensor([object()]), (TypeError, ValueError), "tensor"),
    Case("int_requires_grad", lambda: mg.tensor([1, 2], requires_grad=True), RuntimeError,
         "requires_grad|floating"),
    Case("zeros_negative", lambda: mg.zeros(2, -1), (RuntimeError, ValueError), "zeros"),
    Case("ones_float_size", lambda: mg.ones(2.5), TypeError, "ones"),
    Case("full_bad_size", lambda: mg.full((2, -3), 1.0), (RuntimeError, ValueError), "full"),
    Case("randn_negative", lambda: mg.randn(-1), (RuntimeError, ValueError), "randn"),
    Case("arange_zero_step", lambda: mg.arange(0, 5, 0), (RuntimeError, ValueError), "arange"),
    Case("arange_wrong_sign", lambda: mg.arange(0, 5, -1), (RuntimeError, ValueError), "arange"),
    Case("eye_negative", lambda: mg.eye(-2), (RuntimeError, ValueError), "eye"),
    Case("linspace_negative", lambda: mg.linspace(0, 1, -1), (RuntimeError, ValueError),
         "linspace|steps"),
    Case("randint_empty_range", lambda: mg.randint(5, 5, (2,)), (RuntimeError, ValueError),
         "randint"),
    Case("reshape_wrong_size", lambda: x(2, 3).reshape(4, 2), RuntimeError, "reshape|shape"),
    Case("reshape_two_minus_one", lambda: x(2, 3).reshape(-1, -1), RuntimeError,
         "reshape|infer|-1"),
    Case("view_wrong_size", lambda: x(2, 3).view(5), RuntimeError, "view|shape"),
    Case("numpy_requires_grad", lambda: x(2, grad=True).numpy(), RuntimeError, "numpy"),
    Case("item_many", lambda: x(3).item(), RuntimeError, "item|element"),
    Case("getitem_out_of_range", lambda: x(3)[5], IndexError, "index"),
    Case("getitem_too_many", lambda: x(3)[0, 0], IndexError, "index"),
    Case("transpose_bad_dim", lambda: x(2, 3).transpose(0, 2), IndexError, "transpose|dim"),
    Case("permute_wrong_length", lambda: x(2, 3).permute(0), RuntimeError, "permute"),
    Case("permute_repeated", lambda: x(2, 3).permute(0, 0), RuntimeError, "permute"),
    Case("squeeze_bad_dim", lambda: x(2, 3).squeeze(3), IndexError, "squeeze|dim"),
    Case("unsqueeze_bad_dim", lambda: x(2, 3).unsqueeze(4), IndexError, "unsqueeze|dim"),
    Case("flatten_bad_dims", lambda: x(2, 3).flatten(1, 0), RuntimeError, "flatten"),
    Case("expand_bad", lambda: x(2, 3).expand(4, 3), RuntimeError, "expand"),
    Case("broadcast_to_bad", lambda: mg.broadcast_to(x(2, 3), (3, 3)), RuntimeError,
         "broadcast"),
    Case("flip_bad_dim", lambda: x(2, 3).flip(2), IndexError, "flip|dim"),
    Case("cat_mismatch", lambda: mg.cat([x(2, 3), x(2, 4)]), RuntimeError, "cat"),
    Case("cat_empty", lambda: mg.cat([]), (RuntimeError, ValueError), "cat"),
    Case("cat_bad_dim", lambda: mg.cat([x(2), x(2)], dim=1), IndexError, "cat|dim"),
    Case("stack_mismatch", lambda: mg.stack([x(2), x(3)]), RuntimeError, "stack"),
    Case("split_zero", lambda: x(4).split(0), (RuntimeError, ValueError), "split"),
    Case("chunk_zero", lambda: x(4).chunk(0), RuntimeError, "chunk"),
    Case("gather_bad_index", lambda: x(2, 3).gather(1, mg.tensor([[5], [0]])), RuntimeError,
         "gather|index"),
    Case("gather_float_index", lambda: x(2, 3).gather(1, x(2, 1)), RuntimeError, "gather"),
    Case("masked_fill_bad_mask", lambda: x(2, 3).masked_fill(mg.ones(3, 2) > 0, 0.0),
         RuntimeError, "masked_fill"),
    Case("masked_fill_float_mask", lambda: x(2, 3).masked_fill(x(2, 3), 0.0), RuntimeError,
         "masked_fill"),
    Case("where_mismatch", lambda: mg.where(mg.ones(2) > 0, x(3), x(3)), RuntimeError, "where"),
    Case("sum_bad_dim", lambda: x(2, 3).sum(2), IndexError, "sum|dim"),
    Case("mean_int", lambda: ints(3).mean(), RuntimeError, "mean"),
    Case("softmax_bad_dim", lambda: F.softmax(x(2, 3), dim=2), IndexError, "softmax|dim"),
    Case("argmax_bad_dim", lambda: x(2, 3).argmax(5), IndexError, "argmax|dim"),
    Case("max_bad_dim", lambda: x(2, 3).max(dim=3), IndexError, "max|dim"),
    Case("backward_non_scalar", lambda: (x(3, grad=True) * 2).backward(), RuntimeError,
         "grad can be implicitly created only for scalar|backward"),
    Case("backward_no_grad", lambda: x(3).sum().backward(), RuntimeError,
         "does not require grad|backward"),
    Case("backward_twice", _backward_twice, RuntimeError, "backward"),
    Case("backward_wrong_grad_shape",
         lambda: (x(3, grad=True) * 2).backward(mg.ones(4)), RuntimeError, "backward|shape"),
    Case("inplace_leaf", lambda: x(3, grad=True).add_(1.0), RuntimeError, "leaf|in-place"),
    Case("inplace_saved", _inplace_on_saved, RuntimeError, "modified by an inplace|version"),
    Case("to_cuda", lambda: x(2).to("cuda"), DeviceError, "cuda"),
    Case("cuda_method", lambda: x(2).cuda(), DeviceError, "cuda"),
]

OPS = [
    Case("add_broadcast", lambda: x(2, 3) + x(4), RuntimeError, "add|broadcast"),
    Case("mul_broadcast", lambda: x(2, 3) * x(2), RuntimeError, "mul|broadcast"),
    Case("sub_broadcast", lambda: x(3, 1, 2) - x(4, 3), RuntimeError, "sub|broadcast"),
    Case("div_broadcast", lambda: x(5) / x(2), RuntimeError, "div|broadcast"),
    Case("pow_broadcast", lambda: x(5) ** x(3), RuntimeError, "pow|broadcast"),
    Case("maximum_broadcast", lambda: mg.maximum(x(5), x(3)), RuntimeError,
         "maximum|broadcast"),
    Case("matmul_mismatch", lambda: x(3, 4) @ x(5, 2), RuntimeError, "matmul"),
    Case("matmul_scalar", lambda: mg.matmul(x(), x(3)), RuntimeError, "matmul"),
    Case("matmul_batch_mismatch", lambda: x(2, 3, 4) @ x(3, 4, 5), RuntimeError, "matmul"),
    Case("mm_3d", lambda: mg.mm(x(2, 2, 2), x(2, 2)), RuntimeError, "mm"),
    Case("bmm_2d", lambda: mg.bmm(x(2, 2), x(2, 2)), RuntimeError, "bmm"),
    Case("dot_mismatch", lambda: mg.dot(x(3), x(4)), RuntimeError, "dot"),
    Case("linear_mismatch", lambda: F.linear(x(2, 3), x(4, 5)), RuntimeError,
         "linear|matmul|shape"),
    Case("clamp_no_bounds", lambda: x(3).clamp(), RuntimeError, "clamp"),
    Case("logical_bool_sub", lambda: (mg.ones(2) > 0) - (mg.ones(2) > 0), (RuntimeError,
                                                                             TypeError), "sub"),
]

CONV_POOL = [
    Case("conv2d_channels", lambda: F.conv2d(x(1, 3, 5, 5), x(4, 2, 3, 3)), RuntimeError,
         "conv2d"),
    Case("conv2d_kernel_too_big", lambda: F.conv2d(x(1, 1, 2, 2), x(1, 1, 3, 3)),
         RuntimeError, "conv2d"),
    Case("conv2d_stride_zero", lambda: F.conv2d(x(1, 1, 5, 5), x(1, 1, 3, 3), stride=0),
         RuntimeError, "conv2d|stride"),
    Case("conv2d_negative_padding",
         lambda: F.conv2d(x(1, 1, 5, 5), x(1, 1, 3, 3), padding=-1), RuntimeError,
         "conv2d|padding"),
    Case("conv2d_dilation_zero",
         lambda: F.conv2d(x(1, 1, 5, 5), x(1, 1, 3, 3), dilation=0), RuntimeError,
         "conv2d|dilation"),
    Case("conv2d_groups_mismatch",
         lambda: F.conv2d(x(1, 4, 5, 5), x(3, 2, 3, 3), groups=2), RuntimeError, "conv2d"),
    Case("conv2d_groups_zero", lambda: F.conv2d(x(1, 4, 5, 5), x(4, 4, 3, 3), groups=0),
         RuntimeError, "conv2d|groups"),
    Case("conv2d_weight_3d", lambda: F.conv2d(x(1, 1, 5, 5), x(1, 3, 3)), RuntimeError,
         "conv2d"),
    Case("conv2d_input_2d", lambda: F.conv2d(x(5, 5), x(1, 1, 3, 3)), RuntimeError, "conv2d"),
    Case("conv2d_bias_shape",
         lambda: F.conv2d(x(1, 1, 5, 5), x(2, 1, 3, 3), bias=x(3)), RuntimeError, "conv2d"),
    Case("conv2d_same_strided",
         lambda: F.conv2d(x(1, 1, 5, 5), x(1, 1, 3, 3), stride=2, padding="same"),
         (RuntimeError, ValueError), "conv2d|same"),
    Case("conv2d_bad_padding_string",
         lambda: F.conv2d(x(1, 1, 5, 5), x(1, 1, 3, 3), padding="full"),
         (RuntimeError, ValueError), "conv2d|padding"),
    Case("conv2d_int_input", lambda: F.conv2d(ints(1, 1, 5, 5), x(1, 1, 3, 3)), RuntimeError,
         "conv2d|dtype"),
    Case("conv1d_channels", lambda: F.conv1d(x(1, 3, 8), x(2, 2, 3)), RuntimeError, "conv1d"),
    Case("conv_transpose2d_channels",
         lambda: F.conv_transpose2d(x(1, 3, 4, 4), x(2, 2, 3, 3)), RuntimeError,
         "conv_transpose2d"),
    Case("max_pool2d_kernel_zero", lambda: F.max_pool2d(x(1, 1, 4, 4), 0), RuntimeError,
         "max_pool2d|kernel"),
    Case("max_pool2d_kernel_too_big", lambda: F.max_pool2d(x(1, 1, 2, 2), 3), RuntimeError,
         "max_pool2d"),
    Case("max_pool2d_padding_too_big", lambda: F.max_pool2d(x(1, 1, 6, 6), 2, padding=2),
         RuntimeError, "max_pool2d|pad"),
    Case("max_pool2d_stride_zero", lambda: F.max_pool2d(x(1, 1, 4, 4), 2, stride=0),
         RuntimeError, "max_pool2d|stride"),
    Case("max_pool2d_input_2d", lambda: F.max_pool2d(x(4, 4), 2), RuntimeError, "max_pool2d"),
    Case("avg_pool2d_kernel_zero", lambda: F.avg_pool2d(x(1, 1, 4, 4), 0), RuntimeError,
         "avg_pool2d|kernel"),
    Case("avg_pool2d_padding_too_big", lambda: F.avg_pool2d(x(1, 1, 6, 6), 2, padding=3),
         RuntimeError, "avg_pool2d|pad"),
    Case("adaptive_avg_pool2d_3_sizes",
         lambda: F.adaptive_avg_pool2d(x(1, 1, 4, 4), (2, 2, 2)), (RuntimeError, ValueError),
         "adaptive_avg_pool2d|output_size"),
    Case("max_pool1d_kernel_too_big", lambda: F.max_pool1d(x(1, 1, 2), 3), RuntimeError,
         "max_pool1d"),
]

NN = [
    Case("linear_negative", lambda: nn.Linear(-1, 2), RuntimeError, "linear|negative"),
    Case("linear_forward_mismatch", lambda: nn.Linear(3, 2)(x(4, 5)), RuntimeError,
         "linear|matmul|shape"),
    Case("conv2d_module_groups", lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError,
         "in_channels must be divisible by groups|groups"),
    Case("conv2d_module_same_strided", lambda: nn.Conv2d(1, 1, 3, stride=2, padding="same"),
         ValueError, "padding='same'|same"),
    Case("conv2d_module_bad_padding_mode",
         lambda: nn.Conv2d(1, 1, 3, padding_mode="mirror"), ValueError, "padding_mode"),
    Case("conv2d_module_forward_channels", lambda: nn.Conv2d(3, 2, 3)(x(1, 2, 5, 5)),
         RuntimeError, "conv2d"),
    Case("batchnorm_channels", lambda: nn.BatchNorm2d(3)(x(2, 4, 2, 2)), RuntimeError,
         "batch_norm|running_mean|BatchNorm|channels"),
    Case("batchnorm1d_3d_wrong", lambda: nn.BatchNorm1d(3)(x(2, 4)), RuntimeError,
         "batch_norm|BatchNorm|channels"),
    Case("batchnorm_one_value_training", lambda: nn.BatchNorm1d(3)(x(1, 3)), ValueError,
         "more than 1 value per channel"),
    Case("layer_norm_shape", lambda: nn.LayerNorm(4)(x(2, 3)), RuntimeError, "layer_norm"),
    Case("dropout_p_too_big", lambda: nn.Dropout(1.5), ValueError, "dropout"),
    Case("dropout_functional_p", lambda: F.dropout(x(3), p=-0.1), ValueError, "dropout"),
    Case("embedding_index_out_of_range", lambda: nn.Embedding(4, 2)(mg.tensor([5])),
         IndexError, "embedding|index"),
    Case("embedding_float_index", lambda: nn.Embedding(4, 2)(x(2)), RuntimeError,
         "embedding"),
    Case("sequential_not_module", lambda: nn.Sequential(nn.Linear(2, 2), 3), TypeError,
         "Sequential|Module"),
    Case("module_list_append", lambda: nn.ModuleList().append(3), TypeError,
         "ModuleList|Module"),
    Case("register_parameter_dot",
         lambda: nn.Module().register_parameter("a.b", nn.Parameter(x(2))), KeyError,
         "parameter name"),
    Case("register_parameter_not_parameter",
         lambda: nn.Module().register_parameter("w", x(2)), TypeError, "parameter"),
    Case("load_state_dict_shape",
         lambda: nn.Linear(2, 2).load_state_dict(nn.Linear(3, 2).state_dict()), RuntimeError,
         "size mismatch"),
    Case("load_state_dict_missing",
         lambda: nn.Linear(2, 2).load_state_dict({"weight": mg.zeros(2, 2)}), RuntimeError,
         "Missing key"),
    Case("load_state_dict_not_dict", lambda: nn.Linear(2, 2).load_state_dict([1]), TypeError,
         "state_dict"),
    Case("flatten_module_bad_dim", lambda: nn.Flatten(3)(x(2, 3)), IndexError,
         "flatten|dim"),
    Case("max_pool_module_forward", lambda: nn.MaxPool2d(3)(x(1, 1, 2, 2)), RuntimeError,
         "max_pool2d"),
    Case("lstm_input_size", lambda: nn.LSTM(3, 4)(x(5, 2, 2)), RuntimeError, "input.size|LSTM"),
    Case("get_submodule_missing", lambda: _Tiny().get_submodule("conv"), AttributeError,
         "conv"),
]

OPTIM = [
    Case("sgd_negative_lr", lambda: optim.SGD([x(2, grad=True)], lr=-0.1), ValueError,
         "learning rate"),
    Case("sgd_negative_momentum",
         lambda: optim.SGD([x(2, grad=True)], lr=0.1, momentum=-1), ValueError, "momentum"),
    Case("sgd_nesterov_without_momentum",
         lambda: optim.SGD([x(2, grad=True)], lr=0.1, nesterov=True), ValueError, "nesterov"),
    Case("sgd_negative_weight_decay",
         lambda: optim.SGD([x(2, grad=True)], lr=0.1, weight_decay=-1), ValueError,
         "weight_decay"),
    Case("adam_bad_beta", lambda: optim.Adam([x(2, grad=True)], betas=(1.0, 0.999)),
         ValueError, "beta"),
    Case("adam_negative_eps", lambda: optim.Adam([x(2, grad=True)], eps=-1e-8), ValueError,
         "epsilon|eps"),
    Case("adamw_negative_lr", lambda: optim.AdamW([x(2, grad=True)], lr=-1), ValueError,
         "learning rate"),
    Case("rmsprop_bad_alpha", lambda: optim.RMSprop([x(2, grad=True)], alpha=-1), ValueError,
         "alpha"),
    Case("optimizer_empty", lambda: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    Case("optimizer_tensor_not_iterable", lambda: optim.SGD(x(2, grad=True), lr=0.1),
         TypeError, "params argument given to the optimizer|iterable"),
    Case("optimizer_non_leaf", lambda: optim.SGD([x(2, grad=True) * 2], lr=0.1), ValueError,
         "non-leaf|leaf"),
    Case("optimizer_duplicate_groups",
         lambda: (lambda p: optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1))(
             x(2, grad=True)), ValueError, "some parameters appear (in )?more than on"),
    Case("optimizer_load_state_dict_groups",
         lambda: optim.SGD([x(2, grad=True)], lr=0.1).load_state_dict(
             optim.SGD([{"params": [x(2, grad=True)]}, {"params": [x(2, grad=True)]}],
                       lr=0.1).state_dict()), ValueError, "parameter group"),
    Case("step_lr_not_optimizer", lambda: optim.lr_scheduler.StepLR(3, step_size=1),
         TypeError, "Optimizer"),
    Case("onecycle_total_steps_missing",
         lambda: optim.lr_scheduler.OneCycleLR(optim.SGD([x(2, grad=True)], lr=0.1), 0.1),
         ValueError, "total_steps|epochs"),
]

LOSSES = [
    Case("cross_entropy_target_shape", lambda: F.cross_entropy(x(4, 3), mg.tensor([0, 1])),
         (ValueError, RuntimeError), "cross_entropy|batch_size|target"),
    Case("cross_entropy_class_out_of_range",
         lambda: F.cross_entropy(x(2, 3), mg.tensor([0, 3])), IndexError,
         "cross_entropy|target|out of"),
    Case("cross_entropy_negative_class",
         lambda: F.cross_entropy(x(2, 3), mg.tensor([0, -2])), IndexError,
         "cross_entropy|target|out of"),
    Case("cross_entropy_label_smoothing",
         lambda: F.cross_entropy(x(2, 3), mg.tensor([0, 1]), label_smoothing=1.5),
         (ValueError, RuntimeError), "label_smoothing"),
    Case("cross_entropy_reduction",
         lambda: F.cross_entropy(x(2, 3), mg.tensor([0, 1]), reduction="avg"), ValueError,
         "reduction"),
    Case("cross_entropy_prob_target_shape",
         lambda: F.cross_entropy(x(2, 3), x(2, 4)), (ValueError, RuntimeError),
         "cross_entropy|target|shape"),
    Case("nll_loss_target_shape", lambda: F.nll_loss(x(4, 3), mg.tensor([0])),
         (ValueError, RuntimeError), "nll_loss|batch_size|target"),
    Case("mse_loss_not_broadcastable", lambda: _quiet(F.mse_loss, x(3), x(4)), RuntimeError,
         "mse_loss|size|broadcast"),
    Case("l1_loss_reduction", lambda: F.l1_loss(x(3), x(3), reduction="max"), ValueError,
         "reduction"),
    Case("bce_out_of_range", lambda: F.binary_cross_entropy(x(3) + 2.0, x(3)), RuntimeError,
         "binary_cross_entropy|between 0 and 1"),
    Case("bce_shape", lambda: F.binary_cross_entropy(x(3), x(4)), ValueError,
         "binary_cross_entropy|target size|size"),
    Case("bce_logits_shape", lambda: F.binary_cross_entropy_with_logits(x(3), x(4)),
         ValueError, "binary_cross_entropy_with_logits|target size|size"),
    Case("cross_entropy_module_reduction",
         lambda: nn.CrossEntropyLoss(reduction="avg")(x(2, 3), mg.tensor([0, 1])), ValueError,
         "reduction"),
    Case("kl_div_reduction", lambda: F.kl_div(x(3), x(3), reduction="wrong"), ValueError,
         "reduction"),
]

DATA = [
    Case("loader_batch_size_zero", lambda: DataLoader(TensorDataset(x(4)), batch_size=0),
         ValueError, "DataLoader.*batch_size"),
    Case("loader_sampler_and_shuffle",
         lambda: DataLoader(TensorDataset(x(4)), sampler=[0], shuffle=True), ValueError,
         "DataLoader.*sampler"),
    Case("loader_negative_workers",
         lambda: DataLoader(TensorDataset(x(4)), num_workers=-1), ValueError,
         "DataLoader.*num_workers"),
    Case("loader_not_a_dataset", lambda: DataLoader(42), TypeError, "DataLoader"),
    Case("loader_batch_sampler_conflict",
         lambda: DataLoader(TensorDataset(x(4)), batch_sampler=[[0]], drop_last=True),
         ValueError, "DataLoader.*batch_sampler"),
    Case("tensor_dataset_mismatch", lambda: TensorDataset(x(4), x(3)), ValueError,
         "TensorDataset"),
    Case("tensor_dataset_empty", lambda: TensorDataset(), ValueError, "TensorDataset"),
    Case("random_split_sum", lambda: random_split(TensorDataset(x(4)), [1, 2]), ValueError,
         "random_split"),
    Case("concat_empty", lambda: ConcatDataset([]), ValueError, "ConcatDataset"),
    Case("weighted_sampler_negative", lambda: WeightedRandomSampler([1.0, -1.0], 2),
         ValueError, "WeightedRandomSampler"),
    Case("random_sampler_num_samples", lambda: RandomSampler(range(3), num_samples=-1),
         ValueError, "RandomSampler"),
    Case("batch_sampler_drop_last", lambda: BatchSampler(range(3), 2, "yes"), ValueError,
         "BatchSampler"),
    Case("collate_shapes", lambda: list(DataLoader([x(2), x(3)], batch_size=2)), ValueError,
         "collate"),
]


def _checkpoint_cases() -> list[Case]:
    def load(payload: bytes, **kwargs: Any) -> Callable[[], Any]:
        return lambda: mg.load(io.BytesIO(payload), **kwargs)

    good = io.BytesIO()
    mg.save({"w": mg.ones(3)}, good)
    data = good.getvalue()
    pickled = io.BytesIO()
    mg.save(_Tiny(), pickled)
    return [
        Case("load_text", load(b"not a checkpoint"), ValueError, "mg.load"),
        Case("load_empty", load(b""), ValueError, "mg.load"),
        Case("load_truncated", load(data[: len(data) // 2]), ValueError, "mg.load"),
        Case("load_foreign_zip", load(_foreign_zip()), ValueError, "mg.load"),
        Case("load_plain_pickle", load(b"\x80\x04K\x01."), ValueError, "mg.load.*pickle"),
        Case("load_pickled_module_default", load(pickled.getvalue()), ValueError,
             "mg.load.*weights_only=False"),
        Case("load_cuda_map_location", load(data, map_location="cuda"), DeviceError,
             "mg.load.*map_location"),
        Case("load_bad_map_location", load(data, map_location=3.5), TypeError,
             "mg.load.*map_location"),
        Case("load_tiny_limit", load(data, max_bytes=10), ValueError, "mg.load.*max_bytes"),
        Case("save_self_containing", lambda: mg.save(_self_containing(), io.BytesIO()),
             ValueError, "mg.save.*contains itself"),
        Case("save_unpicklable", lambda: mg.save({"f": lambda: 1}, io.BytesIO()), TypeError,
             "mg.save"),
        Case("load_missing_file", lambda: mg.load("/nonexistent/dir/model.npz"),
             FileNotFoundError, "model.npz"),
        Case("save_into_a_file_path", lambda: mg.save({}, __file__ + "/x.npz"), OSError,
             "x.npz"),
    ]


ALL_CASES = TENSORS + OPS + CONV_POOL + NN + OPTIM + LOSSES + DATA + _checkpoint_cases()


def test_there_are_at_least_a_hundred_distinct_cases():
    ids = [case.id for case in ALL_CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 100


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in ALL_CASES])
def test_hostile_input_raises_a_clear_error_naming_the_op(case: Case) -> None:
    with pytest.raises(case.error) as info:
        case.call()
    message = str(info.value)
    assert re.search(case.names, message, flags=re.IGNORECASE), (
        f"{type(info.value).__name__}: {message}"
    )
    assert "Traceback" not in message
