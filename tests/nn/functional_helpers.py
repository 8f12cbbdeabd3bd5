"""Helpers of the functional tests: run an F function on the same inputs in torch and ember
and compare outputs, dtypes, shapes and gradients; error-type and gradcheck helpers."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

class G:
    """A numpy array that becomes a tensor requiring grad."""

    def __init__(self, a):
        self.a = np.asarray(a)


def rnd(*shape, dtype=np.float32, seed=None, low=None, high=None):
    rng = np.random.default_rng(seed if seed is not None else hash(shape) % 1000)
    if low is not None:
        return rng.uniform(low, high, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _to(fw, a):
    if isinstance(a, G):
        return _to(fw, a.a).requires_grad_()
    if isinstance(a, np.ndarray):
        return (torch if fw is torch else ember).from_numpy(a.copy())
    if isinstance(a, (list, tuple)) and a and any(isinstance(x, (np.ndarray, G)) for x in a):
        return type(a)(_to(fw, x) for x in a)
    return a


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.detach()._data)


def close(e, t, rtol, atol, what=""):
    assert tuple(e.shape) == tuple(t.shape), (what, tuple(e.shape), tuple(t.shape))
    assert str(e.dtype) == str(t.dtype), (what, e.dtype, t.dtype)
    np.testing.assert_allclose(_np(e), _np(t), rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=what)


def _tol(args, rtol, atol):
    f64 = any(isinstance(a, (np.ndarray, G)) and np.asarray(getattr(a, "a", a)).dtype == np.float64
              for a in args)
    return (rtol or (1e-10 if f64 else 1e-5)), (atol or (1e-10 if f64 else 1e-5))


def run(name, *args, rtol=None, atol=None, grad=True, node=None, **kwargs):
    """F.name on the same inputs in torch and ember: outputs, then gradients of the G inputs
    for a random grad_output. Returns the ember output."""
    rtol, atol = _tol(args, rtol, atol)
    t_args, e_args = [_to(torch, a) for a in args], [_to(ember, a) for a in args]
    t_kw = {k: _to(torch, v) for k, v in kwargs.items()}
    e_kw = {k: _to(ember, v) for k, v in kwargs.items()}
    t_out, e_out = getattr(TF, name)(*t_args, **t_kw), getattr(F, name)(*e_args, **e_kw)
    t_outs = t_out if isinstance(t_out, tuple) else (t_out,)
    e_outs = e_out if isinstance(e_out, tuple) else (e_out,)
    assert len(t_outs) == len(e_outs)
    for i, (e, t) in enumerate(zip(e_outs, t_outs)):
        if t is None:
            assert e is None
            continue
        close(e, t, rtol, atol, f"{name} output {i}")
    if node is not None:
        assert type(e_outs[0].grad_fn).__name__ == node
    grads = [(e, t) for e, t in zip(e_outs, t_outs) if t is not None and t.requires_grad]
    if not grad or not grads:
        return e_out
    gos = [rnd(*t.shape, dtype=_np(t).dtype, seed=7) for _, t in grads]
    torch.autograd.backward([t for _, t in grads], [torch.from_numpy(g) for g in gos])
    ember.autograd.backward([e for e, _ in grads], [ember.from_numpy(g.copy()) for g in gos])
    flat_t = [x for a in t_args + list(t_kw.values())
              for x in (a if isinstance(a, (list, tuple)) else [a])]
    flat_e = [x for a in e_args + list(e_kw.values())
              for x in (a if isinstance(a, (list, tuple)) else [a])]
    for i, (e, t) in enumerate(zip(flat_e, flat_t)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert (e.grad is None) == (t.grad is None), (name, i, e.grad, t.grad)
            if t.grad is not None:
                close(e.grad, t.grad, rtol * 10, atol * 10, f"{name} grad of input {i}")
    return e_out


def raises_like(fn_torch, fn_ember):
    """Both raise, with the same exception type (and message when torch's is short)."""
    with pytest.raises(Exception) as t_err:
        fn_torch()
    with pytest.raises(Exception) as e_err:
        fn_ember()
    assert type(e_err.value) is type(t_err.value), (e_err.value, t_err.value)
    return e_err.value, t_err.value


def both_raise(name, *args, match_message=True, **kwargs):
    e, t = raises_like(lambda: getattr(TF, name)(*[_to(torch, a) for a in args], **kwargs),
                       lambda: getattr(F, name)(*[_to(ember, a) for a in args], **kwargs))
    if match_message:
        assert str(e) == str(t)


def check_grads(name, *args, double=False, **kwargs):
    """gradcheck (and gradgradcheck) of F.name in float64 on the G inputs."""
    inputs = [_to(ember, a) for a in args]
    fn = getattr(F, name)
    assert ember.autograd.gradcheck(lambda *xs: fn(*xs, **kwargs), inputs)
    if double:
        assert ember.autograd.gradgradcheck(lambda *xs: fn(*xs, **kwargs), inputs)


f64 = np.float64
