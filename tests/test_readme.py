"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_training_example_runs_and_updates_parameters() -> None:
    namespace: dict = {}
    exec(compile(_python_blocks()[0], "README example", "exec"), namespace)
    model, loss = namespace["model"], namespace["loss"]
    assert loss.shape == () and float(loss.item()) > 0
    assert all(p.grad is not None for p in model.parameters())


def test_readme_property_tests_pass() -> None:
    namespace: dict = {}
    exec(compile(_python_blocks()[1], "README property tests", "exec"), namespace)
    tests = [fn for name, fn in namespace.items() if name.startswith("test_")]
    assert len(tests) == 2
    for test in tests:
        test()  # hypothesis runs each property over many generated inputs
