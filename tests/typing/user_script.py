"""A typical training script, written as a PyTorch user writes one; ``tests/test_typing.py``
type-checks it with ``mypy --strict`` (it is not run)."""

from __future__ import annotations

import os
import tempfile

import minigrad
import minigrad.optim as optim
import nn
import nn.functional as F
from minigrad.data import DataLoader, TensorDataset
from minigrad.optim.lr_scheduler import StepLR
from minigrad.types import Number


class Net(nn.Module):
    """(N, 1, 8, 8) images -> (N, 10) logits."""

    def __init__(self, hidden: int = 16) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(8, hidden, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(hidden * 2 * 2, 10)

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = self.dropout(minigrad.flatten(x, 1))
        logits: minigrad.Tensor = self.fc(x)  # Module.__call__ returns Any, as in PyTorch
        return logits


def make_data(n: int) -> TensorDataset:
    images = minigrad.randn(n, 1, 8, 8)
    labels = minigrad.randint(0, 10, (n,))
    return TensorDataset(images, labels)


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    correct = 0
    total = 0
    with minigrad.no_grad():
        for images, labels in loader:
            logits = model(images)
            pred = logits.argmax(dim=1)
            correct += int((pred == labels).sum().item())
            total += labels.size(0)
    return correct / total


def train(epochs: int = 2) -> dict[str, minigrad.Tensor]:
    minigrad.manual_seed(0)
    device = minigrad.device("cuda" if minigrad.cuda.is_available() else "cpu")
    model = Net().to(device)
    train_loader = DataLoader(make_data(64), batch_size=16, shuffle=True)
    test_loader = DataLoader(make_data(32), batch_size=16)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    adam = optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    running: float = 0.0
    for epoch in range(epochs):
        model.train()
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels, label_smoothing=0.1)
            loss.backward()
            optimizer.step()
            running += loss.item()
        scheduler.step()
        print(f"epoch {epoch}: lr {scheduler.get_last_lr()[0]:.3f}, "
              f"accuracy {evaluate(model, test_loader):.2%}")
    adam.zero_grad()

    values, indices = minigrad.randn(4, 5).max(dim=1)
    largest: minigrad.Tensor = minigrad.randn(4, 5).max()
    first, second = minigrad.arange(10).split(5)
    parts: tuple[minigrad.Tensor, ...] = minigrad.randn(6).chunk(3)
    shape: minigrad.Size = values.size()
    rows: int = indices.size(0) + largest.ndim + len(parts) + first.numel() + second.shape[0]
    number: Number = minigrad.tensor([1.5]).item()
    print(shape, rows, number, minigrad.exp(values).mean().item())

    state = model.state_dict()
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.pt")
        minigrad.save(state, path)
        model.load_state_dict(minigrad.load(path))
    return state


if __name__ == "__main__":
    train()
