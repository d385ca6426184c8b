"""``nn.utils``: gradient clipping, parameter vectors, (``nn.utils.rnn``) variable-length
sequences, parametrizations (``parametrize``, ``parametrizations``) and the hook-based
weight_norm/spectral_norm, as ``torch.nn.utils``."""

from nn.utils import parametrizations, parametrize, rnn
from nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from nn.utils.weight_norm import remove_weight_norm, weight_norm

__all__ = [
    "rnn",
    "parametrize",
    "parametrizations",
    "weight_norm",
    "remove_weight_norm",
    "spectral_norm",
    "remove_spectral_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]
