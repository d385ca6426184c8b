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
    for expected in ("Conv2d#0", "Conv2d#1", "MaxPool2x2#1", "Linear#0", "whole step"):
        assert expected in layers
    conv = rows[layers.index("Conv2d#0")]
    assert conv["shape"] == "(4, 8, 28, 28)" and conv["forward_ms"] > 0 and conv["backward_ms"] > 0


def test_layer_bounds_pair_each_conv_and_linear_with_its_flops() -> None:
    from benchmarks.flops import layer_bounds

    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 4)
    model = minigrad_model("ExampleNet")
    rows = profile_layers(model, x, y, repeats=1)
    bounds = layer_bounds(model, rows, 4, peak_gflops=100.0)
    assert [b["layer"] for b in bounds] == ["conv 1->32", "conv 32->64", "linear 9216->128",
                                            "linear 128->10"]
    assert [b["op"] for b in bounds] == ["Conv2d#0", "Conv2d#1", "Linear#0", "Linear#1"]
    conv2 = 2 * 64 * 32 * 9 * 24 * 24
    # forward + weight gradient + input gradient at 100 GFLOP/s, batch 4
    assert np.isclose(bounds[1]["bound_ms"], 1e3 * 4 * 3 * conv2 / 100e9)
    first = 2 * 32 * 9 * 26 * 26  # no input gradient for the first layer
    assert np.isclose(bounds[0]["bound_ms"], 1e3 * 4 * 2 * first / 100e9)
