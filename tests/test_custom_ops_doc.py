"""Every ```python block of docs/custom_ops.md runs as written, in order in one namespace
(later blocks use the ops defined earlier), and the tests the last block defines pass."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "custom_ops.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_doc_shows_both_apis_and_how_to_test_them():
    text = "\n".join(BLOCKS)
    assert len(BLOCKS) >= 5
    for name in ("(Function)", "(Primitive)", "save_for_backward", "saved_tensors", "ctx.saved",
                 "needs_input_grad", "mark_non_differentiable", "set_materialize_grads",
                 "setup_context", "once_differentiable", "gradcheck",
                 "assert_grad_matches_numeric"):
        assert name in text, name


def test_every_block_runs_and_its_tests_pass():
    namespace: dict = {"__name__": "custom_ops_doc"}
    for index, block in enumerate(BLOCKS):
        exec(compile(block, f"docs/custom_ops.md block {index + 1}", "exec"), namespace)
    tests = [fn for name, fn in namespace.items() if name.startswith("test_")]
    assert len(tests) >= 3
    for test in tests:
        test()
