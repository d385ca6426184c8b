"""examples/mnist.py fails soft: Ctrl-C (a real SIGINT) at any stage prints one line and exits
130; --resume continues in the checkpoint's folder; a foreign checkpoint gets a clear error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from mnist import main

import minigrad as mg
import nn

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO_ROOT / "examples"
SMALL = ["--model", "mlp", "--limit-train", "300", "--limit-test", "100", "--batch-size", "100"]

# runs the example as ``python examples/mnist.py ARGS`` after planting a SIGINT at one stage
WRAPPER = textwrap.dedent(
    """
    import os, runpy, signal, sys, time
    sys.path.insert(0, {examples!r})
    stage = sys.argv[1]

    def interrupt(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(30)  # the signal arrives first

    class ImportInterrupt:
        def find_spec(self, name, path=None, target=None):
            if name == "plots":
                interrupt()
            return None

    if stage == "imports":
        sys.meta_path.insert(0, ImportInterrupt())
    elif stage == "training":
        import train
        train.train_epoch = interrupt
    elif stage == "plots":
        import plots
        plots.plot_confusion_matrix = interrupt
    sys.argv = [{script!r}, *sys.argv[2:]]
    runpy.run_path({script!r}, run_name="__main__")
    """
)


def _env() -> dict[str, str]:
    parts = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": os.pathsep.join(parts)}


def run_example(*args: str | Path, cwd: Path, stage: str | None = None):
    if stage is None:
        command = [sys.executable, str(EXAMPLES_DIR / "mnist.py"), *map(str, args)]
    else:
        wrapper = WRAPPER.format(examples=str(EXAMPLES_DIR), script=str(EXAMPLES_DIR / "mnist.py"))
        command = [sys.executable, "-c", wrapper, stage, *map(str, args)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=_env())


def assert_one_line_and_130(result: subprocess.CompletedProcess[str], words: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 130, result.stderr
    assert len(lines) == 1 and lines[0].startswith("interrupted"), result.stderr
    assert words in lines[0], lines[0]


def data_args(mnist_dir: Path, split: Path) -> list[str | Path]:
    """The offline split, built once per session by the offline_split fixture."""
    return ["--offline-split", mnist_dir, "--data-dir", split]


@pytest.mark.parametrize(
    ("stage", "words"),
    [("imports", "interrupted"), ("training", "after 0 epoch(s)"),
     ("plots", "while writing the plots")],
)
def test_sigint_at_each_stage_prints_one_line_and_exits_130(
    stage, words, mnist_dir, offline_split, tmp_path
):
    out = tmp_path / "out"
    args = [*SMALL, "--epochs", "1", *data_args(mnist_dir, offline_split), "--out", out]
    result = run_example(*args, cwd=tmp_path, stage=stage)
    assert_one_line_and_130(result, words)
    if stage == "plots":  # the checkpoint the message points at is complete
        assert mg.load(out / "checkpoint.npz")["epoch"] == 1


def test_sigint_from_outside_while_running(mnist_dir, offline_split, tmp_path):
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES_DIR / "mnist.py"), *SMALL, "--epochs", "50",
         *map(str, data_args(mnist_dir, offline_split)), "--out", str(tmp_path / "out")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )
    assert process.stdout.readline().startswith("model mlp")  # data loaded, training starts
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    result = subprocess.CompletedProcess(process.args, process.returncode, "", stderr)
    assert_one_line_and_130(result, "interrupted")


def test_resume_without_out_continues_in_the_checkpoint_folder(
    mnist_dir, offline_split, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    run_dir = tmp_path / "run7"
    data = [str(arg) for arg in data_args(mnist_dir, offline_split)]
    assert main([*SMALL, "--epochs", "1", *data, "--out", str(run_dir)]) == 0
    resume = ["--resume", str(run_dir / "checkpoint.npz"), "--epochs", "2", *SMALL[2:], *data]
    assert main(resume) == 0
    assert mg.load(run_dir / "checkpoint.npz")["epoch"] == 2
    assert not (tmp_path / "runs").exists()  # not the default folder


def test_a_foreign_checkpoint_gets_a_clear_error(tmp_path, capsys):
    foreign = {
        "state_dict.npz": lambda path: mg.save(nn.Linear(2, 2).state_dict(), path),
        "module.pt": lambda path: mg.save(nn.Linear(2, 2), path),
        "plain.npz": lambda path: np.savez(path, w=np.ones(2)),
        "tensor.npz": lambda path: mg.save(mg.ones(3), path),
    }
    expected = {
        "state_dict.npz": "not a checkpoint of examples/mnist.py",
        "module.pt": "weights_only=False",
        "plain.npz": "not a valid minigrad checkpoint",
        "tensor.npz": "holds a Tensor, not a checkpoint of this script",
    }
    for name, write in foreign.items():
        path = tmp_path / name
        write(path)
        assert main(["--resume", str(path), "--epochs", "2"]) == 1
        stderr = capsys.readouterr().err
        assert "error: cannot resume" in stderr and expected[name] in stderr, stderr
