"""Views share memory and the version counter; in-place ops bump it; autograd refuses stale
saved tensors and in-place writes into leaves, and differentiates in-place ops on non-leaves
(also through views) as torch does."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from _compare import assert_same, raises_like

# (name, make a view of a (2, 1, 3) tensor, index of one element in the view)
VIEWS = [
    ("view", lambda x: x.view(6), (4,)), ("reshape", lambda x: x.reshape(3, 2), (1, 1)),
    ("slice", lambda x: x[1:], (0, 0, 2)), ("select", lambda x: x[1, 0], (1,)),
    ("t", lambda x: x[:, 0].t(), (2, 1)), ("transpose", lambda x: x.transpose(0, 2), (2, 0, 1)),
    ("permute", lambda x: x.permute(2, 0, 1), (1, 1, 0)),
    ("squeeze", lambda x: x.squeeze(), (1, 2)), ("squeeze_dim", lambda x: x.squeeze(1), (0, 1)),
    ("unsqueeze", lambda x: x.unsqueeze(0), (0, 1, 0, 0)),
    ("detach", lambda x: x.detach(), (1, 0, 0)), ("narrow", lambda x: x.narrow(2, 1, 2), (0, 0, 1)),
    ("expand", lambda x: x[:, :, :1].expand(2, 4, 1), None),
    ("flatten", lambda x: x.flatten(), (5,)), ("view_as", lambda x: x.view_as(x), (1, 0, 1)),
    ("unbind", lambda x: x.unbind(2)[1], (1, 0)),
    ("split", lambda x: x.split(1, dim=2)[2], (0, 0, 0)),
    ("chunk", lambda x: x.chunk(2)[1], (0, 0, 0)),
    ("diagonal", lambda x: x[:, 0, :2].diagonal(), (1,)), ("T", lambda x: x[:, 0].T, (0, 1)),
]


@pytest.mark.parametrize("name,make,idx", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_share_memory_and_version(name, make, idx):
    for lib in (ember, torch):
        base = lib.zeros(2, 1, 3)
        v = make(base)
        before = base.clone()
        if idx is not None:
            v[idx] = 5                         # a write through the view reaches the base
            assert (base != before).sum().item() == 1 and base.max().item() == 5
        base.add_(1)                           # and a write into the base reaches the view
        assert v.max().item() == (6 if idx is not None else 1)
        assert v._version == base._version == (2 if idx is not None else 1)
    e, t = make(ember.arange(6.).view(2, 1, 3)), make(torch.arange(6.).view(2, 1, 3))
    assert_same(e, t)
    assert (e._base is not None) == (t._base is not None)


def test_numpy_bridges_share_memory():
    for lib in (ember, torch):
        a = np.zeros(3, np.float32)
        t = lib.from_numpy(a)
        t.add_(1)
        b = t.numpy()
        b[0] = 7
        assert a.tolist() == [7, 1, 1] and t.tolist() == [7, 1, 1] and t._version == 1


SEQUENCES = [
    lambda m, t: (t.__iadd__(1), t.add_(1), t.__setitem__(0, 1), t.mul_(2).add_(1)),
    lambda m, t: (t.zero_(), t.fill_(2), t.copy_(m.ones(3)), t.clamp_(0, 1)),
    lambda m, t: (t.uniform_(), t.normal_(), t.sub_(1), t.div_(2), t.pow_(2), t.neg_(), t.abs_()),
    lambda m, t: (t.sqrt_(), t.exp_(), t.sigmoid_(), t.tanh_(), t.clamp_(min=0)),
    lambda m, t: (t.__setitem__(t > 0.5, 0), t.masked_fill_(t > 0.2, 1.),
                  t.index_fill_(0, m.tensor([0]), 2.), t.scatter_(0, m.tensor([1]), 3.)),
    lambda m, t: (t.unsqueeze_(0), t.t_(), t.squeeze_(), t.resize_(3), t.resize_(1, 3)),
    lambda m, t: (t.random_(0, 3), t.exponential_(), t.bernoulli_(0.5), t.data.add_(1)),
    lambda m, t: (t[1:].mul_(2), t.view(3).add_(1), t.detach().zero_(), t.__imul__(2)),
]


@pytest.mark.parametrize("i", range(len(SEQUENCES)))
def test_version_counter_matches_torch(i):
    def run(m):
        t = m.zeros(3)
        versions = [t._version]
        for _ in SEQUENCES[i](m, _Recorder(t, versions)):
            pass
        return versions + [t._version, (t + 1)._version]
    assert run(ember) == run(torch)


class _Recorder:
    """Wraps a tensor: every attribute call records the version after it."""

    def __init__(self, t, versions):
        self._t, self._versions = t, versions

    def __getattr__(self, name):
        attr = getattr(self._t, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            r = attr(*args, **kwargs)
            self._versions.append(self._t._version)
            return r
        return call

    def __getitem__(self, key):
        return self._t[key]

    def __gt__(self, other):
        return self._t > other

    def __setitem__(self, key, value):
        self._t[key] = value
        self._versions.append(self._t._version)

    def __iadd__(self, other):
        self._t += other
        self._versions.append(self._t._version)
        return self

    def __imul__(self, other):
        self._t *= other
        self._versions.append(self._t._version)
        return self


# -- autograd and in-place ---------------------------------------------------------------------
STALE = [  # (code run on a leaf x of shape (2, 2); expected key parts of torch's message)
    ("y = x * 2; z = y * y; y.add_(1); z.sum().backward()", "output 0 of Add, is at version 1"),
    ("y = x * 2; z = y * y; y.mul_(3).add_(1); z.sum().backward()", "is at version 2"),
    ("y = x.exp(); y.mul_(2); y.sum().backward()", "output 0 of Exp, is at version 1"),
    ("y = x.sigmoid(); y[0] = 0; y.sum().backward()", "output 0 of Sigmoid, is at version 1"),
    ("y = x.tanh(); y.add_(1); y.sum().backward()", "output 0 of Tanh"),
    ("z = x * x\nwith torch.no_grad():\n    x.add_(1)\nz.sum().backward()",
     "[torch.FloatTensor [2, 2]] is at version 1; expected version 0 instead"),
    ("w = torch.ones(2, 3, requires_grad=True); z = x @ w\nwith torch.no_grad():\n    w.mul_(2)\n"
     "z.sum().backward()", "[torch.FloatTensor [2, 3]] is at version 1"),
    ("y = x * 1; z = y.pow(2); y.view(4).add_(1); z.sum().backward()", "is at version 1"),
    ("y = x.exp(); d = y.detach(); d.add_(1); y.sum().backward()", "output 0 of Exp"),
    ("y = x * 2; y.mul_(y); y.sum().backward()", "output 0 of Mul, is at version 1"),
]


@pytest.mark.parametrize("code,key", STALE, ids=[s[0][:40] for s in STALE])
def test_modified_saved_tensor_raises_torch_error(code, key):
    def run(m):
        x = m.ones(2, 2, requires_grad=True)
        exec(code, {"torch": m, "x": x})
    e_msg, t_msg = raises_like(run)
    prefix = "one of the variables needed for gradient computation has been modified by an " \
             "inplace operation: [torch.FloatTensor ["
    assert e_msg.startswith(prefix) and t_msg.startswith(prefix)
    assert key in t_msg and key in e_msg
    assert e_msg == t_msg


def test_stale_saved_tensor_in_custom_function():
    def run(m):
        class Square(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 2

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 2 * x * g
        a = m.tensor([1., 3.], requires_grad=True)
        b = a * 1
        y = Square.apply(b)
        b.add_(1)
        y.sum().backward()
    e_msg, t_msg = raises_like(run)
    assert e_msg == t_msg


LEAF_WRITES = ["x.add_(1)", "x.mul_(2)", "x.zero_()", "x.fill_(1)", "x.copy_(torch.zeros(2, 2))",
               "x.clamp_(0, 1)", "x.uniform_()", "x.normal_()", "x.t_()", "x.unsqueeze_(0)",
               "x += 1", "x.sigmoid_()"]


@pytest.mark.parametrize("code", LEAF_WRITES)
def test_inplace_on_leaf_requiring_grad(code):
    def run(m):
        x = m.ones(2, 2, requires_grad=True)
        exec(code, {"torch": m, "x": x})
    raises_like(run, match="a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    for lib in (ember, torch):            # fine under no_grad: the leaf stays a leaf
        x = lib.ones(2, 2, requires_grad=True)
        with lib.no_grad():
            exec(code, {"torch": lib, "x": x})
        assert x.is_leaf and x.requires_grad and x.grad_fn is None and x._version >= 1


@pytest.mark.parametrize("code", ["x[0] = 2", "x[0].mul_(2)", "x[:, 1].zero_()",
                                  "x.view(4).add_(1)"])
def test_inplace_on_view_of_leaf(code):
    def run(m):
        x = m.ones(2, 2, requires_grad=True)
        exec(code, {"torch": m, "x": x})
    raises_like(run, match="a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def test_leaf_update_under_no_grad_like_an_optimizer():
    for lib in (ember, torch):
        w = lib.tensor([1., 2.], requires_grad=True)
        (w * w).sum().backward()
        with lib.no_grad():
            w -= 0.1 * w.grad
            w.grad.zero_()
        assert w.is_leaf and np.allclose(w.tolist(), [0.8, 1.6]) and w.grad.tolist() == [0, 0]
        (w * 3).sum().backward()
        assert w.grad.tolist() == [3, 3]


NONLEAF = [
    "y = x * 2; y.clamp_(min=0); out = y.sum()",
    "y = x * 2; y.relu_(); out = y.sum()",
    "y = x * 2; y.mul_(x); out = y.sum()",
    "y = x * 2; y.add_(x); y.mul_(x); out = y.sum()",
    "y = x * 1; y += 1; y *= x; y -= 2; y /= 2; out = y.sum()",
    "y = x * 1; y[torch.tensor([0, 2])] = x[:2] * 5; out = (y * y).sum()",
    "y = x * 1; y[1] = x[0] * 3; out = (y * y).sum()",
    "y = x * 1; y[y > 0] = 0; out = (y * x).sum()",
    "y = x * 1; y.copy_(x * x); out = y.sum()",
    "y = torch.zeros(3); y.copy_(x); out = (y * 2).sum()",
    "y = x * 1; y.sigmoid_(); out = y.sum()",
    "y = x * 1; y.tanh_(); out = (y * x).sum()",
    "y = x * 1; y.pow_(2).sub_(x); out = y.sum()",
    "y = x.unsqueeze(1) * 1; y.t_(); y.squeeze_(); y = y * 1; out = (y * x).sum()",
    "y = x * 1; y.masked_fill_(x > 0, 0.); out = (y * y).sum()",
    "y = x * 1; y.zero_(); out = (y + x).sum()",
    "y = x * 1; y.fill_(2.); out = (y * x).sum()",
]


@pytest.mark.parametrize("code", NONLEAF)
def test_inplace_on_non_leaf_gives_torch_grads(code):
    def run(m):
        x = m.tensor([1., -2., 3.], requires_grad=True)
        g = {"torch": m, "x": x}
        exec(code, g)
        g["out"].backward()
        return x.grad, type(g["y"].grad_fn).__name__
    (ge, ne), (gt, nt) = run(ember), run(torch)
    assert_same(ge, gt)
    assert ne == nt


THROUGH_VIEWS = [
    "y = x * 1; y[0].mul_(2); out = y.sum()",
    "y = x * 1; v = y[:, 1]; v.add_(1); out = (y * y).sum()",
    "y = x * 1; v = y.view(4); v.mul_(3); out = (y * y).sum()",
    "y = x * 1; z = y.t(); z[0].zero_(); out = (y * c).sum()",
    "y = x * 1; y.t_(); y[0] = 0; out = (y * c).sum()",
    "y = x * 1; z = y[0]; y.mul_(2); out = (z * 3).sum()",
    "y = x * 1; v1 = y[0]; v2 = y[1]; v1.mul_(2); v2.mul_(3); out = (y * y).sum()",
    "y = x * 1; v1 = y[0]; v2 = y[1]; v1.mul_(2); v2.mul_(3); "
    "out = y.sum() + v1.sum() * 10 + (v2 * v2).sum()",
    "y = x * 1; v = y[:, 0]; v.sigmoid_(); out = (y * y).sum()",
    "y = x * 1; v = y[0]; v[1] = 7; out = y.sum()",
    "y = x * 1; y[:, 0] += x[:, 1]; out = (y * y).sum()",
    "y = torch.zeros(2, 3); y[:, 1:].copy_(x * 2); out = (y * y).sum()",
    "y = torch.zeros(3, 2); y[1:] = x; out = (y * c.sum()).sum()",
    "y = x * 1; y.narrow(1, 0, 1).mul_(x[:, 1:]); out = y.sum()",
]


@pytest.mark.parametrize("code", THROUGH_VIEWS)
def test_inplace_through_views_gives_torch_grads(code):
    def run(m):
        x = m.tensor([[1., -2.], [3., 4.]], requires_grad=True)
        g = {"torch": m, "x": x, "c": m.tensor([[1., 2.], [3., 4.]])}
        exec(code, g)
        g["out"].backward()
        return x.grad, g["y"].requires_grad, g["y"].is_leaf
    (ge, *fe), (gt, *ft) = run(ember), run(torch)
    assert_same(ge, gt)
    assert fe == ft


def test_copy_slices_node_and_double_backward():
    for lib in (ember, torch):
        x = lib.tensor([[1., -2.], [3., 4.]], requires_grad=True)
        y = x * 1
        y[0].mul_(2)
        assert type(y.grad_fn).__name__ == "CopySlices"
        assert [(type(f).__name__ if f else None, n) for f, n in y.grad_fn.next_functions] == \
            [("MulBackward0", 0), (None, 0)]
        b = lib.zeros(3)
        w = lib.ones(2, requires_grad=True)
        b[1:].copy_(w)
        assert b.requires_grad and not b.is_leaf
        assert [(type(f).__name__ if f else None, n) for f, n in b.grad_fn.next_functions] == \
            [(None, 0), ("AccumulateGrad", 0)]
    grads = []
    for lib in (ember, torch):
        x = lib.tensor([[1., -2.], [3., 4.]], requires_grad=True)
        y = x * x
        y[0].mul_(x[1])
        g, = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        g.sum().backward()
        grads.append((g.detach(), x.grad))
    assert_same(grads[0][0], grads[1][0])
    assert_same(grads[0][1], grads[1][1])


@given(rows=st.integers(1, 3), cols=st.integers(1, 3), seed=st.integers(0, 50),
       start=st.integers(0, 2), factor=st.floats(-2, 2))
@settings(max_examples=20, deadline=None)
def test_inplace_on_random_slices(rows, cols, seed, start, factor):
    a = np.random.default_rng(seed).standard_normal((rows, cols)).astype(np.float32)
    start = min(start, cols - 1)

    def run(m):
        x = m.tensor(a, requires_grad=True)
        y = x * x
        y[:, start:].mul_(factor)
        y.t()[start:].add_(x.t()[start:])
        (y * y).sum().backward()
        return y.detach(), x.grad
    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t, rtol=1e-4, atol=1e-5)
