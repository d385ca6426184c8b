"""Grad mode is per thread, as in PyTorch: real threads, switching as often as the interpreter
allows, never see each other's no_grad / enable_grad / set_grad_enabled."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest

import minigrad as mg


@pytest.fixture(autouse=True)
def switch_constantly() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def run_threads(targets: list[Callable[[], None]], timeout: float = 30.0) -> None:
    """Runs the targets in threads; re-raises the first failure of any of them here."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as error:  # noqa: BLE001 - reported in the main thread
                errors.append(error)

        return run

    threads = [threading.Thread(target=guarded(target)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a thread hung"
    if errors:
        raise errors[0]


def test_training_thread_records_while_another_sits_in_no_grad():
    inside = threading.Event()
    trained = threading.Event()
    steps = 200

    def idle_in_no_grad() -> None:
        with mg.no_grad():
            inside.set()
            while not trained.is_set():
                y = mg.ones(3, requires_grad=True) * 2
                assert not y.requires_grad and y.grad_fn is None
                assert not mg.is_grad_enabled()
        assert mg.is_grad_enabled()

    def train() -> None:
        assert inside.wait(10)
        weight = mg.zeros(3, requires_grad=True)
        target = np.array([1.0, -2.0, 0.5], np.float32)
        try:
            for _ in range(steps):
                loss = ((weight - mg.tensor(target)) ** 2).sum()
                assert loss.requires_grad and loss.grad_fn is not None
                loss.backward()
                with mg.no_grad():
                    weight -= 0.1 * weight.grad
                weight.grad = None
                assert mg.is_grad_enabled()
        finally:
            trained.set()
        np.testing.assert_allclose(weight._data, target, atol=1e-4)

    run_threads([idle_in_no_grad, train])
    assert mg.is_grad_enabled()


def test_many_threads_toggling_grad_mode_leave_every_other_thread_alone():
    shared_no_grad = mg.no_grad()  # one instance entered by all threads at once
    start = threading.Barrier(17)

    @mg.no_grad()
    def decorated() -> bool:
        return mg.is_grad_enabled()

    def toggler(seed: int) -> Callable[[], None]:
        def run() -> None:
            rng = np.random.default_rng(seed)
            start.wait()
            for _ in range(300):
                choice = rng.integers(4)
                if choice == 0:
                    with shared_no_grad:
                        assert not mg.is_grad_enabled()
                        with mg.enable_grad():
                            assert mg.is_grad_enabled()
                        assert not mg.is_grad_enabled()
                elif choice == 1:
                    with mg.set_grad_enabled(False):
                        assert not (mg.ones(1, requires_grad=True) + 1).requires_grad
                elif choice == 2:
                    assert decorated() is False
                else:
                    assert (mg.ones(1, requires_grad=True) + 1).requires_grad
                assert mg.is_grad_enabled()

        return run

    def main_thread_watcher() -> None:
        start.wait()
        for _ in range(2000):
            assert mg.is_grad_enabled()

    with mg.no_grad():  # the main thread's own mode is not changed by the threads either
        run_threads([toggler(seed) for seed in range(16)] + [main_thread_watcher])
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_a_new_thread_starts_with_grad_enabled_whatever_its_creator_does():
    seen: list[bool] = []

    def look() -> None:
        seen.append(mg.is_grad_enabled())

    with mg.no_grad():
        run_threads([look])
    mg.set_grad_enabled(False)
    try:
        run_threads([look])
    finally:
        mg.set_grad_enabled(True)
    assert seen == [True, True]
