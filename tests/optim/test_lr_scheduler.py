"""ember.optim.lr_scheduler against torch 2.13: lr (and momentum) sequences over 30 steps for
every scheduler and option, closed forms, state_dict contents and round trips, warnings and
errors."""
import warnings

import pytest
import torch

import ember

STEPS = 30


def _optimizer(lib, name="SGD", groups=2):
    params = [lib.zeros(2, requires_grad=True) for _ in range(groups)]
    kw = dict(momentum=0.9) if name == "SGD" else {}
    return getattr(lib.optim, name)([{"params": [p], "lr": 0.1 * (i + 1)}
                                     for i, p in enumerate(params)], lr=0.1, **kw)


def _build(lib, name, kw, opt):
    L = lib.optim.lr_scheduler
    if name == "SequentialLR":
        return L.SequentialLR(opt, [L.LinearLR(opt, 0.1, total_iters=3),
                                    L.ExponentialLR(opt, 0.9), L.CosineAnnealingLR(opt, 10)],
                              milestones=kw["milestones"])
    if name == "ChainedScheduler":
        return L.ChainedScheduler([L.ConstantLR(opt, 0.5, total_iters=4),
                                   L.ExponentialLR(opt, 0.9), L.StepLR(opt, 7, 0.5)])
    return getattr(L, name)(opt, **kw)


def _metric(i):
    """A metric that improves, stalls, then improves a little."""
    return 10.0 - i if i < 5 else 5.0 - 0.00001 * i if i < 15 else 5.0 - 0.5 * (i - 14)


def _run(lib, name, kw, opt_name="SGD", steps=STEPS, epochs=False):
    opt = _optimizer(lib, opt_name)
    sched = _build(lib, name, kw, opt)
    seen = [sched.get_last_lr()]
    for i in range(steps):
        opt.step()
        if name == "ReduceLROnPlateau":
            sched.step(_metric(i) * (-1 if kw.get("mode") == "max" else 1))
        elif epochs:
            sched.step(i + 1)
        else:
            sched.step()
        seen.append((sched.get_last_lr(), [g["lr"] for g in opt.param_groups],
                     [g.get("momentum", g.get("betas")) for g in opt.param_groups]))
    return seen, sched


CASES = [
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e)),
    ("LambdaLR", dict(lr_lambda=[lambda e: 0.9 ** e, lambda e: 1.0 / (e + 1)])),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.95)),
    ("StepLR", dict(step_size=3)),
    ("StepLR", dict(step_size=4, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.5)),
    ("ConstantLR", dict()),
    ("ConstantLR", dict(factor=0.25, total_iters=8)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.2, end_factor=0.7, total_iters=12)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("PolynomialLR", dict()),
    ("PolynomialLR", dict(total_iters=12, power=2.0)),
    ("CosineAnnealingLR", dict(T_max=7)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.01)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.001)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4, step_size_down=3,
                      mode="triangular2")),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, mode="exp_range",
                      gamma=0.95, base_momentum=0.7, max_momentum=0.95)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5, cycle_momentum=False)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5, scale_fn=lambda x: 0.9 ** x,
                      scale_mode="iterations")),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=STEPS)),
    ("OneCycleLR", dict(max_lr=[0.1, 0.3], epochs=3, steps_per_epoch=10, pct_start=0.25,
                        anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0)),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=STEPS, three_phase=True,
                        base_momentum=0.8, max_momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=STEPS, cycle_momentum=False)),
    ("SequentialLR", dict(milestones=[5, 12])),
    ("ChainedScheduler", dict()),
    ("ReduceLROnPlateau", dict()),
    ("ReduceLROnPlateau", dict(patience=2, factor=0.5, cooldown=2)),
    ("ReduceLROnPlateau", dict(mode="max", threshold=0.1, threshold_mode="abs", patience=1)),
    ("ReduceLROnPlateau", dict(patience=1, min_lr=[0.05, 0.01], eps=1e-3)),
    ("ReduceLROnPlateau", dict(patience=0, threshold_mode="abs", min_lr=0.02)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_lr_sequence_matches_torch(name, kw):
    ours, _ = _run(ember, name, kw)
    theirs, _ = _run(torch, name, kw)
    assert ours == theirs


@pytest.mark.parametrize("name,kw", [c for c in CASES if c[0] in ("CyclicLR", "OneCycleLR")],
                         ids=str)
def test_beta1_cycling_with_adam(name, kw):
    assert _run(ember, name, kw, "Adam")[0] == _run(torch, name, kw, "Adam")[0]


@pytest.mark.parametrize("name,kw", [c for c in CASES if c[0] in (
    "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR",
    "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "LambdaLR")], ids=str)
def test_epoch_argument_uses_closed_form(name, kw):
    assert _run(ember, name, kw, epochs=True)[0] == _run(torch, name, kw, epochs=True)[0]


def test_warm_restarts_fractional_epochs():
    out = []
    for lib in (ember, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
        lrs = []
        for i in range(40):
            sched.step(i * 0.37)
            lrs.append((sched.get_last_lr(), sched.T_cur, sched.T_i))
        out.append(lrs)
    assert out[0] == out[1]


def _plain(state):
    """A state dict without its functions (lambdas, partials) for comparison."""
    return {k: v for k, v in state.items() if not callable(v)}


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_state_dict_equals_torch_and_round_trips(name, kw):
    _, ours = _run(ember, name, kw, steps=7)
    _, theirs = _run(torch, name, kw, steps=7)
    state = ours.state_dict()
    assert list(state) == list(theirs.state_dict())
    assert _plain(state) == _plain(theirs.state_dict())

    # a fresh scheduler given the state continues exactly as the original
    opt = _optimizer(ember)
    fresh = _build(ember, name, kw, opt)
    fresh.load_state_dict(state)
    for group, lr in zip(opt.param_groups, ours.get_last_lr()):
        group["lr"] = lr
        for key in ("momentum", "betas"):
            if key in ours.optimizer.param_groups[0]:
                group[key] = ours.optimizer.param_groups[0][key]
    for i in range(7, 15):
        for sched in (ours, fresh):
            if name == "ReduceLROnPlateau":
                sched.step(_metric(i) * (-1 if kw.get("mode") == "max" else 1))
            else:
                sched.step()
        assert fresh.get_last_lr() == ours.get_last_lr()


def _warnings(fn, lib):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fn(lib)
    return [(w.category, str(w.message)) for w in rec]


@pytest.mark.parametrize("fn", [
    lambda lib: lib.optim.lr_scheduler.StepLR(_optimizer(lib), 2).step(),
    lambda lib: lib.optim.lr_scheduler.StepLR(_optimizer(lib), 2).step(3),
    lambda lib: lib.optim.lr_scheduler.StepLR(_optimizer(lib), 2).get_lr(),
    lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(lib)).step(1.0, 4),
], ids=["step-before-optimizer", "epoch-deprecated", "get_lr", "plateau-epoch"])
def test_warnings_match_torch(fn):
    ours, theirs = _warnings(fn, ember), _warnings(fn, torch)
    assert ours == theirs and ours


def test_no_warning_in_the_right_order_and_override_warning():
    def right(lib):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)
        for _ in range(3):
            opt.step()
            sched.step()

    def overridden(lib):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)
        opt.step = lambda closure=None: None
        sched.step()
    assert _warnings(right, ember) == _warnings(right, torch) == []
    ours, theirs = _warnings(overridden, ember), _warnings(overridden, torch)
    assert ours == theirs and len(ours) == 1


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.type, str(info.value)


@pytest.mark.parametrize("fn", [
    lambda L, o: L.StepLR(object(), 2),
    lambda L, o: L.StepLR(o, 2, last_epoch=3),
    lambda L, o: L.ConstantLR(o, factor=1.5),
    lambda L, o: L.LinearLR(o, start_factor=0),
    lambda L, o: L.LinearLR(o, end_factor=2.0),
    lambda L, o: L.LambdaLR(o, [lambda e: 1.0]),
    lambda L, o: L.MultiplicativeLR(o, 0.5),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2).step(-1),
    lambda L, o: L.CyclicLR(o, 0.01, 0.1, mode="bogus"),
    lambda L, o: L.CyclicLR(o, [0.01], 0.1),
    lambda L, o: L.OneCycleLR(o, 0.1),
    lambda L, o: L.OneCycleLR(o, 0.1, total_steps=0),
    lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, pct_start=2.0),
    lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"),
    lambda L, o: (lambda s: [s.step() for _ in range(3)])(L.OneCycleLR(o, 0.1, total_steps=2)),
    lambda L, o: L.ReduceLROnPlateau(o, factor=1.0),
    lambda L, o: L.ReduceLROnPlateau(o, mode="up"),
    lambda L, o: L.ReduceLROnPlateau(o, threshold_mode="pct"),
    lambda L, o: L.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda L, o: L.SequentialLR(o, [], []),
    lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], []),
    lambda L, o: L.SequentialLR(o, [L.ReduceLROnPlateau(o)], []),
    lambda L, o: L.ChainedScheduler([]),
    lambda L, o: L.LRScheduler(o),
])
def test_errors_match_torch(fn):
    results = [_error(lambda: fn(lib.optim.lr_scheduler, _optimizer(lib)))
               for lib in (ember, torch)]
    assert results[0] == results[1]


def test_cycle_momentum_needs_momentum():
    for lib in (ember, torch):
        opt = lib.optim.Adagrad([lib.zeros(2, requires_grad=True)])
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            lib.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1)


def test_resume_with_last_epoch():
    out = []
    for lib in (ember, torch):
        opt = _optimizer(lib)
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
        lrs = [sched.get_last_lr()]
        for _ in range(6):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        out.append((lrs, sched.last_epoch, sched.base_lrs))
    assert out[0] == out[1]


def test_public_names():
    import torch.optim.lr_scheduler as theirs
    ours = ember.optim.lr_scheduler
    assert sorted(ours.__all__) == sorted(theirs.__all__)
    assert ours.EPOCH_DEPRECATION_WARNING == theirs.EPOCH_DEPRECATION_WARNING
    assert issubclass(ours._LRScheduler, ours.LRScheduler)
    from ember.optim import lr_scheduler
    assert lr_scheduler.StepLR is ember.optim.lr_scheduler.StepLR
