"""Mistakes the type checker must catch in a user's script; ``tests/test_typing.py`` expects
one mypy error on each line that ends in a comment naming its error code (``E: code``)."""

from __future__ import annotations

import minigrad
import minigrad.functional
import nn
import nn.functional

x = minigrad.randn(2, 3)
minigrad.exp("not a tensor")  # E: arg-type
n = x.size(0) + "a"  # E: operator
m: minigrad.Tensor = x.max(dim=1)  # E: assignment
s: str = x.item()  # E: assignment
minigrad.no_such_function(x)  # E: attr-defined
x.no_such_method()  # E: attr-defined
y: int = x.split(1)  # E: assignment
minigrad.functional.cross_entropy(x, [0, 1])  # E: arg-type
x.sum(dim=1).backward(retain_graph="yes")  # E: arg-type
nn.functional.relu(x, inplace="no")  # E: arg-type
nn.Linear(3, 4).weight.no_such_method()  # E: attr-defined
