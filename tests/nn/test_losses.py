"""Loss modules against torch: values and input gradients for every reduction, weights as
buffers, the legacy size_average / reduce arguments and their warning."""
import warnings

import numpy as np
import pytest
import torch

import ember
from nn_helpers import run_both, randn


def lib_of(nn):
    return torch if nn is torch.nn else ember


def probs(r, n, *shape):
    return (1 / (1 + np.exp(-randn(r, n, *shape)))).astype(np.float32)


def signs(r, n, *shape):
    return np.where(r.random((n,) + shape) < 0.5, -1.0, 1.0).astype(np.float32)


def classes(r, n, c=4, *shape):
    return r.integers(0, c, (n,) + shape)


def weight(nn, *values):
    return lib_of(nn).tensor(values)


# (id, make(nn, reduction), inputs(rng, n)[, positions of the inputs that require grad])
CASES = [
    ("mse", lambda nn, red: nn.MSELoss(reduction=red),
     lambda r, n: [randn(r, n, 3), randn(r, n, 3)], (0, 1)),
    ("l1", lambda nn, red: nn.L1Loss(reduction=red), lambda r, n: [randn(r, n, 3), randn(r, n, 3)]),
    ("smoothl1", lambda nn, red: nn.SmoothL1Loss(reduction=red, beta=0.5),
     lambda r, n: [randn(r, n, 3), randn(r, n, 3)]),
    ("huber", lambda nn, red: nn.HuberLoss(reduction=red, delta=0.7),
     lambda r, n: [randn(r, n, 3), randn(r, n, 3)]),
    ("cross_entropy", lambda nn, red: nn.CrossEntropyLoss(reduction=red),
     lambda r, n: [randn(r, n, 4), classes(r, n)]),
    ("cross_entropy_weight_ignore", lambda nn, red: nn.CrossEntropyLoss(
        weight=weight(nn, 1.0, 2.0, 0.5, 1.5), ignore_index=1, reduction=red),
     lambda r, n: [randn(r, n, 4), classes(r, n)]),
    ("cross_entropy_smoothing", lambda nn, red: nn.CrossEntropyLoss(label_smoothing=0.2,
                                                                     reduction=red),
     lambda r, n: [randn(r, n, 4), classes(r, n)]),
    ("cross_entropy_2d", lambda nn, red: nn.CrossEntropyLoss(reduction=red),
     lambda r, n: [randn(r, n, 3, 2, 2), classes(r, n, 3, 2, 2)]),
    ("cross_entropy_probs", lambda nn, red: nn.CrossEntropyLoss(reduction=red),
     lambda r, n: [randn(r, n, 4), probs(r, n, 4)]),
    ("nll", lambda nn, red: nn.NLLLoss(reduction=red),
     lambda r, n: [randn(r, n, 4), classes(r, n)]),
    ("nll_weight", lambda nn, red: nn.NLLLoss(weight=weight(nn, 1.0, 2.0, 0.5, 1.5),
                                              ignore_index=0, reduction=red),
     lambda r, n: [randn(r, n, 4), classes(r, n)]),
    ("bce", lambda nn, red: nn.BCELoss(reduction=red),
     lambda r, n: [probs(r, n, 3), probs(r, n, 3)]),
    ("bce_weight", lambda nn, red: nn.BCELoss(weight=weight(nn, 1.0, 2.0, 0.5), reduction=red),
     lambda r, n: [probs(r, n, 3), probs(r, n, 3)]),
    ("bce_logits", lambda nn, red: nn.BCEWithLogitsLoss(reduction=red),
     lambda r, n: [randn(r, n, 3), probs(r, n, 3)]),
    ("bce_logits_pos_weight", lambda nn, red: nn.BCEWithLogitsLoss(
        weight=weight(nn, 1.0, 2.0, 0.5), pos_weight=weight(nn, 3.0, 1.0, 0.2), reduction=red),
     lambda r, n: [randn(r, n, 3), probs(r, n, 3)]),
    ("kldiv", lambda nn, red: nn.KLDivLoss(reduction=red),
     lambda r, n: [np.log(probs(r, n, 3)), probs(r, n, 3)]),
    ("kldiv_log_target", lambda nn, red: nn.KLDivLoss(reduction=red, log_target=True),
     lambda r, n: [randn(r, n, 3), randn(r, n, 3)]),
    ("margin_ranking", lambda nn, red: nn.MarginRankingLoss(margin=0.3, reduction=red),
     lambda r, n: [randn(r, n), randn(r, n), signs(r, n)], (0, 1)),
    ("hinge_embedding", lambda nn, red: nn.HingeEmbeddingLoss(margin=0.5, reduction=red),
     lambda r, n: [randn(r, n, 3), signs(r, n, 3)]),
    ("cosine_embedding", lambda nn, red: nn.CosineEmbeddingLoss(margin=0.2, reduction=red),
     lambda r, n: [randn(r, n, 4), randn(r, n, 4), signs(r, n)], (0, 1)),
    ("triplet_margin", lambda nn, red: nn.TripletMarginLoss(margin=0.5, reduction=red),
     lambda r, n: [randn(r, n, 4), randn(r, n, 4), randn(r, n, 4)], (0, 1, 2)),
    ("triplet_margin_swap_p1", lambda nn, red: nn.TripletMarginLoss(p=1.0, swap=True,
                                                                    reduction=red),
     lambda r, n: [randn(r, n, 4), randn(r, n, 4), randn(r, n, 4)], (0, 1, 2)),
    ("poisson_nll", lambda nn, red: nn.PoissonNLLLoss(reduction=red),
     lambda r, n: [randn(r, n, 3), np.abs(randn(r, n, 3))]),
    ("poisson_nll_full", lambda nn, red: nn.PoissonNLLLoss(log_input=False, full=True,
                                                           reduction=red),
     lambda r, n: [probs(r, n, 3) + 0.5, np.abs(randn(r, n, 3)) * 3]),
    ("gaussian_nll", lambda nn, red: nn.GaussianNLLLoss(reduction=red),
     lambda r, n: [randn(r, n, 3), randn(r, n, 3), probs(r, n, 3)], (0, 2)),
    ("gaussian_nll_full", lambda nn, red: nn.GaussianNLLLoss(full=True, reduction=red),
     lambda r, n: [randn(r, n, 3), randn(r, n, 3), probs(r, n, 1)], (0, 2)),
    ("soft_margin", lambda nn, red: nn.SoftMarginLoss(reduction=red),
     lambda r, n: [randn(r, n, 3), signs(r, n, 3)]),
    ("multilabel_soft_margin", lambda nn, red: nn.MultiLabelSoftMarginLoss(
        weight=weight(nn, 1.0, 0.5, 2.0), reduction=red),
     lambda r, n: [randn(r, n, 3), (signs(r, n, 3) > 0).astype(np.float32)]),
    ("multilabel_margin", lambda nn, red: nn.MultiLabelMarginLoss(reduction=red),
     lambda r, n: [randn(r, n, 4), np.array([[3, 0, -1, 1]] * n)]),
    ("multi_margin", lambda nn, red: nn.MultiMarginLoss(reduction=red),
     lambda r, n: [randn(r, n, 4), classes(r, n)]),
    ("multi_margin_p2_weight", lambda nn, red: nn.MultiMarginLoss(
        p=2, margin=0.5, weight=weight(nn, 1.0, 2.0, 0.5, 1.5), reduction=red),
     lambda r, n: [randn(r, n, 4), classes(r, n)]),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_loss_matches_torch(case, reduction):
    make, inputs = case[1], case[2]
    requires = case[3] if len(case) > 3 else (0,)
    for n in (1, 4):
        run_both(lambda nn: make(nn, reduction), inputs(np.random.default_rng(n), n),
                 rtol=1e-5, atol=1e-5, requires=requires)


def test_weights_are_buffers():
    for lib in (torch, ember):
        m = lib.nn.CrossEntropyLoss(weight=lib.ones(3))
        assert [n for n, _ in m.named_buffers()] == ["weight"]
        assert list(m.state_dict()) == ["weight"]
        m = lib.nn.BCEWithLogitsLoss(pos_weight=lib.ones(3))
        assert list(m.state_dict()) == ["pos_weight"]
        assert list(lib.nn.NLLLoss().state_dict()) == []
        m = lib.nn.NLLLoss(weight=lib.ones(2)).double()
        assert m.weight.dtype == lib.float64


@pytest.mark.parametrize("size_average,reduce", [(False, None), (None, False), (True, True),
                                                 (False, True)])
def test_legacy_reduction_arguments(size_average, reduce):
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        t = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
    with warnings.catch_warnings(record=True) as ew:
        warnings.simplefilter("always")
        e = ember.nn.MSELoss(size_average=size_average, reduce=reduce)
    assert e.reduction == t.reduction
    assert [str(w.message) for w in ew] == [str(w.message) for w in tw]
    assert [w.category for w in ew] == [w.category for w in tw]


def test_loss_reprs():
    for make in [lambda nn: nn.MSELoss(), lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1),
                 lambda nn: nn.TripletMarginWithDistanceLoss(),
                 lambda nn: nn.BCEWithLogitsLoss(pos_weight=lib_of(nn).ones(2))]:
        assert repr(make(ember.nn)) == repr(make(torch.nn))


def test_triplet_margin_with_distance():
    r = np.random.default_rng(0)
    args = [randn(r, 3, 4) for _ in range(3)]
    run_both(lambda nn: nn.TripletMarginWithDistanceLoss(margin=0.4, swap=True), args,
             check_repr=False)
    run_both(lambda nn: nn.TripletMarginWithDistanceLoss(
        distance_function=lambda a, b: (a - b).abs().sum(-1)), args, check_repr=False)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ctc_loss(reduction):
    r = np.random.default_rng(0)
    logits = randn(r, 6, 2, 4)
    log_probs = (logits - np.log(np.exp(logits).sum(-1, keepdims=True))).astype(np.float32)
    targets = np.array([[1, 2, 2], [3, 1, 0]])

    def call(m, lp, tg):
        lib = torch if isinstance(m, torch.nn.Module) else ember
        return m(lp, tg, lib.tensor([6, 5]), lib.tensor([3, 2]))
    run_both(lambda nn: nn.CTCLoss(blank=0, reduction=reduction, zero_infinity=True),
             [log_probs, targets], call=call)
