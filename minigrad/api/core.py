"""Torch-level functions and in-place variants of the methods ``Tensor`` defines itself."""

from __future__ import annotations

from minigrad.declare import document, methods

methods(
    "add sub mul div pow matmul mm bmm multiply divide subtract true_divide neg negative square "
    "reciprocal rsqrt exp log sqrt sin cos tanh sigmoid relu abs clamp clip maximum minimum sign "
    "floor ceil round isnan isfinite softmax log_softmax logical_not "
    "reshape flatten unflatten permute transpose swapaxes t squeeze unsqueeze broadcast_to "
    "split chunk unbind flip clone detach numel",
    inplace="square reciprocal rsqrt log sin cos tanh sigmoid abs clip sign floor ceil round "
    "logical_not",
)
methods("allclose equal expand_as", out=False)

document(
    "tensor as_tensor from_numpy zeros ones empty full eye arange linspace logspace rand randn "
    "randint randperm",
    "creates a tensor from sizes or data: there is no input tensor to be a method of",
)
document(
    "zeros_like ones_like empty_like full_like rand_like randn_like randint_like",
    "creates a new tensor shaped like its input, as in PyTorch, which has no such method",
)
document("cat concatenate stack", "takes a sequence of tensors")
document("is_tensor", "asks whether an object is a tensor at all")
document(
    "manual_seed seed set_default_dtype get_default_dtype set_default_device "
    "get_default_device set_num_threads get_num_threads gradcheck grad no_grad enable_grad "
    "set_grad_enabled inference_mode is_grad_enabled is_inference_mode_enabled "
    "configure_process save load",
    "global state, autograd or checkpoint function, not an op on a tensor",
)
document("where", "also works with Python numbers for both branches (Tensor.where exists too)")
document("pad", "PyTorch spells it nn.functional.pad; minigrad.pad is the same function")
