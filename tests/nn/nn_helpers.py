"""Helpers of the nn tests: build the same layer in torch and ember, give ember torch's weights
through load_state_dict, run both, compare outputs, buffers and every gradient."""
import numpy as np
import torch

import ember


def e_tensor(a, requires_grad=False):
    """An ember tensor holding a copy of numpy array or torch tensor `a`."""
    if isinstance(a, torch.Tensor):
        a = a.detach().numpy()
    t = ember.from_numpy(np.array(a))
    return t.requires_grad_() if requires_grad else t


def t_tensor(a, requires_grad=False):
    t = torch.from_numpy(np.array(a))
    return t.requires_grad_() if requires_grad else t


def to_numpy(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.detach()._data)


def flatten(out):
    """The tensors of a (nested) output, in order (PackedSequence: its data; None skipped)."""
    if out is None:
        return []
    if isinstance(out, (torch.Tensor, ember.Tensor)):
        return [out]
    if hasattr(out, "batch_sizes"):
        return [out.data]
    return [t for o in out for t in flatten(o)]


def assert_close(e, t, rtol=1e-5, atol=1e-6, what=""):
    if t is None or e is None:
        assert e is None and t is None, (what, e, t)
        return
    assert tuple(e.shape) == tuple(t.shape), (what, e.shape, t.shape)
    assert str(e.dtype) == str(t.dtype), (what, e.dtype, t.dtype)
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=rtol, atol=atol, err_msg=what)


def copy_weights(e_mod, t_mod):
    """Load torch's state_dict (parameters and buffers) into the ember module."""
    state = {k: e_tensor(v) for k, v in t_mod.state_dict().items()}
    result = e_mod.load_state_dict(state)
    assert repr(result) == "<All keys matched successfully>"


def run_both(make, inputs, *, train=True, grad=True, rtol=1e-5, atol=1e-6, call=None,
             seed=0, check_repr=True, steps=1, requires=None):
    """make(nn) builds the layer for torch.nn and ember.nn; inputs: numpy arrays (floating
    ones require grad, or those at the positions `requires`) or other arguments passed as they
    are. Checks state_dict keys and shapes, repr, outputs, buffers, input and parameter
    gradients. Returns the modules."""
    t_mod, e_mod = make(torch.nn), make(ember.nn)
    t_sd, e_sd = t_mod.state_dict(), e_mod.state_dict()
    assert list(e_sd) == list(t_sd)
    assert [tuple(v.shape) for v in e_sd.values()] == [tuple(v.shape) for v in t_sd.values()]
    assert [n for n, _ in e_mod.named_parameters()] == [n for n, _ in t_mod.named_parameters()]
    if check_repr:
        assert repr(e_mod) == repr(t_mod)
    copy_weights(e_mod, t_mod)
    t_mod.train(train)
    e_mod.train(train)
    call = call or (lambda m, *xs: m(*xs))
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        floats = [isinstance(x, np.ndarray) and x.dtype.kind == "f" and grad
                  and (requires is None or i in requires) for i, x in enumerate(inputs)]
        t_in = [t_tensor(x, f) if isinstance(x, np.ndarray) else x for x, f in zip(inputs, floats)]
        e_in = [e_tensor(x, f) if isinstance(x, np.ndarray) else x for x, f in zip(inputs, floats)]
        t_out, e_out = flatten(call(t_mod, *t_in)), flatten(call(e_mod, *e_in))
        assert len(e_out) == len(t_out)
        for i, (e, t) in enumerate(zip(e_out, t_out)):
            assert_close(e, t, rtol, atol, f"output {i}")
        for (name, eb), (_, tb) in zip(e_mod.named_buffers(), t_mod.named_buffers()):
            assert_close(eb, tb, rtol, atol, f"buffer {name}")
        if not grad:
            continue
        pairs = [(e, t) for e, t in zip(e_out, t_out) if t.requires_grad]
        weights = [rng.standard_normal(tuple(t.shape)).astype(to_numpy(t).dtype)
                   for _, t in pairs]
        if not pairs:
            continue
        sum(((t * t_tensor(w)).sum() for (_, t), w in zip(pairs, weights))).backward()
        sum(((e * e_tensor(w)).sum() for (e, _), w in zip(pairs, weights))).backward()
        for i, (e, t) in enumerate(zip(e_in, t_in)):
            if isinstance(t, torch.Tensor) and t.requires_grad:
                assert_close(e.grad, t.grad, rtol * 10, atol * 10, f"grad of input {i}")
        e_params, t_params = dict(e_mod.named_parameters()), dict(t_mod.named_parameters())
        for name, tp in t_params.items():
            assert_close(e_params[name].grad, tp.grad, rtol * 10, atol * 10, f"grad of {name}")
        t_mod.zero_grad()
        e_mod.zero_grad()
    return e_mod, t_mod


def randn(rng, *shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)
