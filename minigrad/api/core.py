"""Torch-level functions and in-place variants of the methods ``Tensor`` defines itself."""

from __future__ import annotations

from minigrad.declare import methods

methods(
    "add sub mul div pow matmul mm bmm multiply divide subtract true_divide neg negative square "
    "reciprocal rsqrt exp log sqrt sin cos tanh sigmoid relu abs clamp clip maximum minimum sign "
    "floor ceil round isnan isfinite softmax log_softmax masked_fill logical_not "
    "sum mean var std max min amax amin argmax argmin logsumexp gather all any "
    "reshape flatten unflatten permute transpose swapaxes t squeeze unsqueeze broadcast_to "
    "split chunk unbind flip clone detach numel",
    inplace="square reciprocal rsqrt log sin cos tanh sigmoid abs clip sign floor ceil round "
    "masked_fill logical_not",
)
methods("allclose equal expand_as", out=False)
