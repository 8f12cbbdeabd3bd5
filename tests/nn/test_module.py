"""nn.Module against torch: registration, traversal order, state_dict / load_state_dict
(with torch's messages), conversions, repr, hooks, pickling."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from nn_helpers import e_tensor, t_tensor, assert_close, copy_weights, to_numpy

LIBS = (torch, ember)


def both(fn):
    return fn(ember), fn(torch)


def same_error(fn):
    """fn(lib) raises the same exception type with the same message in torch and ember."""
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(Exception) as ee:
        fn(ember)
    assert ee.type is te.type, (ee.value, te.value)
    assert str(ee.value).replace("ember.", "torch.") == str(te.value)


def make_net(lib, shared=False):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.bn = nn.BatchNorm2d(2)
            self.fc = nn.Linear(8, 3)
            self.out = nn.Linear(3, 3)
            self.head = nn.Sequential(nn.ReLU(), self.out if shared else nn.Linear(3, 3))
            self.register_buffer("scale", lib.ones(3))
            self.register_buffer("tmp", lib.zeros(1), persistent=False)
            self.alpha = nn.Parameter(lib.tensor(0.5))

        def forward(self, x):
            x = self.bn(self.conv(x)).flatten(1)[:, :8]
            return self.head(self.fc(x)) * self.scale * self.alpha
    return Net()


# -- registration ---------------------------------------------------------------------------
def test_attribute_registration_and_errors():
    for lib in LIBS:
        m = lib.nn.Linear(3, 2)
        m.extra = lib.nn.Parameter(lib.zeros(2))
        m.sub = lib.nn.ReLU()
        m.register_buffer("buf", lib.zeros(2))
        m.buf = lib.ones(2)
        assert [n for n, _ in m.named_parameters()] == ["weight", "bias", "extra"]
        assert list(dict(m.named_buffers())) == ["buf"] and m.buf.sum().item() == 2
        assert list(dict(m.named_children())) == ["sub"]
        del m.extra, m.sub, m.buf
        assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
        m.bias = None
        assert m.bias is None and "bias" in m._parameters
    same_error(lambda lib: setattr(lib.nn.Linear(3, 2), "weight", lib.zeros(2, 3)))
    same_error(lambda lib: lib.nn.Linear(3, 2).register_buffer("weight", lib.zeros(1)))
    same_error(lambda lib: lib.nn.Linear(3, 2).register_buffer("a.b", lib.zeros(1)))
    same_error(lambda lib: lib.nn.Linear(3, 2).register_buffer("", lib.zeros(1)))
    same_error(lambda lib: lib.nn.Linear(3, 2).register_buffer("x", 3))
    same_error(lambda lib: lib.nn.Linear(3, 2).register_parameter("x", lib.zeros(1)))
    same_error(lambda lib: lib.nn.Linear(3, 2).register_parameter(1, None))
    same_error(lambda lib: lib.nn.Linear(3, 2).add_module("x", 3))
    same_error(lambda lib: lib.nn.Linear(3, 2).add_module("a.b", lib.nn.ReLU()))
    same_error(lambda lib: lib.nn.Linear(3, 2).foo)
    same_error(lambda lib: setattr(lib.nn.Sequential(lib.nn.ReLU()), "0", 5))

    def buffer_assign(lib):
        m = lib.nn.Linear(3, 2)
        m.register_buffer("b", lib.zeros(2))
        m.b = 3
    same_error(buffer_assign)

    def before_init(lib):
        class Bad(lib.nn.Module):
            def __init__(self):
                self.w = lib.nn.Parameter(lib.zeros(1))
        Bad()
    same_error(before_init)


def test_buffer_class_and_non_persistent():
    for lib in LIBS:
        m = lib.nn.Module()
        m.a = lib.nn.Buffer(lib.ones(2))
        m.b = lib.nn.Buffer(lib.ones(2), persistent=False)
        assert list(m.state_dict()) == ["a"]
        assert [n for n, _ in m.named_buffers()] == ["a", "b"]


def test_dir_and_getters():
    e, t = both(make_net)
    assert set(dir(t)) - set(dir(e)) <= {"compile", "ipu", "xpu", "mtia", "mps", "T_destination",
                                         "_compiled_call_impl", "_wrapped_call_impl"} | \
        {k for k in dir(t) if k.startswith("_")}
    for name in ("conv", "fc", "alpha", "scale"):
        assert name in dir(e)
    assert e.get_submodule("head.0") is e.head[0]
    assert e.get_parameter("fc.bias") is e.fc.bias
    assert e.get_buffer("bn.running_mean") is e.bn.running_mean
    same_error(lambda lib: make_net(lib).get_submodule("head.7"))
    same_error(lambda lib: make_net(lib).get_submodule("alpha"))
    same_error(lambda lib: make_net(lib).get_parameter("fc.nothing"))
    same_error(lambda lib: make_net(lib).get_parameter("scale"))
    same_error(lambda lib: make_net(lib).get_buffer("fc.weight"))


# -- traversal ------------------------------------------------------------------------------
@pytest.mark.parametrize("shared", [False, True])
def test_named_members_order_and_dedup(shared):
    e, t = make_net(ember, shared), make_net(torch, shared)
    for kw in ({}, {"prefix": "net"}, {"recurse": False}, {"remove_duplicate": False}):
        assert [n for n, _ in e.named_parameters(**kw)] == [n for n, _ in t.named_parameters(**kw)]
        assert [n for n, _ in e.named_buffers(**kw)] == [n for n, _ in t.named_buffers(**kw)]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_modules(remove_duplicate=False)] == \
        [n for n, _ in t.named_modules(remove_duplicate=False)]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.modules())) == len(list(t.modules()))
    assert repr(e.parameters()).startswith("<generator object Module.parameters at 0x")


def test_apply_train_eval_requires_grad():
    e, t = both(make_net)
    for m in (e, t):
        seen = []
        m.apply(lambda mod: seen.append(type(mod).__name__))
        m.eval()
        assert not any(x.training for x in m.modules())
        m.train()
        assert all(x.training for x in m.modules())
        m.requires_grad_(False)
        assert not any(p.requires_grad for p in m.parameters())
    same_error(lambda lib: make_net(lib).train("yes"))
    ts = []
    t.apply(lambda mod: ts.append(type(mod).__name__))
    es = []
    e.apply(lambda mod: es.append(type(mod).__name__))
    assert es == ts


def test_zero_grad():
    for lib in LIBS:
        m = lib.nn.Linear(3, 2)
        m(lib.ones(1, 3)).sum().backward()
        m.zero_grad(set_to_none=False)
        assert m.weight.grad is not None and m.weight.grad.abs().sum().item() == 0
        m.zero_grad()
        assert m.weight.grad is None


def test_to_dtype_keeps_parameter_identity():
    e, t = both(make_net)
    w = e.fc.weight
    for m, lib in ((e, ember), (t, torch)):
        m(lib.randn(2, 1, 4, 4)).sum().backward()
        assert m.to(lib.float64) is m
    assert e.fc.weight is w and isinstance(w, ember.nn.Parameter)
    for (n, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
        assert str(ep.dtype) == str(tp.dtype), n
        assert (ep.grad is None) == (tp.grad is None), n
        assert tp.grad is None or str(ep.grad.dtype) == str(tp.grad.dtype), n
    for (n, eb), (_, tb) in zip(e.named_buffers(), t.named_buffers()):
        assert str(eb.dtype) == str(tb.dtype), n
    e.float()
    assert e.fc.weight.dtype == ember.float32 and e.bn.num_batches_tracked.dtype == ember.int64
    e.to(ember.zeros(1, dtype=ember.float64))
    assert e.fc.weight.dtype == ember.float64
    e.half()
    assert e.fc.weight.dtype == ember.float16
    e.type(ember.float32)
    assert e.conv.weight.dtype == ember.float32
    assert e.cpu() is e and e.to("cpu") is e
    same_error(lambda lib: make_net(lib).to(lib.int64))


# -- state dict -----------------------------------------------------------------------------
def test_state_dict_keys_values_metadata():
    e, t = both(make_net)
    es, ts = e.state_dict(), t.state_dict()
    assert type(es) is OrderedDict and list(es) == list(ts)
    assert es._metadata == ts._metadata
    assert all(not v.requires_grad for v in es.values())
    assert type(es["fc.weight"]) is ember.Tensor
    kv = e.state_dict(keep_vars=True)
    assert kv["fc.weight"] is e.fc.weight
    assert list(e.state_dict(prefix="m.")) == list(t.state_dict(prefix="m."))
    # values share memory with the parameters, as torch's detach does
    es["fc.bias"].zero_()
    assert e.fc.bias.abs().sum().item() == 0


def test_load_state_dict_roundtrip_and_assign():
    e, t = both(make_net)
    copy_weights(e, t)
    for (n, ep), (_, tp) in zip(e.state_dict().items(), t.state_dict().items()):
        assert_close(ep, tp, what=n)
    w = e.fc.weight
    new = {k: v.clone() for k, v in e.state_dict().items()}
    res = e.load_state_dict(new, assign=True)
    assert repr(res) == "<All keys matched successfully>"
    assert e.fc.weight is not w and isinstance(e.fc.weight, ember.nn.Parameter)
    assert e.fc.weight.requires_grad


def _bad_state(lib):
    m = make_net(lib)
    sd = m.state_dict()
    del sd["fc.bias"], sd["alpha"]
    sd["extra"] = lib.zeros(1)
    sd["fc.extra"] = lib.zeros(1)
    sd["conv.weight"] = lib.zeros(5, 1, 3, 3)
    return m, sd


def test_load_state_dict_errors_match_torch():
    same_error(lambda lib: _bad_state(lib)[0].load_state_dict(_bad_state(lib)[1]))
    same_error(lambda lib: lib.nn.Linear(2, 2).load_state_dict([1, 2]))
    results = []
    for lib in LIBS:
        m, sd = _bad_state(lib)
        del sd["conv.weight"]
        results.append(m.load_state_dict(sd, strict=False))
    assert results[0] == results[1] and repr(results[0]) == repr(results[1])
    res_e = make_net(ember).load_state_dict({}, strict=False)
    res_t = make_net(torch).load_state_dict({}, strict=False)
    assert repr(res_e) == repr(res_t) and res_e.missing_keys == res_t.missing_keys


def test_load_state_dict_message_text():
    m = ember.nn.Sequential(OrderedDict(fc=ember.nn.Linear(5, 3)))
    m.__class__ = type("Net", (ember.nn.Sequential,), {})
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict({"fc.weight": ember.zeros(10, 5), "c": ember.zeros(1)})
    assert str(err.value) == (
        'Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: "fc.bias". '
        '\n\tUnexpected key(s) in state_dict: "c". \n\tsize mismatch for fc.weight: copying a '
        "param with shape torch.Size([10, 5]) from checkpoint, the shape in current model is "
        "torch.Size([3, 5]).")


def test_batchnorm_old_checkpoint_fills_num_batches_tracked():
    for lib in LIBS:
        bn = lib.nn.BatchNorm1d(3)
        sd = bn.state_dict()
        del sd["num_batches_tracked"]
        sd._metadata[""]["version"] = 1
        assert repr(bn.load_state_dict(sd)) == "<All keys matched successfully>"
        sd = bn.state_dict()
        del sd["num_batches_tracked"]
        with pytest.raises(RuntimeError):
            bn.load_state_dict(sd)


def test_state_dict_hooks():
    for lib in LIBS:
        m = lib.nn.Linear(2, 2)
        calls = []
        h1 = m.register_state_dict_pre_hook(lambda mod, prefix, keep: calls.append("pre"))
        h2 = m.register_load_state_dict_post_hook(lambda mod, keys: calls.append("post"))
        m.load_state_dict(m.state_dict())
        h1.remove()
        h2.remove()
        m.load_state_dict(m.state_dict())
        assert calls == ["pre", "post"]


# -- repr -----------------------------------------------------------------------------------
def test_repr_nested():
    def build(lib):
        nn = lib.nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
                self.table = nn.ModuleDict({"a": nn.Conv1d(1, 1, 2), "b": nn.Identity()})
                self.params = nn.ParameterList([nn.Parameter(lib.zeros(2, 3)), lib.ones(1)])
                self.pdict = nn.ParameterDict({"w": nn.Parameter(lib.zeros(4))})
                self.seq = nn.Sequential(nn.Sequential(nn.Tanh(), nn.Linear(1, 1, bias=False)))

            def extra_repr(self):
                return "line one\nline two"
        return Block()
    e, t = both(build)
    assert repr(e) == repr(t)
    assert repr(ember.nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert repr(make_net(ember)) == repr(make_net(torch))


# -- hooks ----------------------------------------------------------------------------------
def test_forward_hooks():
    for lib in LIBS:
        m = lib.nn.Linear(2, 2)
        log = []
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
        h3 = m.register_forward_pre_hook(lambda mod, args, kwargs: log.append(("kw", kwargs)),
                                         with_kwargs=True)
        h4 = m.register_forward_hook(lambda mod, args, kwargs, out: log.append("post"),
                                     with_kwargs=True, prepend=True)
        x = lib.ones(1, 2)
        out = m(x)
        ref = lib.nn.functional.linear(x * 2, m.weight, m.bias) + 1
        assert lib.allclose(out, ref)
        assert log == [("kw", {}), "post"]
        for h in (h1, h2, h3, h4):
            h.remove()
        assert lib.allclose(m(x), lib.nn.functional.linear(x, m.weight, m.bias))


def test_forward_hook_always_call():
    for lib in LIBS:
        m = lib.nn.Linear(2, 2)
        seen = []
        m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
        with pytest.raises(RuntimeError):
            m(lib.ones(1, 3))
        assert seen == [None]


def _backward_hook_run(lib, pre):
    m = lib.nn.Linear(3, 2)
    with lib.no_grad():
        m.weight.copy_(lib.arange(6.0).reshape(2, 3) / 10)
        m.bias.fill_(0.1)
    seen = {}

    def hook(mod, grad_input, grad_output):
        seen["in"] = [None if g is None else to_numpy(g).copy() for g in grad_input]
        seen["out"] = [to_numpy(g).copy() for g in grad_output]
        return (grad_input[0] * 3,)

    m.register_full_backward_hook(hook)
    if pre:
        m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
    x = lib.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 2.0]], requires_grad=True)
    m(x).pow(2).sum().backward()
    return seen, to_numpy(x.grad), to_numpy(m.weight.grad)


@pytest.mark.parametrize("pre", [False, True])
def test_full_backward_hooks(pre):
    (es, ex, ew), (ts, tx, tw) = _backward_hook_run(ember, pre), _backward_hook_run(torch, pre)
    for key in ("in", "out"):
        assert len(es[key]) == len(ts[key])
        for a, b in zip(es[key], ts[key]):
            np.testing.assert_allclose(a, b, rtol=1e-5)
    np.testing.assert_allclose(ex, tx, rtol=1e-5)
    np.testing.assert_allclose(ew, tw, rtol=1e-5)


def test_full_backward_hook_input_without_grad():
    for lib in LIBS:
        m = lib.nn.Linear(3, 2)
        seen = []
        handle = m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go)))
        m(lib.ones(2, 3)).sum().backward()
        assert len(seen) == 1 and seen[0][0] == (None,) and seen[0][1][0].shape == (2, 2)
        handle.remove()
        m(lib.ones(2, 3)).sum().backward()
        assert len(seen) == 1


def test_legacy_backward_hook_and_mixing_error():
    for lib in LIBS:
        m = lib.nn.Linear(3, 2)
        seen = []
        m.register_backward_hook(lambda mod, gi, go: seen.append(len(go)))
        m(lib.ones(2, 3, requires_grad=True)).sum().backward()
        assert seen == [1]
    same_error(lambda lib: (lambda m: (m.register_backward_hook(lambda *a: None),
                                       m.register_full_backward_hook(lambda *a: None)))(
        lib.nn.Linear(1, 1)))


def test_global_forward_hook():
    from ember.nn.modules.module import register_module_forward_hook
    seen = []
    handle = register_module_forward_hook(lambda mod, args, out: seen.append(type(mod).__name__))
    try:
        ember.nn.Sequential(ember.nn.Linear(1, 1), ember.nn.ReLU())(ember.ones(1, 1))
    finally:
        handle.remove()
    ember.nn.ReLU()(ember.ones(1))
    assert seen == ["Linear", "ReLU", "Sequential"]


# -- copies ---------------------------------------------------------------------------------
class PickleNet(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = ember.nn.Linear(3, 3)
        self.out = ember.nn.Linear(3, 2)
        self.head = ember.nn.Sequential(ember.nn.ReLU(), self.out)
        self.register_buffer("scale", ember.ones(2))

    def forward(self, x):
        return self.head(self.fc(x)) * self.scale


def test_deepcopy_and_pickle():
    m = PickleNet()
    m(ember.randn(2, 3)).sum().backward()
    c = copy.deepcopy(m)
    assert c.out is c.head[1] and c.fc.weight is not m.fc.weight
    assert isinstance(c.fc.weight, ember.nn.Parameter) and c.fc.weight.requires_grad
    np.testing.assert_array_equal(to_numpy(c.fc.weight), to_numpy(m.fc.weight))
    p = pickle.loads(pickle.dumps(m))
    assert type(p) is PickleNet and list(p.state_dict()) == list(m.state_dict())
    for k, v in p.state_dict().items():
        np.testing.assert_array_equal(to_numpy(v), to_numpy(m.state_dict()[k]))
    assert p.out is p.head[1]


# -- Parameter ------------------------------------------------------------------------------
def test_parameter():
    data = np.arange(4, dtype=np.float32)
    e, t = ember.nn.Parameter(e_tensor(data)), torch.nn.Parameter(t_tensor(data))
    assert repr(e) == repr(t) and str(e) == str(t)
    e2 = ember.nn.Parameter(e_tensor(data), requires_grad=False)
    t2 = torch.nn.Parameter(t_tensor(data), requires_grad=False)
    assert repr(e2) == repr(t2) and not e2.requires_grad
    assert repr(ember.nn.Parameter()) == repr(torch.nn.Parameter())
    src = ember.ones(3)
    p = ember.nn.Parameter(src)
    p.data.add_(1)
    assert src.sum().item() == 6                   # shares memory with its data
    x = ember.ones(2, requires_grad=True) * 2
    assert ember.nn.Parameter(x).grad_fn is None
    assert isinstance(p, ember.Tensor) and p.is_leaf
    c = copy.deepcopy(p)
    assert type(c) is ember.nn.Parameter and c.requires_grad and c.data_ptr() != p.data_ptr()
    q = pickle.loads(pickle.dumps(p))
    assert type(q) is ember.nn.Parameter and q.requires_grad and q.sum().item() == 6
    same_error(lambda lib: lib.nn.Parameter(lib.tensor([1, 2])))
    y = (p * 2).sum()
    assert type(p * 2) is ember.Tensor and y.requires_grad
