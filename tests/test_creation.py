"""Tensor creation against torch: tensor() inference, memory sharing of as_tensor/from_numpy,
filled/like/new_* constructors, ranges, eye, random sampling and generators."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from _compare import assert_same, dtype_name, raises_like

DATA = [
    [[1, 2], [3, 4]], [True, False], [1, 2.5], [True, 2], [1, 2j], [], [[]], 3, 2.5, True,
    (1, 2), [[1.5], [2.0]], [[[1], [2]], [[3], [4]]], [np.float32(2.0)], [np.int32(2)],
    np.float64(1.5), [[1, 2], (3, 4)], [np.int16(1), 2],
]


@pytest.mark.parametrize("data", DATA, ids=repr)
def test_tensor_infers_like_torch(data):
    assert_same(ember.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int16,
                                   np.int32, np.int64, np.uint8, np.bool_, np.complex64])
def test_tensor_from_numpy_array_keeps_dtype(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    e = ember.tensor(a)
    assert_same(e, torch.tensor(a))
    a[0, 0] = 1                                  # tensor() copies
    assert e.tolist()[0][0] == 0


def test_tensor_from_tensors_and_dtype_argument():
    assert_same(ember.tensor([ember.tensor(1.), ember.tensor(2.)]),
                torch.tensor([torch.tensor(1.), torch.tensor(2.)]))
    assert_same(ember.tensor([[1, 2], ember.tensor([3, 4])]),
                torch.tensor([[1, 2], torch.tensor([3, 4])]))
    src = ember.tensor([1., 2.])
    copy = ember.tensor(src)
    copy[0] = 5
    assert src.tolist() == [1., 2.]
    for dt in ["float64", "int32", "bool", "float16"]:
        assert_same(ember.tensor([1.5, 0], dtype=getattr(ember, dt)),
                    torch.tensor([1.5, 0], dtype=getattr(torch, dt)))
    e = ember.tensor([1., 2.], requires_grad=True, dtype=ember.float64)
    assert e.requires_grad and e.is_leaf and e.dtype is ember.float64
    assert ember.tensor(3).dim() == 0 and ember.tensor(3).shape == ember.Size([])


@pytest.mark.parametrize("data,exc", [
    ([[1, 2], [3]], ValueError), ([[1, 2], [3, 4, 5]], ValueError),
    ([[[1], [2]], [[3], [4, 5]]], ValueError), ([[1], []], ValueError),
    ([[1, 2], 3], TypeError), ("abc", TypeError), ([1, "a"], TypeError),
    (None, RuntimeError), ([[1, 2], [3, None]], RuntimeError), (object(), RuntimeError),
], ids=repr)
def test_tensor_bad_data(data, exc):
    e_msg, t_msg = raises_like(lambda m: m.tensor(data))
    assert e_msg == t_msg or exc is TypeError and "str" not in t_msg
    with pytest.raises(exc):
        ember.tensor(data)


def test_requires_grad_needs_float():
    raises_like(lambda m: m.tensor([1, 2], requires_grad=True),
                match="Only Tensors of floating point and complex dtype can require gradients")


@pytest.mark.parametrize("make", [lambda m, a: m.as_tensor(a), lambda m, a: m.from_numpy(a),
                                  lambda m, a: m.asarray(a)])
def test_numpy_bridge_shares_memory(make):
    for lib in (ember, torch):
        a = np.zeros((2, 3), np.float32)
        t = make(lib, a)
        a[0, 0] = 1
        t[1, 2] = 2
        t.add_(1)
        assert t.tolist() == a.tolist() and a[0, 0] == 2 and a[1, 2] == 3
        assert t.numpy() is a or np.shares_memory(t.numpy(), a)


def test_as_tensor_copies_when_dtype_changes_and_keeps_tensors():
    a = np.zeros(3)
    e, t = ember.as_tensor(a, dtype=ember.float32), torch.as_tensor(a, dtype=torch.float32)
    a[0] = 1
    assert e.tolist() == t.tolist() == [0., 0., 0.]
    x = ember.ones(2)
    assert ember.as_tensor(x) is x
    assert_same(ember.as_tensor([1, 2]), torch.as_tensor([1, 2]))
    raises_like(lambda m: m.from_numpy([1, 2]))
    raises_like(lambda m: m.from_numpy(np.zeros(2, object)), match="numpy.object_")


@given(shape=st.lists(st.integers(0, 3), max_size=3))
@settings(max_examples=15, deadline=None)
def test_filled_constructors(shape):
    for make in [lambda m: m.zeros(shape), lambda m: m.ones(*shape or [()]),
                 lambda m: m.zeros(tuple(shape)),
                 lambda m: m.full(shape, 3), lambda m: m.full(shape, 2.5),
                 lambda m: m.full(shape, True), lambda m: m.ones(shape, dtype=m.int32),
                 lambda m: m.empty(shape).fill_(7), lambda m: m.zeros(shape, dtype=m.bool)]:
        assert_same(make(ember), make(torch))


def test_like_and_new_constructors():
    for src in ["float32", "int64", "float64"]:
        def run(m):
            x = m.ones(2, 3, dtype=getattr(m, src))
            return [m.zeros_like(x), m.ones_like(x), m.full_like(x, 2.7), m.empty_like(x).fill_(1),
                    m.ones_like(x, dtype=m.float64), x.new_zeros(3), x.new_ones((2, 2)),
                    x.new_full((2,), 3), x.new_empty(3).fill_(0), x.new_tensor([1, 2]),
                    x.new_tensor([1.5]),
                    m.zeros_like(x, requires_grad=x.is_floating_point())]
        for e, t in zip(run(ember), run(torch)):
            assert_same(e, t)
            assert e.requires_grad == t.requires_grad


@pytest.mark.parametrize("args", [(5,), (0, 5, 2), (5, 0, -1), (0., 1, 0.1), (1, 2.5, 0.5),
                                  (0, 1, 0.3), (10, 0, -3), (0., 3), (-1., -3, -0.5),
                                  (0.1, 0.4, 0.1), (1, 1.3, 0.1), (0, 10, 1.5), (3, 3), (0, -3, -1),
                                  (np.int32(3),)], ids=repr)
def test_arange(args):
    assert_same(ember.arange(*args), torch.arange(*args))
    assert_same(ember.arange(*args, dtype=ember.float64), torch.arange(*args, dtype=torch.float64))


def test_arange_errors():
    raises_like(lambda m: m.arange(0, 5, 0), match="step must be nonzero")
    raises_like(lambda m: m.arange(0, 5, -1),
                match="upper bound and lower bound inconsistent with step sign")


@pytest.mark.parametrize("args,kw", [((0, 1, 5), {}), ((0, 1, 1), {}), ((0, 10, 0), {}),
                                     ((0, 10, 3), {"dtype": "int64"}), ((-1, 1, 4), {}),
                                     ((2, -2, 5), {"dtype": "float64"})], ids=repr)
def test_linspace_logspace(args, kw):
    def run(m):
        k = {n: getattr(m, v) for n, v in kw.items()}
        return m.linspace(*args, **k), m.logspace(*args, **k), m.logspace(*args, base=2, **k)
    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t, rtol=1e-5)


@pytest.mark.parametrize("args", [(3,), (2, 3), (3, 2), (0,), (1, 0)])
def test_eye(args):
    assert_same(ember.eye(*args), torch.eye(*args))
    assert_same(ember.eye(*args, dtype=ember.int64), torch.eye(*args, dtype=torch.int64))


def test_random_shapes_dtypes_and_ranges():
    for make in [lambda m: m.rand(2, 3), lambda m: m.rand((4,)), lambda m: m.randn(3, 1),
                 lambda m: m.randn(2, dtype=m.float64), lambda m: m.randint(0, 10, (3,)),
                 lambda m: m.randint(5, (2, 2)), lambda m: m.randint(3, 10, size=(2,)),
                 lambda m: m.randint(0, 10, (3,), dtype=m.float32), lambda m: m.randperm(5),
                 lambda m: m.randperm(4, dtype=m.float32), lambda m: m.normal(0., 1., size=(2, 3)),
                 lambda m: m.normal(m.zeros(3), m.ones(3)), lambda m: m.normal(m.zeros(3), 1.),
                 lambda m: m.normal(0., m.ones(2, 2)), lambda m: m.bernoulli(m.full((3,), 0.5)),
                 lambda m: m.multinomial(m.tensor([0.1, 0.9]), 4, replacement=True),
                 lambda m: m.multinomial(m.tensor([[0.1, 0.9, 0.3]]), 2),
                 lambda m: m.rand_like(m.zeros(2, dtype=m.float64)),
                 lambda m: m.randn_like(m.zeros(2, 3)), lambda m: m.randint_like(m.zeros(2), 5),
                 lambda m: m.randint_like(m.zeros(2), 2, 5), lambda m: m.empty(3).uniform_(2, 3),
                 lambda m: m.empty(3).normal_(), lambda m: m.empty(3).random_(0, 5),
                 lambda m: m.empty(3).exponential_(), lambda m: m.empty(3).bernoulli_(0.5)]:
        e, t = make(ember), make(torch)
        assert e.shape == t.shape and dtype_name(e.dtype) == dtype_name(t.dtype)
    assert ember.rand(2, requires_grad=True).requires_grad
    ember.manual_seed(0)
    r = ember.rand(1000)
    assert 0 <= r.min().item() and r.max().item() < 1
    ints = ember.randint(3, 7, (1000,))
    assert ints.min().item() == 3 and ints.max().item() == 6
    assert sorted(ember.randperm(20).tolist()) == list(range(20))
    u = ember.empty(1000).uniform_(2, 3)
    assert 2 <= u.min().item() and u.max().item() < 3


def test_random_statistics():
    ember.manual_seed(1)
    n = ember.randn(20000)
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1) < 0.05
    m = ember.normal(3., 2., size=(20000,))
    assert abs(m.mean().item() - 3) < 0.1 and abs(m.std().item() - 2) < 0.1
    b = ember.bernoulli(ember.full((20000,), 0.3))
    assert set(b.unique().tolist()) <= {0., 1.} and abs(b.mean().item() - 0.3) < 0.02
    draws = ember.multinomial(ember.tensor([0.1, 0.9]), 20000, replacement=True)
    assert abs(draws.float().mean().item() - 0.9) < 0.02
    picks = ember.multinomial(ember.tensor([1., 1., 1., 1.]), 4)
    assert sorted(picks.tolist()) == [0, 1, 2, 3]


def test_random_errors():
    raises_like(lambda m: m.multinomial(m.tensor([0.1, 0.9]), 4),
                match="cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    raises_like(lambda m: m.randint(5, 3, (2,)), match="random_ expects 'from' to be less than")
    raises_like(lambda m: m.rand(2, 3, dtype=m.int64), match="not implemented for 'Long'")
    raises_like(lambda m: m.randn(2, dtype=m.int64), match="not implemented for 'Long'")
    raises_like(lambda m: m.normal(m.zeros(2), -1.))


def test_manual_seed_and_generators_reproduce():
    ember.manual_seed(123)
    a = (ember.rand(3), ember.randn(2), ember.randint(0, 100, (4,)), ember.randperm(6))
    ember.manual_seed(123)
    b = (ember.rand(3), ember.randn(2), ember.randint(0, 100, (4,)), ember.randperm(6))
    assert all(x.tolist() == y.tolist() for x, y in zip(a, b))
    assert ember.initial_seed() == 123
    g = ember.Generator().manual_seed(7)
    assert type(g) is ember.Generator and g.initial_seed() == 7
    assert g.device == ember.device("cpu") and str(g.device) == str(torch.Generator().device)
    x = ember.rand(4, generator=g)
    g2 = ember.Generator()
    g2.manual_seed(7)
    assert ember.rand(4, generator=g2).tolist() == x.tolist()
    state = ember.get_rng_state()
    first = ember.randn(3)
    ember.set_rng_state(state)
    assert ember.randn(3).tolist() == first.tolist()
    assert type(ember.manual_seed(3)) is ember.Generator
    with ember.random.fork_rng():
        ember.rand(5)
    after = ember.rand(2)
    ember.manual_seed(3)
    assert ember.rand(2).tolist() == after.tolist()


@pytest.mark.parametrize("size", [(-1,), (2, -3)])
def test_negative_size(size):
    raises_like(lambda m: m.zeros(*size))
    raises_like(lambda m: m.empty(*size))


def test_creation_arguments():
    for make in [lambda m: m.zeros(2, device="cpu"), lambda m: m.ones(2, device=m.device("cpu")),
                 lambda m: m.tensor([1.], device="cpu"), lambda m: m.arange(3, device="cpu"),
                 lambda m: m.full((2,), 1., dtype=m.float64, requires_grad=True)]:
        e, t = make(ember), make(torch)
        assert_same(e, t)
        assert e.device == ember.device("cpu") and e.requires_grad == t.requires_grad
    raises_like(lambda m: m.zeros(2, 3.0))
