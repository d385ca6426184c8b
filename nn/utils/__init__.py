"""``nn.utils``: gradient clipping, parameter vectors and (``nn.utils.rnn``) variable-length
sequences, as ``torch.nn.utils``."""

from nn.utils import rnn
from nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = [
    "rnn",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]
