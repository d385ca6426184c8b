"""Torch-level functions and in-place variants of the methods ``Tensor`` defines itself."""

from __future__ import annotations

from minigrad.declare import document, methods

# a Python number may come first, as in PyTorch: torch.add(2, t), torch.mul(2, 3), torch.pow(2, t)
methods("add sub mul multiply subtract", number_first="any")
methods("pow", number_first="tensor", inplace="pow")
methods(
    "matmul mm bmm dot vdot "
    "exp log sqrt sin cos tanh sigmoid relu clamp clip maximum minimum "
    "softmax log_softmax logical_not "
    "reshape flatten unflatten permute transpose swapaxes t squeeze unsqueeze broadcast_to "
    "split chunk unbind flip clone detach numel",
    inplace="log exp sqrt sin cos tanh sigmoid relu clamp clip logical_not",
)
methods("expand_as", out=False)

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
    "set_grad_enabled inference_mode is_grad_enabled is_inference_mode_enabled gradgradcheck "
    "configure_process save load",
    "global state, autograd or checkpoint function, not an op on a tensor",
)
document("where", "also works with Python numbers for both branches (Tensor.where exists too)")
document("pad", "PyTorch spells it nn.functional.pad; minigrad.pad is the same function")

methods("eq ne lt le gt ge")
