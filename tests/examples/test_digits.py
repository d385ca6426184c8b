"""Learning end to end on real data that needs no download: scikit-learn's 8x8 digits."""

from __future__ import annotations

import pytest
from train import fit

import minigrad as mg
import minigrad.optim as optim
import nn
from minigrad.data import DataLoader, TensorDataset, load_digits


@pytest.mark.slow
def test_small_cnn_learns_digits_to_95_percent() -> None:
    pytest.importorskip("sklearn")
    train_images, train_labels = load_digits(train=True)
    test_images, test_labels = load_digits(train=False)
    mg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),  # (N, 16, 8, 8)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 16, 4, 4)
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 10),
    )
    train_loader = DataLoader(
        TensorDataset(train_images, train_labels), batch_size=32, shuffle=True, seed=0
    )
    test_loader = DataLoader(TensorDataset(test_images, test_labels), batch_size=512)
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    history = fit(model, train_loader, test_loader, optimizer, epochs=15, log=None)
    assert history[-1]["test_acc"] >= 0.95, history[-1]
