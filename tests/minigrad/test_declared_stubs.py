"""The typed declarations (minigrad/_declared.pyi) match the ops declared now."""

from __future__ import annotations

import inspect

import minigrad
from minigrad import _stubgen
from minigrad.declare import DECLARED
from minigrad.tensor import Tensor


def test_checked_in_stub_is_current() -> None:
    assert _stubgen.PATH.read_text() == _stubgen.generate(), (
        "minigrad/_declared.pyi is out of date with the op declarations; "
        f"run `{_stubgen.COMMAND}` and commit the result"
    )


def test_every_attribute_set_on_tensor_after_its_class_statement_is_declared() -> None:
    body = _stubgen._tensor_class_body()
    declared = {d.name for d in DECLARED if d.kind != "function"}
    slots = set(Tensor.__slots__)
    added = {n for n in vars(Tensor) if n not in body and n not in slots
             and n not in ("__module__", "__doc__", "__dict__", "__weakref__", "__annotations__")}
    assert added <= declared, f"set on Tensor without minigrad.declare: {sorted(added - declared)}"


def test_stub_names_every_declared_method_and_function() -> None:
    text = _stubgen.PATH.read_text()
    body = _stubgen._tensor_class_body()
    for d in DECLARED:
        if d.kind == "function" and getattr(minigrad, d.name) is not minigrad.declare.FUNCTIONS[
                d.name]:
            continue  # minigrad/__init__.py imports a function of this name itself
        if d.kind != "function" and d.name in body:
            continue  # the class statement defines it
        assert f"def {d.name}(" in text, d.name


def test_method_stub_keeps_the_declaring_signature() -> None:
    # the tensor argument becomes self; the other parameters keep their names and kinds
    declared = next(d for d in DECLARED if d.name == "clamp_min" and d.kind == "method")
    params = list(inspect.signature(declared.fn).parameters)[1:]
    line = next(x for x in _stubgen.PATH.read_text().splitlines()
                if x.strip().startswith("def clamp_min("))
    assert line.strip().startswith("def clamp_min(self, " + params[0])
