"""The shortcuts taken on the hot paths of a training step give torch's results: in-place
arithmetic written straight into self, layout-aware matrix-product gradients and the leaf
that keeps its gradient without a copy, the fused class-index losses, saved outputs without a
reference cycle, the batch stack of default_collate and unsqueeze's view."""
import gc
import weakref

import numpy as np
import pytest
import torch

import ember
from _compare import assert_same, raises_like

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4)).astype(np.float32)
B = RNG.standard_normal((3, 4)).astype(np.float32)
ROW = RNG.standard_normal(4).astype(np.float32)


# -- in-place arithmetic ---------------------------------------------------------------------
OTHERS = {"tensor": lambda m: m.tensor(B), "row": lambda m: m.tensor(ROW), "float": lambda m: 2.5,
          "int": lambda m: 3, "0-dim": lambda m: m.tensor(1.5)}


@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_"])
@pytest.mark.parametrize("other", OTHERS)
@pytest.mark.parametrize("leaf", [False, True])
def test_inplace_arithmetic(name, other, leaf):
    """Plain tensors, and leaves that require grad updated under no_grad (an optimizer step)."""
    def run(m):
        x = m.tensor(A, requires_grad=leaf)
        version, ptr = x._version, x.data_ptr()
        with m.no_grad():
            y = getattr(x, name)(OTHERS[other](m))
        assert y is x and x.data_ptr() == ptr and x._version == version + 1
        return x
    e, t = run(ember), run(torch)
    assert_same(e.detach(), t.detach())
    assert e.requires_grad == t.requires_grad


@pytest.mark.parametrize("case", [
    lambda m: m.tensor(ROW).add_(m.tensor(A)),              # result larger than self
    lambda m: m.tensor([1, 2]).add_(1.5),                   # float result into an int tensor
    lambda m: m.tensor(A, requires_grad=True).mul_(2),      # a leaf under grad mode
    lambda m: m.tensor([True, False]).sub_(m.tensor([True, True])),
])
def test_inplace_arithmetic_errors(case):
    raises_like(case)


def test_inplace_arithmetic_operands_overlap():
    def run(m):
        x = m.tensor(A)
        x.mul_(x)
        x.add_(x.t().t())
        return x
    assert_same(*[run(m) for m in (ember, torch)])


def test_inplace_arithmetic_in_graph_still_recorded():
    def run(m):
        x = m.tensor(A, requires_grad=True)
        y = x * 1
        y.mul_(m.tensor(B))
        y.sum().backward()
        return y, x.grad
    (ey, eg), (ty, tg) = run(ember), run(torch)
    assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__
    assert_same(eg, tg)


# -- matrix products and the leaves' gradients ------------------------------------------------
P = RNG.standard_normal((4, 3)).astype(np.float32)
Q = RNG.standard_normal((5, 4)).astype(np.float32)
BIAS = RNG.standard_normal(3).astype(np.float32)


def _linear_grads(m, hold):
    """A linear layer and a product with a column-major factor, backward twice (the second
    accumulates into the first gradients); `hold` keeps the gradient of weight.t() alive
    through retain_grad, so that the leaf must not take it over."""
    x = m.tensor(Q, requires_grad=True)
    w = m.tensor(P.T.copy(), requires_grad=True)
    w2 = m.tensor(P, requires_grad=True)
    b = m.tensor(BIAS, requires_grad=True)
    held = []
    for _ in range(2):
        wt = w.t()
        if hold:
            wt.retain_grad()
            held.append(wt)
        h = m.addmm(b, x, wt)                               # F.linear's graph
        (h.mm(w2.t()) * m.tensor(Q)).sum().backward()
    return [x.grad, w.grad, w2.grad, b.grad] + [t.grad for t in held]


@pytest.mark.parametrize("hold", [False, True])
def test_matmul_grads_layout_and_accumulation(hold):
    e, t = _linear_grads(ember, hold), _linear_grads(torch, hold)
    for eg, tg in zip(e, t):
        assert_same(eg, tg)
        assert eg.is_contiguous() == tg.is_contiguous()
    ptrs = [g.data_ptr() for g in e]
    assert len(set(ptrs)) == len(ptrs)


def test_mm_column_major_inputs():
    def run(m):
        p = m.tensor(P, requires_grad=True)
        q = m.tensor(Q, requires_grad=True)
        out = p.t().mm(q.t())
        out.backward(m.tensor(A[:, :1] * B[:, :1].T[:, :1]).expand(3, 5))
        return p.grad, q.grad
    for eg, tg in zip(run(ember), run(torch)):
        assert_same(eg, tg)
        assert eg.is_contiguous() and tg.is_contiguous()


def test_user_gradient_is_not_taken_over():
    g = ember.ones(2, 3)
    w = ember.zeros(3, 2, requires_grad=True)
    w.backward(g.t())
    w.grad.add_(1)
    assert (g._data == 1).all()


# -- fused class-index losses ----------------------------------------------------------------
LOGITS = RNG.standard_normal((6, 5)).astype(np.float32)
TARGET = np.array([0, 4, 2, 2, 1, 3])


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("target_dtype", ["int64", "uint8"])
@pytest.mark.parametrize("ignore_index", [-100, 2, 7])
def test_class_index_losses(fn, reduction, target_dtype, ignore_index):
    def run(m):
        x = m.tensor(LOGITS, requires_grad=True)
        target = m.tensor(TARGET.astype(target_dtype))
        loss = getattr(m.nn.functional, fn)(x, target, reduction=reduction,
                                            ignore_index=ignore_index)
        loss.backward(m.ones_like(loss))
        return loss, x.grad
    (el, eg), (tl, tg) = run(ember), run(torch)
    assert_same(el, tl)
    assert_same(eg, tg)
    assert type(el.grad_fn).__name__ == type(tl.grad_fn).__name__


@pytest.mark.parametrize("target", [[0, 5], [-1, 0]])
def test_class_index_losses_out_of_range(target):
    raises_like(lambda m: m.nn.functional.cross_entropy(m.tensor(LOGITS[:2]), m.tensor(target)))


def test_cross_entropy_infinite_logits():
    inf = float("inf")
    logits = np.array([[inf, 1.0, 2.0], [-inf, -inf, -inf], [1.0, -inf, 3.0]], np.float32)

    def run(m):
        x = m.tensor(logits)
        return (m.nn.functional.cross_entropy(x, m.tensor([1, 0, 2]), reduction="none"),
                m.log_softmax(x, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        for e, t in zip(run(ember), run(torch)):
            np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_cross_entropy_double_backward():
    def run(m):
        x = m.tensor(LOGITS, dtype=m.float64, requires_grad=True)
        loss = m.nn.functional.cross_entropy(x, m.tensor(TARGET))
        g, = m.autograd.grad(loss, x, create_graph=True)
        (g * g).sum().backward()
        return x.grad
    assert_same(run(ember), run(torch))


# -- saved outputs ---------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [lambda x: x.relu(), lambda x: x.exp(), lambda x: x.sigmoid(),
                                lambda x: x.softmax(1), lambda x: x.log_softmax(1)])
def test_dropped_graph_is_freed_without_collector(fn):
    x = ember.tensor(A, requires_grad=True)
    gc.disable()
    try:
        out = fn(x)
        node, tensor = weakref.ref(out.grad_fn), weakref.ref(out)
        del out
        assert node() is None and tensor() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("fn", [lambda m, x: x.exp(), lambda m, x: x.sigmoid(),
                                lambda m, x: x.tanh(), lambda m, x: m.softmax(x, 1),
                                lambda m, x: x.sqrt()])
def test_saved_output_double_backward(fn):
    def run(m):
        x = m.tensor(np.abs(A) + 0.5, dtype=m.float64, requires_grad=True)
        g, = m.autograd.grad(fn(m, x).pow(2).sum(), x, create_graph=True)
        g2, = m.autograd.grad(g.sum(), x)
        return g, g2
    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t)


def test_saved_output_modified_in_place():
    def relu_then_mul(m):
        y = (m.tensor(A, requires_grad=True) * 1).relu_()
        y.mul_(2)
        y.sum().backward()

    def exp_then_add(m):
        y = m.tensor(A, requires_grad=True).exp()
        y.add_(1)
        y.sum().backward()
    for case in (relu_then_mul, exp_then_add):
        e, t = raises_like(case)
        assert e[100:] == t[100:]


# -- data loading ----------------------------------------------------------------------------
def test_collate_stacks_a_batch():
    def run(m):
        batch = [(m.from_numpy(a).unsqueeze(0), i) for i, a in enumerate(A)]
        images, labels = m.utils.data.default_collate(batch)
        return images, labels
    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t)


@pytest.mark.parametrize("dim", [0, 1, -1, -2])
def test_unsqueeze_is_a_view(dim):
    def run(m):
        x = m.tensor(A)
        y = x.unsqueeze(dim)
        y.mul_(2)
        return x, y, y.stride()
    (ex, ey, es), (tx, ty, ts) = run(ember), run(torch)
    assert_same(ex, tx)
    assert_same(ey, ty)
    assert es == ts
    assert_same(ember.tensor(2.0).unsqueeze(0), torch.tensor(2.0).unsqueeze(0))
