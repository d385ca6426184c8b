"""Test configuration.

- Hypothesis profiles: HYPOTHESIS_PROFILE=dev (default, quick) or ci (more examples).
- MINIGRAD_REQUIRE_OPTIONAL=1 (set by CI, where PyTorch and the MNIST files are present) turns
  every skipped test into a failure of the run, so optional comparisons cannot silently vanish.
"""

from __future__ import annotations

import os

import pytest

from minigrad.testing.plugin import register_profiles

# the profiles come from minigrad's pytest plugin; registering here too keeps a checkout that
# was not pip-installed (no entry point) on the same profiles
register_profiles()

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("MINIGRAD_REQUIRE_OPTIONAL") and _skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if os.environ.get("MINIGRAD_REQUIRE_OPTIONAL") and _skipped:
        terminalreporter.write_line(
            f"MINIGRAD_REQUIRE_OPTIONAL is set but {len(_skipped)} tests skipped "
            f"(first: {_skipped[0]}): install torch==2.13.0 and set MINIGRAD_MNIST_DIR",
            red=True,
        )
