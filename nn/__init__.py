"""nn: PyTorch-style modules on minigrad tensors. ``import nn`` stands in for ``torch.nn``."""

from nn import functional, init
from nn.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from nn.container import ModuleDict, ModuleList, Sequential
from nn.conv import Conv2d
from nn.dropout import Dropout
from nn.flatten import Flatten
from nn.linear import Identity, Linear
from nn.loss import CrossEntropyLoss, MSELoss, NLLLoss
from nn.module import Module
from nn.normalization import BatchNorm1d, BatchNorm2d
from nn.parameter import Parameter
from nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from nn.summary import Summary, summary

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
    "CrossEntropyLoss",
    "NLLLoss",
    "MSELoss",
    "init",
    "functional",
    "summary",
    "Summary",
]
