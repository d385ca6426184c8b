"""The public API type-checks from a user's side: ``mypy --strict`` passes on a typical
training script (tests/typing/user_script.py) and reports each mistake in
tests/typing/user_errors.py, on the line that makes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api")

HERE = Path(__file__).parent / "typing"
SCRIPT = HERE / "user_script.py"
ERRORS = HERE / "user_errors.py"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[int, str]]]:
    """mypy's errors per checked file, as (line, error code), from one run over both files."""
    cache = tmp_path_factory.mktemp("mypy_cache")
    stdout, stderr, _ = api.run([
        "--strict", "--follow-imports=silent", "--config-file=", "--python-version=3.10",
        f"--cache-dir={cache}", "--no-error-summary", "--show-error-codes",
        str(SCRIPT), str(ERRORS),
    ])
    assert "error: " in stdout or stdout == "", stderr  # mypy itself ran
    found: dict[str, list[tuple[int, str]]] = {SCRIPT.name: [], ERRORS.name: []}
    for line in stdout.splitlines():
        match = re.match(r"(.+?):(\d+): error: .*\[([a-z-]+)\]$", line)
        assert match, f"unexpected mypy output: {line}"
        found.setdefault(Path(match[1]).name, []).append((int(match[2]), match[3]))
    found["_stdout"] = [(0, stdout)]
    return found


def test_user_script_type_checks_strictly(report: dict[str, list[tuple[int, str]]]) -> None:
    assert report[SCRIPT.name] == [], report["_stdout"][0][1]


def test_user_mistakes_are_reported_on_their_lines(
        report: dict[str, list[tuple[int, str]]]) -> None:
    marks = [(number, re.search(r"# E: ([a-z-]+)$", line))
             for number, line in enumerate(ERRORS.read_text().splitlines(), start=1)]
    expected = [(number, mark[1]) for number, mark in marks if mark]
    assert len(expected) >= 8
    assert sorted(report[ERRORS.name]) == expected, report["_stdout"][0][1]


def test_errors_come_only_from_the_user_files(
        report: dict[str, list[tuple[int, str]]]) -> None:
    # the library's own modules are followed silently: they are checked by `mypy` at the root
    assert set(report) == {SCRIPT.name, ERRORS.name, "_stdout"}
