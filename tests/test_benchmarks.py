"""The benchmark helpers compute what they claim (speed itself is only ever measured by
``python -m benchmarks``, never asserted in tests)."""

from __future__ import annotations

import numpy as np

from benchmarks.flops import layer_flops, training_flops
from benchmarks.models import minigrad_model
from benchmarks.profile import profile_layers


def test_simplecnn_flops_match_the_hand_count() -> None:
    conv1 = 2 * 8 * 1 * 9 * 28 * 28
    conv2 = 2 * 16 * 8 * 9 * 14 * 14
    linear = 2 * 784 * 10
    model = minigrad_model("SimpleCNN")
    assert [flops for _, flops in layer_flops(model)] == [conv1, conv2, linear]
    # forward, weight and input gradients; the first layer's input gradient is never needed
    assert training_flops(model) == 3 * (conv1 + conv2 + linear) - conv1


def test_profile_lists_every_layer_of_a_training_step() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 4)
    rows = profile_layers(minigrad_model("SimpleCNN"), x, y, repeats=1)
    layers = [row["layer"] for row in rows]
    for expected in ("Conv2d#0", "Conv2d#1", "MaxPool2d#1", "MatMul#0", "whole step"):
        assert expected in layers
    conv = rows[layers.index("Conv2d#0")]
    assert conv["shape"] == "(4, 8, 28, 28)" and conv["forward_ms"] > 0 and conv["backward_ms"] > 0
