"""Optional: models, layers and training steps compared with PyTorch (skipped without torch).

Weights are copied from the PyTorch model through load_state_dict (the state dict keys are the
same), then forward passes, gradients and optimizer steps are compared in float64. Layers
feeding a batch norm have no bias: its gradient is zero up to rounding, which Adam would
amplify into noise."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.optim as optim
import nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def ours_and_theirs():
    ours = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2, dilation=1, groups=2),
        nn.LeakyReLU(0.1),
        nn.AvgPool2d(2, stride=1),
        nn.AdaptiveAvgPool2d((2, 2)),
        nn.Flatten(),
        nn.Linear(24, 16, bias=False),
        nn.BatchNorm1d(16),
        nn.Tanh(),
        nn.Dropout(0.0),
        nn.Linear(16, 5),
    ).double()
    theirs = tnn.Sequential(
        tnn.Conv2d(1, 4, 3, padding=1, bias=False),
        tnn.BatchNorm2d(4),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Conv2d(4, 6, 3, stride=2, dilation=1, groups=2),
        tnn.LeakyReLU(0.1),
        tnn.AvgPool2d(2, stride=1),
        tnn.AdaptiveAvgPool2d((2, 2)),
        tnn.Flatten(),
        tnn.Linear(24, 16, bias=False),
        tnn.BatchNorm1d(16),
        tnn.Tanh(),
        tnn.Dropout(0.0),
        tnn.Linear(16, 5),
    ).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def batch(seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((6, 1, 12, 12)), rng.integers(0, 5, 6)


def assert_params_close(ours, theirs, rtol=1e-10, atol=1e-12):
    their_state = theirs.state_dict()
    for key, value in ours.state_dict().items():
        np.testing.assert_allclose(
            value._data, their_state[key].detach().numpy(), rtol=rtol, atol=atol, err_msg=key
        )


def test_forward_backward_and_running_stats_match():
    ours, theirs = ours_and_theirs()
    x, y = batch(0)
    our_loss = nn.CrossEntropyLoss(label_smoothing=0.1)(ours(mg.tensor(x)), mg.tensor(y))
    their_loss = tnn.CrossEntropyLoss(label_smoothing=0.1)(theirs(torch.tensor(x)), torch.tensor(y))
    np.testing.assert_allclose(our_loss.item(), their_loss.item(), rtol=1e-12)
    our_loss.backward()
    their_loss.backward()
    their_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(
            param.grad._data, their_params[name].grad.detach().numpy(), rtol=1e-9, atol=1e-12,
            err_msg=name,
        )
    assert_params_close(ours, theirs)  # running statistics included
    ours.eval()
    theirs.eval()
    x2, _ = batch(1)
    np.testing.assert_allclose(
        ours(mg.tensor(x2))._data, theirs(torch.tensor(x2)).detach().numpy(), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
        ("Adam", dict(lr=0.01, weight_decay=1e-3)),
        ("AdamW", dict(lr=0.01, amsgrad=True)),
    ],
)
def test_training_steps_match(name, kwargs):
    ours, theirs = ours_and_theirs()
    our_opt = getattr(optim, name)(ours.parameters(), **kwargs)
    their_opt = getattr(torch.optim, name)(theirs.parameters(), foreach=False, **kwargs)
    our_sched = optim.lr_scheduler.StepLR(our_opt, step_size=2, gamma=0.5)
    their_sched = torch.optim.lr_scheduler.StepLR(their_opt, step_size=2, gamma=0.5)
    for step in range(4):
        x, y = batch(step)
        our_opt.zero_grad()
        their_opt.zero_grad()
        nn.CrossEntropyLoss()(ours(mg.tensor(x)), mg.tensor(y)).backward()
        tnn.CrossEntropyLoss()(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        our_opt.step()
        their_opt.step()
        our_sched.step()
        their_sched.step()
    assert_params_close(ours, theirs, rtol=1e-8, atol=1e-10)
