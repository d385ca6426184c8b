"""Learning-rate schedulers against their closed forms and, when installed, PyTorch."""

import math

import pytest

import minigrad as mg
import minigrad.optim as optim
from minigrad.optim.lr_scheduler import CosineAnnealingLR, MultiStepLR, OneCycleLR, StepLR


def make_sgd(lr=0.1, momentum=0.9):
    return optim.SGD([mg.zeros(2, requires_grad=True)], lr=lr, momentum=momentum)


def lrs(scheduler, steps):
    out = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        out.append(scheduler.get_last_lr()[0])
    return out


def test_step_lr():
    values = lrs(StepLR(make_sgd(), step_size=3, gamma=0.5), 9)
    expected = [0.1 * 0.5 ** (epoch // 3) for epoch in range(10)]
    assert values == pytest.approx(expected, rel=1e-15)


def test_multi_step_lr():
    values = lrs(MultiStepLR(make_sgd(), milestones=[2, 5, 5], gamma=0.1), 7)
    expected = [0.1, 0.1, 0.01, 0.01, 0.01, 1e-4, 1e-4, 1e-4]
    assert values == pytest.approx(expected, rel=1e-12)


def test_cosine_annealing_lr_follows_the_cosine():
    values = lrs(CosineAnnealingLR(make_sgd(), T_max=10, eta_min=0.001), 10)
    expected = [0.001 + 0.5 * (0.1 - 0.001) * (1 + math.cos(math.pi * t / 10)) for t in range(11)]
    assert values == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_one_cycle_lr_shape_and_momentum():
    opt = make_sgd()
    scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=100)
    values = lrs(scheduler, 99)
    assert values[0] == pytest.approx(1.0 / 25)
    assert max(values) == pytest.approx(1.0)
    assert values.index(max(values)) == 29  # end of the warm-up: pct_start * total - 1
    assert values[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)
    with pytest.raises(ValueError, match="Tried to step 101 times"):
        scheduler.step()
        scheduler.step()


def test_one_cycle_lr_cycles_adam_beta1():
    opt = optim.Adam([mg.zeros(2, requires_grad=True)], lr=0.1)
    scheduler = OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=5, anneal_strategy="linear")
    assert opt.param_groups[0]["betas"] == (0.95, 0.999)
    for _ in range(2):  # the warm-up ends at step pct_start * total_steps - 1 = 2
        opt.step()
        scheduler.step()
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.85)


def test_scheduler_state_dict_round_trip():
    first = StepLR(make_sgd(), step_size=2, gamma=0.5)
    lrs(first, 3)
    second = StepLR(make_sgd(), step_size=2, gamma=0.5)
    second.load_state_dict(first.state_dict())
    assert second.last_epoch == 3
    assert "optimizer" not in first.state_dict()


def test_scheduler_requires_an_optimizer():
    with pytest.raises(TypeError, match="not an Optimizer"):
        StepLR(object(), step_size=1)


@pytest.mark.parametrize(
    "name,kwargs,steps",
    [
        ("StepLR", dict(step_size=3, gamma=0.3), 20),
        ("MultiStepLR", dict(milestones=[3, 7, 7, 12], gamma=0.5), 20),
        ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01), 30),
        ("OneCycleLR", dict(max_lr=0.5, total_steps=40), 39),
        (
            "OneCycleLR",
            dict(max_lr=0.5, total_steps=40, three_phase=True, anneal_strategy="linear"),
            39,
        ),
    ],
)
def test_schedulers_match_pytorch_exactly(name, kwargs, steps):
    torch = pytest.importorskip("torch")
    ours = make_sgd()
    theirs = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
    our_values = lrs(getattr(optim.lr_scheduler, name)(ours, **kwargs), steps)
    their_scheduler = getattr(torch.optim.lr_scheduler, name)(theirs, **kwargs)
    their_values = [their_scheduler.get_last_lr()[0]]
    for _ in range(steps):
        theirs.step()
        their_scheduler.step()
        their_values.append(their_scheduler.get_last_lr()[0])
    assert our_values == their_values
    assert ours.param_groups[0]["momentum"] == theirs.param_groups[0]["momentum"]
