"""Faults from outside: a checkpoint writer killed with SIGKILL at random moments.

The target must always be the previous or the new complete checkpoint, and stale temporary
files must not pile up: at most one exists at any time, none after the next successful save.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import minigrad as mg

REPO_ROOT = Path(__file__).resolve().parents[1]
ELEMENTS = 12_500_000  # 50 MB of float32: a save takes long enough to be killed in the middle

WRITER = """
import sys
import numpy as np
import minigrad as mg

path, generation = sys.argv[1], int(sys.argv[2])
weights = np.empty({elements}, np.float32)
print("ready", flush=True)
while True:
    weights.fill(generation)
    mg.save({{"generation": generation, "weights": weights}}, path)
    print(generation, flush=True)
    generation += 1
"""


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def check_complete(path: Path, allowed: set[int]) -> int:
    checkpoint = mg.load(path)
    generation = checkpoint["generation"]
    assert generation in allowed, (generation, allowed)
    weights = checkpoint["weights"]
    assert weights.shape == (ELEMENTS,)
    assert weights[0] == generation and weights[-1] == generation
    assert np.array_equal(weights, np.full(ELEMENTS, generation, np.float32))
    return generation


def test_killed_saves_leave_old_or_new_checkpoint_and_no_pile_of_temporaries(tmp_path):
    path = tmp_path / "checkpoint.npz"
    mg.save({"generation": 0, "weights": np.zeros(ELEMENTS, np.float32)}, path)
    script = WRITER.format(elements=ELEMENTS)
    pythonpath = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
    rng = np.random.default_rng(12345)
    last = 0
    killed_mid_save = 0
    for round_ in range(8):
        start = 1000 * (round_ + 1)
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(path), str(start)],
            stdout=subprocess.PIPE, text=True, env=env,
        )
        assert child.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.0, 0.35)))
        child.send_signal(signal.SIGKILL)
        output, _ = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        finished = [int(line) for line in output.split()]
        # the target is the last save that finished, or the one whose rename raced the kill
        newest = finished[-1] if finished else last
        allowed = {newest, newest + 1} if finished else {last, start}
        last = check_complete(path, allowed)
        stale = temporaries(tmp_path)
        assert len(stale) <= 1, stale
        killed_mid_save += len(stale)
    assert killed_mid_save >= 1, "no kill landed in the middle of a save; the test tested nothing"
    mg.save({"generation": -1, "weights": np.ones(ELEMENTS, np.float32)}, path)
    assert temporaries(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]
