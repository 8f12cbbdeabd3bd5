"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict against torch: indexing,
slicing, mutation, registration names, repr and errors."""
from collections import OrderedDict

import pytest
import torch

import ember


def both(fn):
    return fn(ember), fn(torch)


def same(fn):
    """fn(lib) gives equal results (compared through repr) for both libraries."""
    e, t = both(fn)
    assert repr(e) == repr(t)
    return e, t


def same_error(fn):
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(Exception) as ee:
        fn(ember)
    assert ee.type is te.type and str(ee.value).replace("ember.", "torch.") == str(te.value)


def seq(lib, n=4):
    return lib.nn.Sequential(*[lib.nn.Linear(i + 1, i + 2) for i in range(n)])


def names(m):
    return [n for n, _ in m.named_parameters()]


def test_sequential_indexing_and_slicing():
    same(lambda lib: seq(lib)[1])
    same(lambda lib: seq(lib)[-1])
    same(lambda lib: seq(lib)[1:3])
    same(lambda lib: seq(lib)[::-2])
    same(lambda lib: type(seq(lib)[1:]).__name__)
    same(lambda lib: len(seq(lib)))
    same(lambda lib: [type(m).__name__ for m in seq(lib)])
    same(lambda lib: lib.nn.Sequential(OrderedDict(a=lib.nn.ReLU(), b=lib.nn.Tanh()))[1:])
    same_error(lambda lib: seq(lib)[4])
    same_error(lambda lib: seq(lib)[-5])


def test_sequential_mutation():
    def ops(lib):
        s = seq(lib)
        s.append(lib.nn.ReLU())
        s.insert(0, lib.nn.Tanh())
        s.insert(-1, lib.nn.Sigmoid())
        s.extend([lib.nn.Identity()])
        s[2] = lib.nn.Linear(2, 3, bias=False)
        del s[1]
        del s[-2:]
        s.pop(0)
        return s, names(s)
    same(ops)
    same(lambda lib: seq(lib, 2) + seq(lib, 1))
    same(lambda lib: seq(lib, 2) * 2)
    same(lambda lib: 2 * seq(lib, 1))

    def inplace(lib):
        s = seq(lib, 2)
        s += seq(lib, 1)
        s *= 2
        return s
    same(inplace)
    same_error(lambda lib: seq(lib) + lib.nn.ReLU())
    same_error(lambda lib: seq(lib) * 0)
    same_error(lambda lib: seq(lib) * 1.5)
    same_error(lambda lib: seq(lib).insert(9, lib.nn.ReLU()))


def test_sequential_forward_and_dir():
    e, t = both(lambda lib: lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU()))
    assert "0" not in dir(e) and "append" in dir(e)
    e.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy())
                       for k, v in t.state_dict().items()})
    x = torch.randn(3, 2)
    assert torch.allclose(torch.from_numpy(e(ember.from_numpy(x.numpy())).detach().numpy()),
                          t(x))


def test_module_list():
    def ops(lib):
        ml = lib.nn.ModuleList([lib.nn.Linear(1, 1), lib.nn.ReLU()])
        ml.append(lib.nn.Linear(1, 2))
        ml.extend([lib.nn.Tanh(), lib.nn.Tanh()])
        ml.insert(1, lib.nn.Identity())
        ml += [lib.nn.ReLU()]
        ml[0] = lib.nn.Linear(2, 2)
        del ml[2]
        popped = ml.pop(-1)
        return ml, ml[1:3], ml[-1], len(ml), names(ml), popped, ml + lib.nn.ModuleList([popped])
    same(ops)
    same(lambda lib: lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(3)]
                                       + [lib.nn.ReLU(), lib.nn.ReLU(), lib.nn.Linear(2, 2)]))
    same(lambda lib: lib.nn.ModuleList())
    same_error(lambda lib: lib.nn.ModuleList()[0])
    same_error(lambda lib: lib.nn.ModuleList([lib.nn.ReLU()])[-2])
    same_error(lambda lib: lib.nn.ModuleList().extend(lib.nn.ReLU()))
    same_error(lambda lib: lib.nn.ModuleList([lib.nn.ReLU()])(1))


def test_module_dict():
    def ops(lib):
        md = lib.nn.ModuleDict({"b": lib.nn.Linear(1, 1), "a": lib.nn.ReLU()})
        md["c"] = lib.nn.Linear(2, 2)
        md.update([("d", lib.nn.Tanh())])
        md.update(OrderedDict(e=lib.nn.Identity()))
        del md["a"]
        popped = md.pop("d")
        return md, list(md.keys()), list(md), "c" in md, len(md), names(md), popped
    same(ops)
    same_error(lambda lib: lib.nn.ModuleDict().update(3))
    same_error(lambda lib: lib.nn.ModuleDict().update([("a", lib.nn.ReLU(), 1)]))
    same_error(lambda lib: lib.nn.ModuleDict().update([3]))
    same_error(lambda lib: lib.nn.ModuleDict()["x"])


def test_parameter_list():
    def ops(lib):
        pl = lib.nn.ParameterList([lib.nn.Parameter(lib.zeros(2, 3)), lib.ones(4)])
        pl.append(lib.zeros(1, dtype=lib.float64))
        pl.extend([lib.nn.Parameter(lib.zeros(2))])
        pl[0] = lib.ones(2, 2)
        return pl, len(pl), names(pl), [type(p).__name__ for p in pl], pl[1:3], \
            isinstance(pl[-1], lib.nn.Parameter)
    same(ops)
    same_error(lambda lib: lib.nn.ParameterList().extend(lib.ones(2)))
    same_error(lambda lib: lib.nn.ParameterList()(1))
    same_error(lambda lib: lib.nn.ParameterList([lib.ones(1)])[3])


def test_parameter_dict():
    def ops(lib):
        pd = lib.nn.ParameterDict({"b": lib.nn.Parameter(lib.zeros(2)), "a": lib.ones(3)})
        pd["c"] = lib.zeros(1, 2)
        pd.update([("d", lib.ones(1))])
        pd.setdefault("e", lib.zeros(3))
        del pd["b"]
        popped = pd.pop("d")
        key, _ = pd.popitem()
        return pd, list(pd.keys()), names(pd), key, popped, "a" in pd, pd.get("zz"), len(pd)
    same(ops)
    same(lambda lib: lib.nn.ParameterDict({"x": lib.ones(1)}) | lib.nn.ParameterDict(
        {"y": lib.ones(2)}))
    same_error(lambda lib: lib.nn.ParameterDict()[1])
    same_error(lambda lib: lib.nn.ParameterDict().update(1))
    same_error(lambda lib: lib.nn.ParameterDict()(1))


def test_containers_in_a_model_state_dict():
    def build(lib):
        nn = lib.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = nn.ModuleList([nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
                                             for _ in range(2)])
                self.heads = nn.ModuleDict({"x": nn.Linear(2, 1)})
                self.extra = nn.ParameterList([nn.Parameter(lib.zeros(3))])
        return Net()
    e, t = both(build)
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
