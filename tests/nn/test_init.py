"""nn.init and the initialisation of every layer: torch's distributions checked statistically
(bounds, means, standard deviations), deterministic fills checked exactly."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember
from nn_helpers import to_numpy

init = ember.nn.init


def big(*shape):
    return ember.empty(*shape)


def check_uniform(t, bound, lo=None):
    a = to_numpy(t)
    lo = -bound if lo is None else lo
    assert a.min() >= lo and a.max() <= bound
    assert a.min() < lo + 0.05 * (bound - lo) and a.max() > bound - 0.05 * (bound - lo)
    np.testing.assert_allclose(a.std(), (bound - lo) / math.sqrt(12), rtol=0.05)


def check_normal(t, std, mean=0.0):
    a = to_numpy(t)
    assert abs(a.mean() - mean) < 4 * std / math.sqrt(a.size)
    np.testing.assert_allclose(a.std(), std, rtol=0.05)


def test_calculate_gain_matches_torch():
    for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                        ("leaky_relu", 1), ("selu", None), ("conv_transpose3d", None)]:
        assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)
    for bad in [("foo", None), ("leaky_relu", "x"), ("leaky_relu", True)]:
        with pytest.raises(ValueError) as te:
            torch.nn.init.calculate_gain(*bad)
        with pytest.raises(ValueError) as ee:
            init.calculate_gain(*bad)
        assert str(ee.value) == str(te.value)


def test_fans_match_torch():
    for shape in [(3, 4), (5, 2, 3), (6, 3, 2, 2), (2, 4, 1, 2, 3)]:
        assert init._calculate_fan_in_and_fan_out(ember.empty(shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ember.empty(3))


def test_uniform_normal_constant():
    check_uniform(init.uniform_(big(200, 100), -0.3, 0.7), 0.7, -0.3)
    check_normal(init.normal_(big(200, 100), 2.0, 0.5), 0.5, 2.0)
    assert (to_numpy(init.constant_(big(3, 4), 1.5)) == 1.5).all()
    assert (to_numpy(init.ones_(big(3))) == 1).all() and (to_numpy(init.zeros_(big(3))) == 0).all()
    g = ember.Generator().manual_seed(3)
    a = to_numpy(init.normal_(big(5), generator=g)).copy()
    g.manual_seed(3)
    np.testing.assert_array_equal(to_numpy(init.normal_(big(5), generator=g)), a)


def test_inplace_under_no_grad_and_version_bump():
    p = ember.nn.Parameter(ember.zeros(4, 4))
    v = p._version
    out = init.xavier_uniform_(p)
    assert out is p and p.requires_grad and p.grad_fn is None and p._version > v


def test_trunc_normal():
    t = to_numpy(init.trunc_normal_(big(300, 100), mean=0.5, std=1.0, a=-1.0, b=1.5))
    assert t.min() >= -1.0 and t.max() <= 1.5
    ref = torch.nn.init.trunc_normal_(torch.empty(300, 100), mean=0.5, std=1.0, a=-1.0, b=1.5)
    np.testing.assert_allclose(t.mean(), ref.mean().item(), atol=0.02)
    np.testing.assert_allclose(t.std(), ref.std().item(), rtol=0.03)


@pytest.mark.parametrize("shape", [(64, 128), (32, 16, 3, 3)])
def test_xavier_and_kaiming(shape):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(big(*shape))
    check_uniform(init.xavier_uniform_(big(*shape), gain=2.0),
                  2.0 * math.sqrt(6.0 / (fan_in + fan_out)))
    check_normal(init.xavier_normal_(big(*shape)), math.sqrt(2.0 / (fan_in + fan_out)))
    check_uniform(init.kaiming_uniform_(big(*shape), a=math.sqrt(5)),
                  math.sqrt(3.0) * math.sqrt(2.0 / 6) / math.sqrt(fan_in))
    check_uniform(init.kaiming_uniform_(big(*shape), mode="fan_out", nonlinearity="relu"),
                  math.sqrt(6.0 / fan_out))
    check_normal(init.kaiming_normal_(big(*shape), nonlinearity="relu"),
                 math.sqrt(2.0 / fan_in))
    with pytest.raises(ValueError) as ee:
        init.kaiming_normal_(big(*shape), mode="fan_avg")
    with pytest.raises(ValueError) as te:
        torch.nn.init.kaiming_normal_(torch.empty(shape), mode="fan_avg")
    assert str(ee.value) == str(te.value)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        init.kaiming_uniform_(ember.empty(0, 3))
    assert "no-op" in str(w[0].message)


def test_eye_dirac_orthogonal_sparse():
    for shape in [(3, 5), (4, 2)]:
        np.testing.assert_array_equal(to_numpy(init.eye_(big(*shape))),
                                      torch.nn.init.eye_(torch.empty(shape)).numpy())
    for shape, groups in [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((4, 4, 1, 3, 2), 2)]:
        np.testing.assert_array_equal(
            to_numpy(init.dirac_(big(*shape), groups)),
            torch.nn.init.dirac_(torch.empty(shape), groups).numpy())
    for shape in [(6, 4), (4, 6), (3, 2, 2)]:
        q = to_numpy(init.orthogonal_(big(*shape), gain=1.5)).reshape(shape[0], -1)
        gram = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
        np.testing.assert_allclose(gram, 2.25 * np.eye(len(gram)), atol=1e-5)
    s = to_numpy(init.sparse_(big(10, 40), sparsity=0.3, std=0.1))
    assert ((s == 0).sum(0) >= 3).all()
    for fn, arg in [(init.eye_, big(2, 2, 2)), (init.dirac_, big(2, 2)),
                    (init.orthogonal_, big(3)), (init.sparse_, big(3))]:
        with pytest.raises(ValueError):
            fn(arg) if fn is not init.sparse_ else fn(arg, 0.1)


def test_deprecated_aliases_warn():
    with pytest.warns(FutureWarning, match="nn.init.uniform"):
        init.uniform(big(2))


LAYER_BOUNDS = [
    # (make(nn), {param: bound or ("normal", std) or constant})
    (lambda nn: nn.Linear(100, 50), {"weight": 1 / 10, "bias": 1 / 10}),
    (lambda nn: nn.Conv2d(8, 16, 3), {"weight": 1 / math.sqrt(72), "bias": 1 / math.sqrt(72)}),
    (lambda nn: nn.Conv1d(6, 12, 5, groups=3), {"weight": 1 / math.sqrt(10),
                                                "bias": 1 / math.sqrt(10)}),
    (lambda nn: nn.ConvTranspose2d(8, 16, 3), {"weight": 1 / math.sqrt(144),
                                               "bias": 1 / math.sqrt(144)}),
    (lambda nn: nn.Bilinear(25, 10, 40), {"weight": 1 / 5, "bias": 1 / 5}),
    (lambda nn: nn.RNN(10, 64, num_layers=2), {"*": 1 / 8}),
    (lambda nn: nn.LSTM(10, 16, bidirectional=True), {"*": 1 / 4}),
    (lambda nn: nn.GRUCell(10, 64), {"*": 1 / 8}),
    (lambda nn: nn.Embedding(1000, 20), {"weight": ("normal", 1.0)}),
    (lambda nn: nn.BatchNorm2d(5), {"weight": ("const", 1.0), "bias": ("const", 0.0)}),
    (lambda nn: nn.LayerNorm(5), {"weight": ("const", 1.0), "bias": ("const", 0.0)}),
    (lambda nn: nn.GroupNorm(2, 4), {"weight": ("const", 1.0), "bias": ("const", 0.0)}),
    (lambda nn: nn.PReLU(3, init=0.1), {"weight": ("const", 0.1)}),
]


@pytest.mark.parametrize("make,expected", LAYER_BOUNDS)
def test_layer_initialisation(make, expected):
    e, t = make(ember.nn), make(torch.nn)
    for (name, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
        spec = expected.get(name, expected.get("*"))
        a, b = to_numpy(ep), tp.detach().numpy()
        assert a.dtype == b.dtype and a.shape == b.shape
        if isinstance(spec, tuple) and spec[0] == "normal":
            check_normal(ep, spec[1])
        elif isinstance(spec, tuple):
            np.testing.assert_array_equal(a, b)
            assert (a == np.float32(spec[1])).all()
        else:
            assert np.abs(a).max() <= spec and np.abs(b).max() <= spec
            if a.size >= 1000:
                check_uniform(ep, spec)
    assert all(not p.grad_fn and p.requires_grad for p in e.parameters())


def test_embedding_padding_row_is_zero():
    e = ember.nn.Embedding(10, 4, padding_idx=3)
    assert (to_numpy(e.weight)[3] == 0).all() and (to_numpy(e.weight)[2] != 0).all()
