"""``nn.utils``: gradient clipping, parameter vectors and (``nn.utils.rnn``) variable-length
sequences, as ``torch.nn.utils``."""

from nn.utils import rnn

__all__ = ["rnn"]
