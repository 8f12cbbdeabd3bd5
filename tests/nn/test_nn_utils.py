"""nn.utils against torch: gradient clipping, parameters <-> vector, sequence padding and
packing."""
import warnings

import numpy as np
import pytest
import torch

import ember
from nn_helpers import e_tensor, t_tensor, assert_close, copy_weights


def models():
    torch.manual_seed(0)        # fixed weights (the suite's order must not change them)
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    e = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.Tanh(), ember.nn.Linear(4, 2))
    copy_weights(e, t)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32) * 10
    (t(t_tensor(x)) ** 2).sum().backward()
    (e(e_tensor(x)) ** 2).sum().backward()
    return e, t


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm(norm_type, max_norm):
    e, t = models()
    total_e = ember.nn.utils.clip_grad_norm_(e.parameters(), max_norm, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(t.parameters(), max_norm, norm_type=norm_type)
    assert_close(total_e, total_t, 1e-5, 1e-5)
    for (n, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
        assert_close(ep.grad, tp.grad, 1e-5, 1e-5, n)


def test_clip_grad_norm_edge_cases():
    e = ember.nn.Parameter(ember.ones(3))
    e.grad = ember.tensor([3.0, 4.0, 0.0])
    total = ember.nn.utils.clip_grad_norm_(e, 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(e.grad.numpy(), [0.6, 0.8, 0.0], rtol=1e-5)
    e.grad = ember.tensor([float("nan"), 1.0, 0.0])
    with pytest.raises(RuntimeError) as ee:
        ember.nn.utils.clip_grad_norm_([e], 1.0, error_if_nonfinite=True)
    t = torch.nn.Parameter(torch.ones(3))
    t.grad = torch.tensor([float("nan"), 1.0, 0.0])
    with pytest.raises(RuntimeError) as te:
        torch.nn.utils.clip_grad_norm_([t], 1.0, error_if_nonfinite=True)
    assert str(ee.value) == str(te.value)
    assert ember.nn.utils.clip_grad_norm_([ember.nn.Parameter(ember.ones(2))], 1.0).item() == 0
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ember.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    assert "empty generator" in str(w[0].message)


def test_clip_grad_value():
    e, t = models()
    ember.nn.utils.clip_grad_value_(e.parameters(), 0.3)
    torch.nn.utils.clip_grad_value_(t.parameters(), 0.3)
    for (n, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
        assert_close(ep.grad, tp.grad, what=n)


def test_parameters_vector_roundtrip():
    e, t = models()
    ve = ember.nn.utils.parameters_to_vector(e.parameters())
    vt = torch.nn.utils.parameters_to_vector(t.parameters())
    assert_close(ve, vt)
    ember.nn.utils.vector_to_parameters(ve * 2, e.parameters())
    torch.nn.utils.vector_to_parameters(vt * 2, t.parameters())
    for (n, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
        assert_close(ep, tp, what=n)
        assert isinstance(ep, ember.nn.Parameter)
    with pytest.raises(TypeError):
        ember.nn.utils.vector_to_parameters([1.0], e.parameters())


SEQS = [np.arange(n * 2, dtype=np.float32).reshape(n, 2) + n for n in (4, 2, 3)]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(batch_first, side):
    es = [e_tensor(s, True) for s in SEQS]
    ts = [t_tensor(s, True) for s in SEQS]
    pe = ember.nn.utils.rnn.pad_sequence(es, batch_first, -1.0, side)
    pt = torch.nn.utils.rnn.pad_sequence(ts, batch_first, -1.0, side)
    assert_close(pe, pt)
    w = np.random.default_rng(0).standard_normal(tuple(pt.shape)).astype(np.float32)
    (pe * e_tensor(w)).sum().backward()
    (pt * t_tensor(w)).sum().backward()
    for a, b in zip(es, ts):
        assert_close(a.grad, b.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_and_pad_roundtrip(batch_first, enforce_sorted):
    seqs = sorted(SEQS, key=len, reverse=True) if enforce_sorted else SEQS
    lengths = [len(s) for s in seqs]
    res = []
    for lib, mk in ((ember, e_tensor), (torch, t_tensor)):
        u = lib.nn.utils.rnn
        leaves = [mk(s, True) for s in seqs]
        padded = u.pad_sequence(leaves, batch_first)
        packed = u.pack_padded_sequence(padded, lengths, batch_first, enforce_sorted)
        out, lens = u.pad_packed_sequence(packed, batch_first, padding_value=7.0, total_length=5)
        (out * out).sum().backward()
        res.append((packed, out, lens, [x.grad for x in leaves]))
        seq_packed = u.pack_sequence([mk(s) for s in seqs], enforce_sorted=enforce_sorted)
        res[-1] += (seq_packed, u.unpack_sequence(seq_packed))
    (pe, oe, le, ge, se, ue), (pt, ot, lt, gt, st, ut) = res
    for a, b in [(pe.data, pt.data), (pe.batch_sizes, pt.batch_sizes), (oe, ot), (le, lt),
                 (se.data, st.data)] + list(zip(ge, gt)) + list(zip(ue, ut)):
        assert_close(a, b)
    for a, b in [(pe.sorted_indices, pt.sorted_indices),
                 (pe.unsorted_indices, pt.unsorted_indices)]:
        assert (a is None) == (b is None)
        if a is not None:
            assert_close(a, b)


def test_pack_errors_match_torch():
    for fn in [lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(3, 2, 1), [1, 3]),
               lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
                   lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(3, 2, 1), [3, 1]),
                   total_length=2),
               lambda lib: lib.nn.utils.rnn.pad_sequence([lib.zeros(2)], padding_side="up")]:
        with pytest.raises(Exception) as te:
            fn(torch)
        with pytest.raises(Exception) as ee:
            fn(ember)
        assert ee.type is te.type and str(ee.value) == str(te.value)
