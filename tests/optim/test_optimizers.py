"""ember.optim optimizers against torch.optim 2.13: the same parameters trained with the same
gradients end equal for every optimizer and option; state dicts have torch's layout and load
into each other's optimizers; zero_grad, param groups, hooks, closures, repr and errors."""
import warnings

import numpy as np
import pytest
import torch

import ember

SHAPES = [(4, 3), (3,), (2, 2, 2)]
STEPS = 8

# (optimizer, options): every option of each optimizer, alone or combined
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(amsgrad=True)),
    ("Adam", dict(weight_decay=0.1)),
    ("Adam", dict(maximize=True, amsgrad=True, weight_decay=0.05)),
    ("Adam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(centered=True)),
    ("RMSprop", dict(momentum=0.9)),
    ("RMSprop", dict(centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr_decay=0.1)),
    ("Adagrad", dict(initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(weight_decay=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(rho=0.5, eps=1e-4, lr=0.5)),
    ("Adadelta", dict(weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(betas=(0.5, 0.9), eps=1e-4)),
    ("Adamax", dict(weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(momentum_decay=0.01)),
    ("NAdam", dict(weight_decay=0.1)),
    ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(weight_decay=0.1)),
    ("RAdam", dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
       for name, kw in CASES]
NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-9, atol=1e-12)}


def _data(dtype, seed=0, steps=STEPS):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return init, grads


def _params(lib, arrays):
    return [lib.tensor(a.copy(), requires_grad=True) for a in arrays]


def _train(opt, params, grads, lib):
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = lib.tensor(g.copy())
        opt.step()


def _numpy(t):
    return np.array(t.detach().numpy() if isinstance(t, torch.Tensor) else t._data)


def _assert_params(ours, theirs, dtype):
    for e, t in zip(ours, theirs):
        assert e.dtype == getattr(ember, str(t.dtype)[6:])
        np.testing.assert_allclose(_numpy(e), _numpy(t), **TOL[dtype])


def to_torch(obj):
    """An ember state (dicts, lists, tuples, tensors) with its tensors as torch tensors."""
    if isinstance(obj, ember.Tensor):
        return torch.from_numpy(_numpy(obj))
    if isinstance(obj, dict):
        return {k: to_torch(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_torch(v) for v in obj)
    return obj


def to_ember(obj):
    if isinstance(obj, torch.Tensor):
        return ember.from_numpy(_numpy(obj))
    if isinstance(obj, dict):
        return {k: to_ember(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_ember(v) for v in obj)
    return obj


def _assert_state_equal(ours, theirs, rtol=1e-6):
    """Two states (a state_dict, or a part of one) equal: same structure, values and dtypes."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ember.Tensor), (ours, theirs)
        assert str(ours.dtype) == str(theirs.dtype) and tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=rtol, atol=1e-7)
    elif isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for k in theirs:
            _assert_state_equal(ours[k], theirs[k], rtol)
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_state_equal(a, b, rtol)
    else:
        assert type(ours) is type(theirs) and ours == pytest.approx(theirs, rel=rtol), \
            (ours, theirs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_same_parameters_as_torch(name, kw, dtype):
    init, grads = _data(dtype)
    results = []
    for lib in (ember, torch):
        params = _params(lib, init)
        opt = getattr(lib.optim, name)(params, **kw)
        _train(opt, params, grads, lib)
        results.append((params, opt))
    (ep, eo), (tp, to) = results
    _assert_params(ep, tp, dtype)
    _assert_state_equal(eo.state_dict(), to.state_dict(), rtol=1e-4)


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_state_dicts_move_between_frameworks(name, kw):
    """torch's state_dict (tensors converted) loads into ember and ember's into torch; training
    then continues identically in the four optimizers."""
    init, grads = _data(np.float64, seed=1, steps=6)
    first, rest = grads[:3], grads[3:]
    tp = _params(torch, init)
    to = getattr(torch.optim, name)(tp, **kw)
    _train(to, tp, first, torch)
    ep = _params(ember, init)
    eo = getattr(ember.optim, name)(ep, **kw)
    _train(eo, ep, first, ember)

    current = [_numpy(p) for p in tp]
    e2 = _params(ember, current)
    eo2 = getattr(ember.optim, name)(e2, **kw)
    eo2.load_state_dict(to_ember(to.state_dict()))
    t2 = _params(torch, current)
    to2 = getattr(torch.optim, name)(t2, **kw)
    to2.load_state_dict(to_torch(eo.state_dict()))
    for opt, params, lib in ((to, tp, torch), (eo, ep, ember), (eo2, e2, ember),
                             (to2, t2, torch)):
        _train(opt, params, rest, lib)
    for params in (ep, e2):
        _assert_params(params, tp, np.float64)
    _assert_params(ep, t2, np.float64)
    # loading casts every state tensor but 'step' to the parameter's dtype, in both
    _assert_state_equal(eo2.state_dict(), to2.state_dict())


def _mlp_step(lib, params, x, y):
    w1, b1, w2, b2 = params
    hidden = (x @ w1.t() + b1).relu()
    return ((hidden @ w2.t() + b2 - y) ** 2).mean()


@pytest.mark.parametrize("name", NAMES)
def test_mlp_trained_with_own_gradients(name):
    """A Linear-ReLU-Linear net on the same data: each framework computes its own gradients."""
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s) * 0.5 for s in [(6, 4), (6,), (3, 6), (3,)]]
    x, y = rng.standard_normal((10, 4)), rng.standard_normal((10, 3))
    kw = dict(lr=0.05) if name != "Adadelta" else {}
    results = []
    for lib in (ember, torch):
        params = _params(lib, arrays)
        opt = getattr(lib.optim, name)(params, **kw)
        losses = []
        for _ in range(10):
            opt.zero_grad()
            loss = _mlp_step(lib, params, lib.tensor(x), lib.tensor(y))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        results.append((params, losses))
    _assert_params(results[0][0], results[1][0], np.float64)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "NAdam"])
def test_complex_parameters(name):
    rng = np.random.default_rng(3)
    init = [(rng.standard_normal(s) + 1j * rng.standard_normal(s)).astype(np.complex64)
            for s in SHAPES]
    grads = [[(rng.standard_normal(s) + 1j * rng.standard_normal(s)).astype(np.complex64)
              for s in SHAPES] for _ in range(5)]
    out = []
    for lib in (ember, torch):
        params = _params(lib, init)
        kw = dict(lr=0.1, momentum=0.9) if name == "SGD" else {}
        _train(getattr(lib.optim, name)(params, **kw), params, grads, lib)
        out.append(params)
    for e, t in zip(*out):
        assert str(e.dtype) == str(t.dtype)
        np.testing.assert_allclose(_numpy(e), _numpy(t), rtol=1e-5, atol=1e-6)


def test_float32_stays_float32_and_versions_bump():
    init, grads = _data(np.float32)
    for name in NAMES:
        params = _params(ember, init)
        opt = getattr(ember.optim, name)(params)
        before = [p._version for p in params]
        _train(opt, params, grads[:2], ember)
        assert all(p.dtype == ember.float32 for p in params)
        assert all(p._version > v for p, v in zip(params, before))
        for state in opt.state.values():
            for key, value in state.items():
                assert value.dtype == ember.float32, (name, key)


def test_params_without_grad_are_skipped():
    init, grads = _data(np.float64)
    out = []
    for lib in (ember, torch):
        params = _params(lib, init)
        opt = lib.optim.Adam(params, lr=0.1)
        for gs in grads[:3]:
            params[0].grad = lib.tensor(gs[0].copy())
            params[1].grad = None
            opt.step()
        out.append((params, sorted(i for i in opt.state_dict()["state"])))
    _assert_params(out[0][0], out[1][0], np.float64)
    assert out[0][1] == out[1][1] == [0]


def test_sgd_state_layout():
    for lib in (ember, torch):
        params = _params(lib, _data(np.float32)[0])
        plain = lib.optim.SGD(params, lr=0.1)
        _train(plain, params, _data(np.float32)[1][:1], lib)
        assert plain.state_dict()["state"] == {}
        heavy = lib.optim.SGD(params, lr=0.1, momentum=0.9)
        _train(heavy, params, _data(np.float32)[1][:1], lib)
        assert list(heavy.state_dict()["state"][2]) == ["momentum_buffer"]


@pytest.mark.parametrize("name", NAMES + ["LBFGS"])
def test_state_dict_layout_and_repr(name):
    p = [[lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True),
          lib.zeros(1, requires_grad=True)] for lib in (ember, torch)]
    if name == "LBFGS":
        opts = [getattr(lib.optim, name)(ps, lr=0.5) for lib, ps in zip((ember, torch), p)]
    else:
        opts = [getattr(lib.optim, name)([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.5}])
                for lib, ps in zip((ember, torch), p)]
    assert repr(opts[0]) == repr(opts[1])
    assert opts[0].defaults == opts[1].defaults
    for ge, gt in zip(opts[0].param_groups, opts[1].param_groups):
        assert list(ge) == list(gt)
    sd_e, sd_t = opts[0].state_dict(), opts[1].state_dict()
    assert sd_e["param_groups"] == sd_t["param_groups"]
    assert list(sd_e["state"]) == list(sd_t["state"])


def test_named_parameters_and_state_dict():
    out = []
    for lib in (ember, torch):
        a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
        opt = lib.optim.SGD([("a", a), ("b", b)], lr=0.1)
        out.append(opt.state_dict()["param_groups"])
    assert out[0] == out[1]
    assert out[0][0]["param_names"] == ["a", "b"]


def test_zero_grad():
    for lib in (ember, torch):
        p = lib.ones(3, requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        (p * 2).sum().backward()
        grad = p.grad
        opt.zero_grad(set_to_none=False)
        assert p.grad is grad and p.grad.tolist() == [0.0, 0.0, 0.0]
        assert not p.grad.requires_grad
        (p * p).sum().backward(create_graph=True)
        assert p.grad.requires_grad
        opt.zero_grad(set_to_none=False)
        assert p.grad.grad_fn is None and not p.grad.requires_grad
        opt.zero_grad()
        assert p.grad is None


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.type, str(info.value)


@pytest.mark.parametrize("build", [
    lambda lib, p: lib.optim.SGD([], lr=0.1),
    lambda lib, p: lib.optim.SGD(p[0], lr=0.1),
    lambda lib, p: lib.optim.SGD([p[0] * 2], lr=0.1),
    lambda lib, p: lib.optim.SGD([p[0], 3], lr=0.1),
    lambda lib, p: lib.optim.SGD([p[0]], lr=0.1).add_param_group({"params": [p[0]]}),
    lambda lib, p: lib.optim.SGD([p[0]], lr=0.1).add_param_group([p[1]]),
    lambda lib, p: lib.optim.SGD([p[0]], lr=0.1).add_param_group({"params": {p[1]}}),
    lambda lib, p: lib.optim.SGD([("a", p[0])], lr=0.1).add_param_group({"params": [p[1]]}),
    lambda lib, p: lib.optim.SGD(p, lr=-1),
    lambda lib, p: lib.optim.SGD(p, momentum=-0.5),
    lambda lib, p: lib.optim.SGD(p, nesterov=True),
    lambda lib, p: lib.optim.Adam(p, betas=(1.0, 0.9)),
    lambda lib, p: lib.optim.Adam(p, betas=(0, 0.9)),
    lambda lib, p: lib.optim.Adam(p, eps=-1.0),
    lambda lib, p: lib.optim.RMSprop(p, alpha=-1.0),
    lambda lib, p: lib.optim.Adagrad(p, lr_decay=-1.0),
    lambda lib, p: lib.optim.Adadelta(p, rho=1.5),
    lambda lib, p: lib.optim.NAdam(p, momentum_decay=-1.0),
    lambda lib, p: lib.optim.LBFGS([{"params": p[:1]}, {"params": p[1:]}]),
    lambda lib, p: lib.optim.SGD(p, lr=0.1).load_state_dict(
        {"state": {}, "param_groups": [{"params": [0]}]}),
    lambda lib, p: lib.optim.SGD(p, lr=0.1).load_state_dict(
        {"state": {}, "param_groups": [{"params": [0]}, {"params": [1]}]}),
    lambda lib, p: lib.optim.Optimizer(p, {}).step(),
])
def test_errors_match_torch(build):
    results = []
    for lib in (ember, torch):
        params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
        results.append(_error(lambda: build(lib, params)))
    assert results[0] == results[1]


def test_duplicate_parameter_warning():
    messages = []
    for lib in (ember, torch):
        p = lib.zeros(2, requires_grad=True)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            lib.optim.SGD([p, p], lr=0.1)
        messages.append([(w.category, str(w.message)) for w in rec])
    assert messages[0] == messages[1] and len(messages[0]) == 1


def test_step_hooks_and_closure():
    calls = []
    p = ember.ones(2, requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.5)
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", args)))
    post = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", args)))
    glob = ember.optim.optimizer.register_optimizer_step_pre_hook(
        lambda o, args, kwargs: calls.append(("global", args)))

    def closure():
        assert ember.is_grad_enabled()
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    with ember.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 2.0 and p.tolist() == [0.0, 0.0]
    assert [c[0] for c in calls] == ["global", "pre", "post"]
    for handle in (pre, post, glob):
        handle.remove()
    opt.step(closure)
    assert len(calls) == 3

    swap = opt.register_step_pre_hook(lambda o, args, kwargs: ((), {"closure": closure}))
    assert opt.step().item() == 0.0
    swap.remove()


def test_pickle_and_deepcopy_keep_state():
    import copy
    import pickle
    init, grads = _data(np.float32)
    params = _params(ember, init)
    opt = ember.optim.Adam(params)
    _train(opt, params, grads[:2], ember)
    for clone in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        assert repr(clone) == repr(opt)
        assert len(clone.state) == 3
        assert clone.register_step_pre_hook(lambda *a: None) is not None


# -- LBFGS ------------------------------------------------------------------------------------
def _lbfgs_run(lib, kw, steps, dtype=np.float64, state=None):
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((20, 6)), rng.standard_normal((20, 2))
    w0, b0 = rng.standard_normal((6, 2)), rng.standard_normal(2)
    w, bias = _params(lib, [w0.astype(dtype), b0.astype(dtype)])
    x, y = lib.tensor(a.astype(dtype)), lib.tensor(b.astype(dtype))
    opt = lib.optim.LBFGS([w, bias], **kw)
    if state is not None:
        w.data, bias.data = lib.tensor(state[0]), lib.tensor(state[1])
        opt.load_state_dict(state[2])

    def closure():
        opt.zero_grad()
        loss = ((x @ w + bias - y) ** 2).sum() + 0.1 * (w ** 4).sum()
        loss.backward()
        return loss
    losses = [opt.step(closure).item() for _ in range(steps)]
    return [w, bias], losses, opt


@pytest.mark.parametrize("kw", [
    dict(), dict(line_search_fn="strong_wolfe"), dict(history_size=3, max_iter=7, lr=0.5),
    dict(line_search_fn="strong_wolfe", history_size=2, max_iter=5),
    dict(tolerance_grad=1e-3, tolerance_change=1e-4, max_eval=9)], ids=str)
def test_lbfgs_matches_torch(kw):
    (ep, el, eo), (tp, tl, to) = (_lbfgs_run(lib, kw, 3) for lib in (ember, torch))
    _assert_params(ep, tp, np.float64)
    np.testing.assert_allclose(el, tl, rtol=1e-10)
    # ro = 1/(y.s) near convergence amplifies rounding differences
    _assert_state_equal(eo.state_dict(), to.state_dict(), rtol=1e-5)


def test_lbfgs_first_steps_float32():
    kw = dict(max_iter=4)
    (ep, el, _), (tp, tl, _) = (_lbfgs_run(lib, kw, 1, np.float32) for lib in (ember, torch))
    _assert_params(ep, tp, np.float32)


@pytest.mark.parametrize("kw", [dict(history_size=4, max_iter=4),
                                dict(line_search_fn="strong_wolfe", max_iter=4)], ids=str)
def test_lbfgs_state_dict_moves_between_frameworks(kw):
    _, _, to = _lbfgs_run(torch, kw, 2)
    params = [_numpy(p) for p in to.param_groups[0]["params"]]
    ep, el, _ = _lbfgs_run(ember, kw, 2, state=params + [to_ember(to.state_dict())])
    tp, tl, _ = _lbfgs_run(torch, kw, 2, state=params + [to.state_dict()])
    _assert_params(ep, tp, np.float64)
    np.testing.assert_allclose(el, tl, rtol=1e-10)


def test_lbfgs_rejects_unknown_line_search():
    results = []
    for lib in (ember, torch):
        results.append(_error(lambda: _lbfgs_run(lib, dict(line_search_fn="armijo"), 1)))
    assert results[0] == results[1]


def test_state_dict_indices_with_duplicates():
    out = []
    for lib in (ember, torch):
        a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt = lib.optim.SGD([{"params": [a, a]}, {"params": [b]}], lr=0.1)
        out.append([g["params"] for g in opt.state_dict()["param_groups"]])
    assert out[0] == out[1] == [[1, 1], [2]]


def test_state_dict_hooks():
    out = []
    for lib in (ember, torch):
        calls = []
        opt = lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=0.1)
        opt.register_state_dict_pre_hook(lambda o: calls.append("pre"))
        opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
        opt.register_load_state_dict_pre_hook(lambda o, sd: calls.append("load-pre"))
        opt.register_load_state_dict_post_hook(lambda o: calls.append("load-post"),
                                               prepend=True)
        sd = opt.state_dict()
        sd["param_groups"][0]["lr"] = 0.5
        opt.load_state_dict(sd)
        out.append((calls, sorted(sd), opt.param_groups[0]["lr"]))
    assert out[0] == out[1]
