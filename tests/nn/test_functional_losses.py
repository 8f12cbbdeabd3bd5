"""The loss functions of ember.nn.functional against torch 2.13: every reduction, weights,
ignore_index, label smoothing, K-dim inputs, the legacy size_average / reduce flags and their
warning, input (and target) gradients, grad_fn names, errors and gradcheck in float64."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from functional_helpers import G, rnd, run, both_raise, check_grads, f64

REDUCTIONS = ["none", "mean", "sum"]


def probs(*shape, seed=0):
    return rnd(*shape, seed=seed, low=0.02, high=0.98)


def labels(high, *shape, seed=0):
    return np.random.default_rng(seed).integers(0, high, shape)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(reduction):
    x, y = rnd(4, 5), rnd(4, 5, seed=1)
    y[0, :2] = x[0, :2] + [0.5, -1.0]                # exactly at beta / delta
    run("mse_loss", G(x), G(y), reduction=reduction,
        node="MseLossBackward0" if reduction != "none" else None)
    run("l1_loss", G(x), G(y), reduction=reduction)
    for beta in (1.0, 0.5, 0.0):
        run("smooth_l1_loss", G(x), G(y), reduction=reduction, beta=beta)
    for delta in (1.0, 0.5):
        run("huber_loss", G(x), G(y), reduction=reduction, delta=delta)
    w = rnd(4, 5, seed=3, low=0.1, high=1.0)
    for name in ("mse_loss", "l1_loss", "huber_loss"):
        run(name, G(x), G(y), reduction=reduction, weight=G(w))
    run("soft_margin_loss", G(x), np.sign(y), reduction=reduction)


def test_mse_int_target_broadcast_and_legacy():
    run("mse_loss", G(rnd(4, 3)), labels(5, 4, 3), node="MseLossBackward0")
    with pytest.warns(UserWarning, match="Using a target size"):
        run("mse_loss", G(rnd(4, 1)), G(rnd(4)))
    for size_average, reduce in [(False, None), (None, False), (True, True), (False, True)]:
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            run("mse_loss", G(rnd(3, 2)), rnd(3, 2, seed=1), size_average, reduce)
        with pytest.warns(UserWarning):
            run("nll_loss", G(rnd(3, 4)), labels(4, 3), None, size_average, -100, reduce)
    both_raise("mse_loss", rnd(3), rnd(3), reduction="foo")
    check_grads("mse_loss", G(rnd(3, 2, dtype=f64)), G(rnd(3, 2, dtype=f64, seed=1)),
                double=True)
    check_grads("smooth_l1_loss", G(rnd(3, 2, dtype=f64)), G(rnd(3, 2, dtype=f64, seed=1)),
                double=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    p, t = probs(4, 3), probs(4, 3, seed=1)
    p[0, 0], p[0, 1] = 0.0, 1.0                      # log clamped to -100
    run("binary_cross_entropy", G(p), G(t), reduction=reduction,
        node=None if reduction == "none" else "BinaryCrossEntropyBackward0", grad=False)
    p = probs(4, 3)
    run("binary_cross_entropy", G(p), G(t), rnd(4, 3, low=0.5, high=2), reduction=reduction)
    run("binary_cross_entropy", G(p), G(t), rnd(3, low=0.5, high=2), reduction=reduction)
    x = rnd(4, 3) * 3
    run("binary_cross_entropy_with_logits", G(x), G(t), reduction=reduction,
        node=None if reduction == "none" else "BinaryCrossEntropyWithLogitsBackward0")
    run("binary_cross_entropy_with_logits", G(x), G(t), rnd(4, 3, low=0.5, high=2),
        reduction=reduction, pos_weight=rnd(3, low=0.5, high=3))
    run("multilabel_soft_margin_loss", G(x), (t > 0.5).astype(np.float32),
        reduction=reduction)
    run("multilabel_soft_margin_loss", G(x), (t > 0.5).astype(np.float32),
        rnd(3, low=0.5, high=2), reduction=reduction)


def test_binary_errors_and_grads():
    both_raise("binary_cross_entropy", probs(3), probs(3, 1))
    both_raise("binary_cross_entropy", probs(3) + 2, probs(3))
    both_raise("binary_cross_entropy_with_logits", rnd(3), probs(3, 1))
    both_raise("binary_cross_entropy", G(probs(3)), probs(3), G(probs(3)))
    check_grads("binary_cross_entropy", G(probs(3).astype(f64)), G(probs(3, seed=1).astype(f64)),
                double=True)
    check_grads("binary_cross_entropy_with_logits", G(rnd(3, dtype=f64)),
                G(probs(3, seed=1).astype(f64)), pos_weight=probs(3, seed=2).astype(f64),
                double=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_and_cross_entropy(reduction, weighted):
    w = rnd(5, low=0.2, high=2.0) if weighted else None
    t = labels(5, 6)
    t[1] = 3
    for name in ("nll_loss", "cross_entropy"):
        node = None if reduction == "none" and name == "nll_loss" else "NllLossBackward0"
        run(name, G(rnd(6, 5)), t, w, reduction=reduction, node=node)
        run(name, G(rnd(6, 5)), t, w, ignore_index=3, reduction=reduction, node=node)
        run(name, G(rnd(2, 5, 3, 4)), labels(5, 2, 3, 4), w, reduction=reduction,
            node="NllLoss2DBackward0")
        run(name, G(rnd(2, 5, 3)), labels(5, 2, 3), w, ignore_index=1, reduction=reduction)
        run(name, G(rnd(5)), np.array(2), w, reduction=reduction)
    run("cross_entropy", G(rnd(6, 5)), t, w, reduction=reduction, label_smoothing=0.2)
    run("cross_entropy", G(rnd(2, 5, 3)), labels(5, 2, 3), w, ignore_index=1,
        reduction=reduction, label_smoothing=0.1)
    soft = rnd(6, 5, low=0, high=1)
    soft /= soft.sum(1, keepdims=True)
    run("cross_entropy", G(rnd(6, 5)), G(soft), w, reduction=reduction)
    run("cross_entropy", G(rnd(6, 5)), soft, w, reduction=reduction, label_smoothing=0.3)


def test_cross_entropy_float64_uint8_and_grads():
    run("cross_entropy", G(rnd(4, 3, dtype=f64)), labels(3, 4))
    run("nll_loss", G(rnd(4, 3)), labels(3, 4).astype(np.uint8))
    for name in ("nll_loss", "cross_entropy"):
        check_grads(name, G(rnd(3, 4, dtype=f64)), labels(4, 3),
                    rnd(4, dtype=f64, low=0.5, high=1.5), double=True)
    check_grads("cross_entropy", G(rnd(2, 3, 2, dtype=f64)), labels(3, 2, 2),
                label_smoothing=0.2, double=True)


def test_classification_errors():
    x = rnd(3, 5)
    both_raise("cross_entropy", x, rnd(3, 4))
    both_raise("cross_entropy", x, labels(5, 4))
    both_raise("cross_entropy", x, np.array([5, 0, 1]))
    both_raise("nll_loss", x, np.array([5, 0, 1]))
    both_raise("nll_loss", x, labels(5, 3).astype(np.int32))
    both_raise("nll_loss", x, labels(5, 3).astype(np.float32))
    both_raise("nll_loss", rnd(3, 5, 2), labels(5, 3, 3))
    both_raise("nll_loss", x, labels(5, 3), rnd(4))
    both_raise("cross_entropy", x, labels(5, 3), label_smoothing=1.5)


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(probs(3, 4))
    t = np.log(probs(3, 4, seed=1)) if log_target else probs(3, 4, seed=1)
    if not log_target:
        t[0, 0] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run("kl_div", G(x), G(t), reduction=reduction, log_target=log_target)


def test_kl_div_mean_warning():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(ember.zeros(2, 3), ember.ones(2, 3) / 3)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_gaussian(reduction):
    x, t = rnd(4, 3), rnd(4, 3, seed=1, low=0, high=4).round()
    run("poisson_nll_loss", G(x), G(t), reduction=reduction)
    run("poisson_nll_loss", G(probs(4, 3) * 3), t, False, True, reduction=reduction)
    var = rnd(4, 3, low=0.1, high=2)
    run("gaussian_nll_loss", G(x), G(t), G(var), reduction=reduction)
    run("gaussian_nll_loss", G(x), G(t), G(var[:, :1]), True, reduction=reduction)
    run("gaussian_nll_loss", G(x), G(t), G(var[:, 0]), eps=0.5, reduction=reduction)


def test_gaussian_errors():
    both_raise("gaussian_nll_loss", rnd(4, 3), rnd(4, 3), rnd(4, 2, low=0.1, high=1))
    both_raise("gaussian_nll_loss", rnd(4, 3), rnd(4, 3), -rnd(4, 3, low=0.1, high=1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses(reduction):
    a, b = rnd(6), rnd(6, seed=1)
    y = np.sign(rnd(6, seed=2))
    run("margin_ranking_loss", G(a), G(b), y, 0.3, reduction=reduction)
    run("hinge_embedding_loss", G(rnd(4, 3)), np.sign(rnd(4, 3, seed=2)), 0.5,
        reduction=reduction)
    run("cosine_embedding_loss", G(rnd(6, 4)), G(rnd(6, 4, seed=1)), y, 0.2,
        reduction=reduction)
    run("triplet_margin_loss", G(rnd(5, 4)), G(rnd(5, 4, seed=1)), G(rnd(5, 4, seed=2)),
        reduction=reduction)
    run("triplet_margin_loss", G(rnd(5, 4)), G(rnd(5, 4, seed=1)), G(rnd(5, 4, seed=2)), 2.0,
        1, 1e-3, True, reduction=reduction)
    run("triplet_margin_with_distance_loss", G(rnd(5, 4)), G(rnd(5, 4, seed=1)),
        G(rnd(5, 4, seed=2)), swap=True, reduction=reduction)
    t = labels(5, 6)
    for p in (1, 2):
        run("multi_margin_loss", G(rnd(6, 5)), t, p, 0.7, reduction=reduction)
    run("multi_margin_loss", G(rnd(6, 5)), t, weight=rnd(5, low=0.5, high=2),
        reduction=reduction)
    mt = np.array([[3, 0, -1, 1], [1, 2, 3, -1], [0, -1, 2, 2]])
    run("multilabel_margin_loss", G(rnd(3, 4)), mt, reduction=reduction)


def test_margin_gradchecks():
    check_grads("multi_margin_loss", G(rnd(3, 4, dtype=f64)), labels(4, 3), double=True)
    check_grads("cosine_embedding_loss", G(rnd(3, 4, dtype=f64)), G(rnd(3, 4, dtype=f64,
                                                                         seed=1)),
                np.array([1.0, -1.0, 1.0]), double=True)
    check_grads("kl_div", G(rnd(3, 2, dtype=f64)), G(probs(3, 2).astype(f64)),
                reduction="batchmean", double=True)
    both_raise("multi_margin_loss", rnd(3, 4), labels(4, 3), 3)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss(reduction, zero_infinity):
    T, N, C = 7, 4, 5
    lp = np.log(rnd(T, N, C, low=0.05, high=1.0))
    lp -= np.log(np.exp(lp).sum(-1, keepdims=True))
    targets = np.array([[1, 2, 2], [3, 1, 0], [4, 4, 4], [1, 0, 0]])
    il, tl = np.array([7, 6, 4, 5]), np.array([3, 2, 3, 0])       # sample 2 is impossible
    run("ctc_loss", G(lp), targets, il, tl, reduction=reduction, zero_infinity=zero_infinity,
        rtol=1e-4, atol=1e-4)
    flat = np.concatenate([t[:n] for t, n in zip(targets, tl)])
    run("ctc_loss", G(lp), flat, tuple(il), tuple(tl), 0, reduction, True, rtol=1e-4, atol=1e-4)
    run("ctc_loss", G(lp[:, 0]), targets[0], il[:1], tl[:1], reduction=reduction,
        rtol=1e-4, atol=1e-4)
