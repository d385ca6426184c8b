"""Sequential, ModuleList and ModuleDict."""

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
import nn


def test_sequential_applies_in_order():
    first, second = nn.Linear(3, 4), nn.Linear(4, 2)
    seq = nn.Sequential(first, nn.ReLU(), second)
    x = mg.randn(5, 3)
    expected = second(first(x).relu())
    np.testing.assert_array_equal(seq(x)._data, expected._data)


def test_sequential_indexing_and_slicing():
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3), nn.Tanh()]
    seq = nn.Sequential(*layers)
    assert len(seq) == 4
    assert seq[0] is layers[0] and seq[-1] is layers[3]
    head = seq[1:3]
    assert isinstance(head, nn.Sequential) and list(head) == layers[1:3]
    assert [n for n, _ in head.named_parameters()] == ["2.weight", "2.bias"]
    with pytest.raises(IndexError, match="out of range"):
        seq[4]


def test_sequential_with_ordered_dict_names():
    seq = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("act", nn.ReLU())]))
    assert [n for n, _ in seq.named_parameters()] == ["conv.weight", "conv.bias"]
    assert seq.conv is seq[0]


def test_sequential_mutation():
    seq = nn.Sequential(nn.ReLU(), nn.Tanh())
    seq.append(nn.Sigmoid())
    assert [type(m).__name__ for m in seq] == ["ReLU", "Tanh", "Sigmoid"]
    seq[1] = nn.Identity()
    assert isinstance(seq[1], nn.Identity)
    del seq[0]
    assert list(seq._modules) == ["0", "1"]
    assert isinstance(seq[0], nn.Identity)


def test_module_list_registers_and_indexes():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    stack = Stack()
    assert len(list(stack.parameters())) == 6
    assert [n for n, _ in stack.named_parameters()][:2] == ["layers.0.weight", "layers.0.bias"]
    assert stack(mg.randn(1, 2)).shape == (1, 2)
    stack.layers.append(nn.Linear(2, 2))
    stack.layers.insert(0, nn.ReLU())
    assert len(stack.layers) == 5 and isinstance(stack.layers[0], nn.ReLU)
    del stack.layers[0]
    assert list(stack.layers._modules) == ["0", "1", "2", "3"]
    assert isinstance(stack.layers[1:], nn.ModuleList)
    stack.layers += [nn.Tanh()]
    assert len(stack.layers) == 5


def test_module_dict():
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    assert list(heads.keys()) == ["a", "b"] and "a" in heads and len(heads) == 2
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    heads["c"] = nn.ReLU()
    assert list(heads) == ["a", "b", "c"]
    assert isinstance(heads.pop("c"), nn.ReLU) and "c" not in heads
    assert heads["b"](mg.randn(4, 2)).shape == (4, 3)
