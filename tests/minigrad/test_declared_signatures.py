"""The torch-level spellings derived from one declaration show the signature they are called
with: ``help(minigrad.exp)`` and the API reference read ``exp(input, *, out=None)``."""

from __future__ import annotations

import inspect

import pytest

import minigrad
from minigrad import declare


@pytest.mark.parametrize("name", ["exp", "add", "sum", "clamp", "relu", "max"])
def test_a_function_from_a_method_names_its_input_and_takes_out(name: str) -> None:
    params = inspect.signature(getattr(minigrad, name)).parameters
    first = next(iter(params.values()))
    assert first.name == "input"
    assert params["out"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["out"].default is None


def test_every_declared_function_with_out_says_so_in_its_signature() -> None:
    missing = []
    for name in declare.FUNCTIONS:
        function = getattr(minigrad, name, None)
        if function is None or not callable(function):
            continue
        doc = function.__doc__ or ""
        if "``out=`` receives the result" not in doc:
            continue
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            continue
        if "out" not in params:
            missing.append(name)
    assert not missing, f"functions taking out= whose signature lacks it: {missing}"


def test_the_signature_is_the_one_that_runs() -> None:
    x = minigrad.tensor([0.0, 1.0])
    out = minigrad.empty(2)
    assert minigrad.exp(input=x, out=out) is out
    assert minigrad.add(x, x, alpha=2).tolist() == [0.0, 3.0]
