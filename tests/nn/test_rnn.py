"""RNN, LSTM, GRU and their cells against torch: parameter names and shapes, outputs, final
states and every gradient over layers, directions, batch_first, packed and unbatched input."""
import numpy as np
import pytest
import torch

import ember
from nn_helpers import run_both, randn, e_tensor, t_tensor, assert_close


def utils_of(m):
    return torch.nn.utils.rnn if isinstance(m, torch.nn.Module) else ember.nn.utils.rnn


def build(kind, **kw):
    return lambda nn: getattr(nn, kind)(3, 5, **kw)


OPTIONS = [{}, {"num_layers": 2}, {"bidirectional": True}, {"batch_first": True},
           {"bias": False, "num_layers": 2, "bidirectional": True},
           {"num_layers": 3, "dropout": 0.5}]


@pytest.mark.parametrize("opts", OPTIONS, ids=str)
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers(kind, opts):
    r = np.random.default_rng(0)
    train = "dropout" not in opts               # dropout draws differ: compare in eval mode
    run_both(build(kind, **opts), [randn(r, 4, 2, 3)], train=train)
    run_both(build(kind, **opts), [randn(r, 3, 3)], train=train)        # unbatched


def test_rnn_relu():
    r = np.random.default_rng(1)
    run_both(lambda nn: nn.RNN(3, 4, 2, nonlinearity="relu", bidirectional=True),
             [randn(r, 5, 2, 3)])
    run_both(lambda nn: nn.RNN(3, 4, 2, "relu", False), [randn(r, 5, 2, 3)])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_initial_state(kind, batch_first):
    r = np.random.default_rng(2)
    x = randn(r, 2, 4, 3) if batch_first else randn(r, 4, 2, 3)
    h = randn(r, 4, 2, 5)
    if kind == "LSTM":
        run_both(build(kind, num_layers=2, bidirectional=True, batch_first=batch_first),
                 [x, h, randn(r, 4, 2, 5)], call=lambda m, x, h, c: m(x, (h, c)))
    else:
        run_both(build(kind, num_layers=2, bidirectional=True, batch_first=batch_first), [x, h])


def test_unbatched_with_state():
    r = np.random.default_rng(3)
    run_both(build("GRU", num_layers=2), [randn(r, 4, 3), randn(r, 2, 5)])
    run_both(build("LSTM"), [randn(r, 4, 3), randn(r, 1, 5), randn(r, 1, 5)],
             call=lambda m, x, h, c: m(x, (h, c)))


def test_lstm_projection():
    r = np.random.default_rng(4)
    run_both(lambda nn: nn.LSTM(3, 5, num_layers=2, proj_size=2, bidirectional=True),
             [randn(r, 4, 2, 3)])


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_packed_sequences(kind, enforce_sorted):
    r = np.random.default_rng(5)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]

    def call(m, x):
        u = utils_of(m)
        packed = u.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        out, hidden = m(packed)
        padded, lens = u.pad_packed_sequence(out, padding_value=-1.0)
        return padded, lens.float(), hidden
    run_both(build(kind, num_layers=2, bidirectional=True), [randn(r, 5, 4, 3)], call=call)


def test_dropout_between_layers_in_training():
    r = np.random.default_rng(6)
    # p = 1 drops everything between layers: deterministic, equal to torch
    run_both(build("LSTM", num_layers=2, dropout=1.0), [randn(r, 3, 2, 3)])
    ember.manual_seed(0)
    m = ember.nn.GRU(3, 5, num_layers=2, dropout=0.5)
    x = e_tensor(randn(r, 3, 2, 3))
    a, b = m(x)[0], m(x)[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    m.eval()
    np.testing.assert_array_equal(m(x)[0].detach().numpy(), m(x)[0].detach().numpy())


CELLS = [
    lambda nn: nn.RNNCell(3, 4),
    lambda nn: nn.RNNCell(3, 4, bias=False, nonlinearity="relu"),
    lambda nn: nn.GRUCell(3, 4),
    lambda nn: nn.GRUCell(3, 4, bias=False),
]


@pytest.mark.parametrize("make", CELLS)
def test_cells(make):
    r = np.random.default_rng(7)
    run_both(make, [randn(r, 2, 3)])
    run_both(make, [randn(r, 2, 3), randn(r, 2, 4)])
    run_both(make, [randn(r, 3)])
    run_both(make, [randn(r, 3), randn(r, 4)])


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_cell(bias):
    r = np.random.default_rng(8)
    make = lambda nn: nn.LSTMCell(3, 4, bias=bias)  # noqa: E731
    run_both(make, [randn(r, 2, 3)])
    run_both(make, [randn(r, 2, 3), randn(r, 2, 4), randn(r, 2, 4)],
             call=lambda m, x, h, c: m(x, (h, c)))
    run_both(make, [randn(r, 3), randn(r, 4), randn(r, 4)], call=lambda m, x, h, c: m(x, (h, c)))


def test_cell_unrolled_matches_layer():
    """A loop of LSTMCell over time equals one LSTM layer with the same weights."""
    layer = ember.nn.LSTM(3, 4)
    cell = ember.nn.LSTMCell(3, 4)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = ember.randn(5, 2, 3)
    h = c = ember.zeros(2, 4)
    outs = []
    for t in range(5):
        h, c = cell(x[t], (h, c))
        outs.append(h)
    out, (hn, cn) = layer(x)
    np.testing.assert_allclose(ember.stack(outs).detach().numpy(), out.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cn[0].detach().numpy(), c.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_parameters_reprs_and_all_weights():
    for make in [lambda nn: nn.LSTM(3, 5, 2, bias=False, batch_first=True, dropout=0.2,
                                    bidirectional=True),
                 lambda nn: nn.RNN(3, 5, nonlinearity="relu"), lambda nn: nn.GRU(3, 5),
                 lambda nn: nn.LSTM(3, 5, proj_size=2), lambda nn: nn.RNNCell(2, 3, bias=False,
                                                                              nonlinearity="relu"),
                 lambda nn: nn.LSTMCell(2, 3), lambda nn: nn.GRUCell(2, 3, bias=False)]:
        e, t = make(ember.nn), make(torch.nn)
        assert repr(e) == repr(t)
        assert [(n, tuple(p.shape)) for n, p in e.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in t.named_parameters()]
        if hasattr(t, "all_weights"):
            assert [[tuple(w.shape) for w in ws] for ws in e.all_weights] == \
                [[tuple(w.shape) for w in ws] for ws in t.all_weights]


def _same_error(fn):
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(Exception) as ee:
        fn(ember)
    assert ee.type is te.type and str(ee.value) == str(te.value)


ERRORS = [
    lambda lib: lib.nn.LSTM(3, 5)(lib.zeros(2, 2, 4)),
    lambda lib: lib.nn.GRU(3, 5)(lib.zeros(2, 2, 3), lib.zeros(2, 2, 5)),
    lambda lib: lib.nn.LSTM(3, 5)(lib.zeros(2, 2, 3), (lib.zeros(1, 2, 5), lib.zeros(1, 3, 5))),
    lambda lib: lib.nn.LSTM(3, 5)(lib.zeros(2, 2, 3), (lib.zeros(2, 5), lib.zeros(2, 5))),
    lambda lib: lib.nn.RNN(3, 5)(lib.zeros(2, 3), lib.zeros(1, 1, 5)),
    lambda lib: lib.nn.RNN(3, 5)(lib.zeros(2, 2, 2, 3)),
    lambda lib: lib.nn.GRU(3, 5)(lib.zeros(2, 2, 3, dtype=lib.float64)),
    lambda lib: lib.nn.RNN(3, 5, nonlinearity="sigmoid"),
    lambda lib: lib.nn.GRU(3, 5, proj_size=2),
    lambda lib: lib.nn.LSTM(3, 5, proj_size=5),
    lambda lib: lib.nn.LSTM(3, 0),
    lambda lib: lib.nn.LSTM(3, 5, dropout=2),
    lambda lib: lib.nn.GRUCell(3, 4)(lib.zeros(2, 2, 3)),
    lambda lib: lib.nn.LSTMCell(3, 4)(lib.zeros(2, 3), (lib.zeros(1, 1, 4), lib.zeros(2, 4))),
]


@pytest.mark.parametrize("fn", ERRORS)
def test_errors_match_torch(fn):
    _same_error(fn)


def test_to_double_and_state_dict_roundtrip():
    t = torch.nn.GRU(3, 4, 2, bidirectional=True).double()
    e = ember.nn.GRU(3, 4, 2, bidirectional=True).double()
    e.load_state_dict({k: e_tensor(v) for k, v in t.state_dict().items()})
    x = np.random.default_rng(9).standard_normal((3, 2, 3))
    out_e, h_e = e(e_tensor(x))
    out_t, h_t = t(t_tensor(x))
    assert_close(out_e, out_t, 1e-10, 1e-12)
    assert_close(h_e, h_t, 1e-10, 1e-12)
