"""nn: PyTorch-style modules on minigrad tensors. ``import nn`` stands in for ``torch.nn``."""

from nn import activation as _activation
from nn import conv as _conv
from nn import fold as _fold
from nn import functional, init, utils
from nn import loss as _loss
from nn import padding as _padding
from nn import pixelshuffle as _pixelshuffle
from nn import pooling as _pooling
from nn import upsampling as _upsampling
from nn.activation import *  # noqa: F403  (every activation layer: nn.activation.__all__)
from nn.attention import MultiheadAttention
from nn.bilinear import Bilinear
from nn.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from nn.conv import *  # noqa: F403  (Conv1d/2d/3d, ConvTranspose1d/2d/3d)
from nn.dropout import (
    AlphaDropout,
    Dropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    FeatureAlphaDropout,
)
from nn.embedding import Embedding, EmbeddingBag
from nn.flatten import Flatten, Unflatten
from nn.fold import Fold, Unfold
from nn.linear import Identity, Linear
from nn.loss import *  # noqa: F403  (every loss: nn.loss.__all__)
from nn.module import Module
from nn.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LayerNorm,
    LocalResponseNorm,
    RMSNorm,
)
from nn.padding import *  # noqa: F403  (ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad)
from nn.parameter import Parameter
from nn.pixelshuffle import ChannelShuffle, PixelShuffle, PixelUnshuffle
from nn.pooling import *  # noqa: F403  (max, average, adaptive, unpool and lp pools)
from nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from nn.summary import Summary, summary
from nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from nn.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "Module",
    "Parameter",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "Linear",
    "Identity",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Flatten",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "LogSoftmax",
    "Dropout",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LayerNorm",
    "GroupNorm",
    "RMSNorm",
    "LocalResponseNorm",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "AlphaDropout",
    "FeatureAlphaDropout",
    "Embedding",
    "EmbeddingBag",
    "RNNBase",
    "RNN",
    "LSTM",
    "GRU",
    "RNNCellBase",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "MultiheadAttention",
    "TransformerEncoderLayer",
    "TransformerEncoder",
    "TransformerDecoderLayer",
    "TransformerDecoder",
    "Transformer",
    "CrossEntropyLoss",
    "NLLLoss",
    "MSELoss",
    "init",
    "functional",
    "summary",
    "Summary",
]
__all__ += [
    *[name for name in [*_activation.__all__, *_loss.__all__] if name not in __all__],
    "ParameterList", "ParameterDict", "Unflatten", "Bilinear", "utils",
]
__all__ += [
    name for module in (_conv, _pooling, _padding, _upsampling, _pixelshuffle, _fold)
    for name in module.__all__ if name not in __all__
]
