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


# ------------------------------------------------------------- the schedulers added later

S = optim.lr_scheduler


def two_groups(lr=0.1):
    params = [mg.zeros(2, requires_grad=True), mg.zeros(3, requires_grad=True)]
    return optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": lr / 2}], lr=lr,
                     momentum=0.9)


def all_lrs(scheduler, steps, metrics=None):
    out = [list(scheduler.get_last_lr())]
    for step in range(steps):
        scheduler.optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[step])
        out.append(list(scheduler.get_last_lr()))
    return out


@pytest.mark.parametrize(
    "make,closed_form",
    [
        (
            lambda o: S.LambdaLR(o, lambda e: 0.5 ** (e // 2)),
            lambda base, e: base * 0.5 ** (e // 2),
        ),
        (lambda o: S.ExponentialLR(o, gamma=0.8), lambda base, e: base * 0.8**e),
        (
            lambda o: S.LinearLR(o, start_factor=0.2, end_factor=1.0, total_iters=4),
            lambda base, e: base * (0.2 + 0.8 * min(e, 4) / 4),
        ),
        (
            lambda o: S.ConstantLR(o, factor=0.25, total_iters=3),
            lambda base, e: base * (0.25 if e < 3 else 1.0),
        ),
        (
            lambda o: S.PolynomialLR(o, total_iters=6, power=2.0),
            lambda base, e: base * (1 - min(e, 6) / 6) ** 2,
        ),
        (
            lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
            lambda base, e: 0.01
            + (base - 0.01)
            * (1 + math.cos(math.pi * _warm_restart_position(e, 3, 2)))
            / 2,
        ),
        (
            lambda o: S.CyclicLR(
                o, base_lr=0.01, max_lr=0.09, step_size_up=4, cycle_momentum=False
            ),
            lambda base, e: 0.01 + 0.08 * (1 - abs(e % 8 - 4) / 4),
        ),
        (
            lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.09, step_size_up=2,
                                 mode="triangular2", cycle_momentum=False),
            lambda base, e: 0.01 + 0.08 * (1 - abs(e % 4 - 2) / 2) / 2 ** (e // 4),
        ),
        (
            lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.09, step_size_up=2,
                                 mode="exp_range", gamma=0.9, cycle_momentum=False),
            lambda base, e: 0.01 + 0.08 * (1 - abs(e % 4 - 2) / 2) * 0.9**e,
        ),
    ],
)
def test_schedules_follow_their_closed_forms(make, closed_form):
    opt = two_groups()
    values = all_lrs(make(opt), 20)
    bases = [0.1, 0.05]
    for epoch, lrs in enumerate(values):
        for lr, base in zip(lrs, bases, strict=True):
            # (the CyclicLR forms ignore the group's base: both groups cycle from 0.01)
            assert lr == pytest.approx(closed_form(base, epoch), rel=1e-12, abs=1e-15), epoch


def _warm_restart_position(epoch, period, mult):
    """Fraction of the current period that has passed at ``epoch``."""
    while epoch >= period:
        epoch -= period
        period *= mult
    return epoch / period


def test_multiplicative_lr_multiplies_from_the_second_epoch():
    values = all_lrs(S.MultiplicativeLR(two_groups(), lambda e: 0.5), 3)
    assert values == [[0.1, 0.05], [0.05, 0.025], [0.025, 0.0125], [0.0125, 0.00625]]


def test_cyclic_lr_cycles_momentum_inversely():
    opt = two_groups()
    scheduler = S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=2, base_momentum=0.8,
                           max_momentum=0.9)
    momentums = [opt.param_groups[0]["momentum"]]
    for _ in range(4):
        opt.step()
        scheduler.step()
        momentums.append(opt.param_groups[0]["momentum"])
    assert momentums == pytest.approx([0.9, 0.85, 0.8, 0.85, 0.9], rel=1e-12)


def test_reduce_lr_on_plateau_waits_for_patience_and_cooldown():
    opt = two_groups()
    scheduler = S.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.02)
    metrics = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    values = [lrs[0] for lrs in all_lrs(scheduler, len(metrics), metrics)]
    # bad epochs: 2nd and 3rd -> cut at metric 3; cooldown ignores metric 4; cut again at 6
    # (0.025 is clipped to 0.02 later on); improvement at 0.5 resets the count
    assert values == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025,
                                    0.02], rel=1e-15)
    assert scheduler.optimizer.param_groups[1]["lr"] == 0.02  # 0.05 -> 0.025 -> min_lr


def test_sequential_lr_switches_at_the_milestones():
    opt = two_groups()
    warmup = S.LinearLR(opt, start_factor=0.5, total_iters=2)
    decay = S.ExponentialLR(opt, gamma=0.5)
    values = [lrs[0] for lrs in all_lrs(S.SequentialLR(opt, [warmup, decay], [3]), 5)]
    assert values == pytest.approx([0.05, 0.075, 0.1, 0.1, 0.05, 0.025], rel=1e-15)


def test_chained_scheduler_multiplies_the_factors():
    opt = two_groups()
    chained = S.ChainedScheduler([S.ExponentialLR(opt, gamma=0.5), S.StepLR(opt, 2, 0.1)])
    values = [lrs[0] for lrs in all_lrs(chained, 4)]
    assert values == pytest.approx([0.1, 0.05, 0.0025, 0.00125, 0.0000625], rel=1e-12)


MAKERS = {
    "LambdaLR": lambda o: S.LambdaLR(o, lambda e: 0.9**e),
    "MultiplicativeLR": lambda o: S.MultiplicativeLR(o, lambda e: 0.9),
    "StepLR": lambda o: S.StepLR(o, 3, 0.5),
    "MultiStepLR": lambda o: S.MultiStepLR(o, [2, 6], 0.5),
    "ConstantLR": lambda o: S.ConstantLR(o, 0.5, 4),
    "LinearLR": lambda o: S.LinearLR(o, 0.1, 1.0, 8),
    "ExponentialLR": lambda o: S.ExponentialLR(o, 0.9),
    "PolynomialLR": lambda o: S.PolynomialLR(o, 10, 2.0),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, 4, 0.001),
    "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, 3, 2),
    "CyclicLR": lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3),
    "OneCycleLR": lambda o: S.OneCycleLR(o, 0.5, total_steps=12),
    "SequentialLR": lambda o: S.SequentialLR(
        o, [S.ConstantLR(o, 0.5, 2), S.CosineAnnealingLR(o, 5)], milestones=[4]
    ),
    "ChainedScheduler": lambda o: S.ChainedScheduler(
        [S.ExponentialLR(o, 0.9), S.MultiStepLR(o, [3, 7], 0.5)]
    ),
    "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, patience=1, factor=0.5),
}
PLATEAU_METRICS = [1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8]


@pytest.mark.parametrize("name", MAKERS)
def test_state_dict_round_trip_mid_schedule_continues_identically(name):
    metrics = PLATEAU_METRICS if name == "ReduceLROnPlateau" else None
    full = all_lrs(MAKERS[name](two_groups()), 11, metrics)
    first = MAKERS[name](two_groups())
    all_lrs(first, 5, metrics)
    saved_scheduler = first.state_dict()
    saved_optimizer = first.optimizer.state_dict()
    assert "optimizer" not in saved_scheduler
    assert first.get_last_lr() == full[5]

    opt = two_groups(lr=0.7)
    resumed = MAKERS[name](opt)
    opt.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved_scheduler)
    assert resumed.get_last_lr() == full[5]
    assert getattr(resumed, "last_epoch", None) == getattr(first, "last_epoch", None)
    rest = all_lrs(resumed, 6, metrics[5:] if metrics else None)
    assert rest == full[5:]


@pytest.mark.parametrize(
    "make,error,match",
    [
        (lambda o: S.StepLR(o, step_size=0), ValueError, "StepLR: .*step_size.*0"),
        (lambda o: S.StepLR(o, step_size=2.5), ValueError, "step_size"),
        (lambda o: S.MultiStepLR(o, milestones=[2, "x"]), ValueError, "milestones"),
        (lambda o: S.ExponentialLR(o, gamma="fast"), ValueError, "gamma"),
        (lambda o: S.ConstantLR(o, factor=1.5), ValueError, "factor.*1.5"),
        (lambda o: S.ConstantLR(o, total_iters=-1), ValueError, "total_iters"),
        (lambda o: S.LinearLR(o, start_factor=0), ValueError, "start.*factor"),
        (lambda o: S.LinearLR(o, end_factor=1.2), ValueError, "end.*factor"),
        (lambda o: S.PolynomialLR(o, total_iters=-2), ValueError, "total_iters"),
        (lambda o: S.CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
        (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "T_0"),
        (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError, "T_mult"),
        (lambda o: S.CyclicLR(o, 0.01, 0.1, mode="sawtooth"), ValueError, "mode"),
        (lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=0), ValueError, "step_size_up"),
        (lambda o: S.CyclicLR(o, [0.01], 0.1), ValueError, "base_lr"),
        (lambda o: S.LambdaLR(o, [lambda e: 1.0]), ValueError, "lr_lambdas"),
        (lambda o: S.MultiplicativeLR(o, 0.9), TypeError, "lr_lambda should be a function"),
        (lambda o: S.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor"),
        (lambda o: S.ReduceLROnPlateau(o, mode="up"), ValueError, "mode"),
        (lambda o: S.ReduceLROnPlateau(o, threshold_mode="pct"), ValueError, "threshold mode"),
        (lambda o: S.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "min_lrs"),
        (lambda o: S.SequentialLR(o, [S.StepLR(o, 2)], [3]), ValueError, "milestone"),
        (lambda o: S.SequentialLR(o, [], []), ValueError, "at least one"),
        (
            lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.ReduceLROnPlateau(o)], [3]),
            ValueError,
            "ReduceLROnPlateau",
        ),
        (
            lambda o: S.ChainedScheduler([S.StepLR(o, 2), S.StepLR(two_groups(), 2)]),
            ValueError,
            "same optimizer",
        ),
        (lambda o: S.OneCycleLR(o, 0.1), ValueError, "total_steps"),
    ],
)
def test_invalid_scheduler_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make(two_groups())


def test_resuming_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        S.ExponentialLR(two_groups(), gamma=0.9, last_epoch=4)
