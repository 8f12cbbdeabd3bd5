"""Tensor conversions and Python protocols against torch: to/type/float/..., numpy, tolist,
item, __array__, scalars, __bool__/__len__/__iter__/__hash__/__format__, properties, errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import ember
from _compare import assert_same, raises_like

CONVERSIONS = ["float", "double", "long", "int", "bool", "half", "short", "char", "byte", "cpu"]


@given(a=hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
                    elements=st.floats(-100, 100, width=32)))
@settings(max_examples=20, deadline=None)
def test_conversion_methods(a):
    e, t = ember.tensor(a), torch.tensor(a)
    for name in CONVERSIONS:
        assert_same(getattr(e, name)(), getattr(t, name)(), rtol=1e-3)
    assert e.tolist() == t.tolist()
    assert e.numpy().dtype == t.numpy().dtype


def test_to_variants():
    def run(m):
        x = m.ones(2, 3)
        return [x.to(m.float64), x.to("cpu"), x.to(m.ones(1, dtype=m.int32)), x.to("cpu", m.int64),
                x.to(device="cpu", dtype=m.float16), x.to(m.device("cpu"), non_blocking=True),
                x.to(dtype=m.int8), x.type(m.float64), x.type_as(m.ones(1, dtype=m.int16))]
    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t)
    for lib in (ember, torch):
        x = lib.ones(2)
        assert x.to(lib.float32) is x and x.to("cpu") is x and x.float() is x and x.cpu() is x
        assert x.to(x) is x and x.to(lib.float32, copy=True) is not x
        c = x.to(lib.float32, copy=True)
        c[0] = 5
        assert x[0].item() == 1
    raises_like(lambda m: m.ones(2).to("foo"))


def test_to_keeps_autograd():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        y = x.to(lib.float64)
        assert type(y.grad_fn).__name__ == "ToCopyBackward0" and y.dtype is lib.float64
        (y * y).sum().backward()
        assert x.grad.dtype is lib.float32 and x.grad.tolist() == [2.0, 2.0]


def test_type_strings():
    for dt, name in [("float32", "FloatTensor"), ("float64", "DoubleTensor"),
                     ("int64", "LongTensor"), ("int32", "IntTensor"), ("uint8", "ByteTensor"),
                     ("bool", "BoolTensor"), ("float16", "HalfTensor"), ("int8", "CharTensor"), ("int16", "ShortTensor")]:
        e = ember.zeros(2, dtype=getattr(ember, dt))
        assert e.type() == torch.zeros(2, dtype=getattr(torch, dt)).type() == "torch." + name
        assert ember.typename(e) == torch.typename(torch.zeros(2, dtype=getattr(torch, dt)))


def test_numpy_shares_memory_and_refuses_grad():
    for lib in (ember, torch):
        t = lib.zeros(3)
        n = t.numpy()
        n[0] = 5
        t[1] = 7
        assert t.tolist() == [5, 7, 0] and n.tolist() == [5, 7, 0]
        assert np.asarray(t).tolist() == [5, 7, 0]
    raises_like(lambda m: m.ones(2, requires_grad=True).numpy(),
                match="Can't call numpy() on Tensor that requires grad. Use "
                      "tensor.detach().numpy() instead.")
    assert ember.ones(2, requires_grad=True).detach().numpy().tolist() == [1, 1]


def test_array_protocol():
    for lib in (ember, torch):
        assert np.asarray(lib.tensor([1., 2])).dtype == np.float32
        assert np.asarray(lib.tensor([1, 2]), dtype=np.float32).dtype == np.float32
        assert np.array(lib.tensor(3.)).shape == ()
        assert (np.ones(2) + np.asarray(lib.ones(2))).tolist() == [2, 2]


@pytest.mark.parametrize("data", [2.5, [3], [[True]], 7, 1.5e-8, -0.0])
def test_item_and_scalars(data):
    e, t = ember.tensor(data), torch.tensor(data)
    assert e.item() == t.item() and type(e.item()) is type(t.item())
    assert float(e) == float(t) and int(e) == int(t) and bool(e) == bool(t)
    assert complex(e) == complex(t)
    assert type(ember.tensor(1., dtype=ember.float16).item()) is float


def test_item_errors():
    raises_like(lambda m: m.tensor([1, 2]).item(),
                match="a Tensor with 2 elements cannot be converted to Scalar")
    raises_like(lambda m: m.tensor([]).item(),
                match="a Tensor with 0 elements cannot be converted to Scalar")
    raises_like(lambda m: float(m.tensor([1., 2.])),
                match="only one element tensors can be converted to Python scalars")
    raises_like(lambda m: int(m.tensor([1, 2])),
                match="only one element tensors can be converted to Python scalars")


def test_index_protocol():
    for lib in (ember, torch):
        assert [10, 20, 30][lib.tensor(1)] == 20
        assert list(range(5))[lib.tensor(1):lib.tensor(3)] == [1, 2]
        assert [1, 2][lib.tensor([1])] == 2 and lib.tensor(2).__index__() == 2
    raises_like(lambda m: [1, 2][m.tensor(1.)],
                match="only integer tensors of a single element can be converted to an index")


def test_bool_ambiguity():
    raises_like(lambda m: bool(m.tensor([1., 2.])),
                match="Boolean value of Tensor with more than one value is ambiguous")
    raises_like(lambda m: bool(m.tensor([])),
                match="Boolean value of Tensor with no values is ambiguous")
    for data in [[0.], 3, [[True]], 0]:
        assert bool(ember.tensor(data)) == bool(torch.tensor(data))
    e = ember.tensor([1., 2.])
    with pytest.raises(RuntimeError, match="ambiguous"):
        if e > 0:
            pass


def test_len_and_iter():
    for lib in (ember, torch):
        assert len(lib.zeros(3, 2)) == 3 and len(lib.zeros(0)) == 0
        rows = list(lib.tensor([[1, 2], [3, 4]]))
        assert [r.tolist() for r in rows] == [[1, 2], [3, 4]]
        assert [type(v).__name__ for v in lib.tensor([1, 2])] == ["Tensor", "Tensor"]
        assert [v.shape for v in lib.tensor([1, 2])] == [(), ()]
        a, b = lib.tensor([5, 6])
        assert (a.item(), b.item()) == (5, 6)
    raises_like(lambda m: len(m.tensor(3.)), match="len() of a 0-d tensor")
    raises_like(lambda m: iter(m.tensor(3.)), match="iteration over a 0-d tensor")


def test_iteration_keeps_grad():
    for lib in (ember, torch):
        x = lib.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        sum(r.sum() * i for i, r in enumerate(x)).backward()
        assert x.grad.tolist() == [[0, 0], [1, 1]]


def test_hash_by_identity():
    a, b = ember.tensor(1.), ember.tensor(1.)
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b" and len({a, b}) == 2 and hash(a) != hash(b)
    assert a in {a} and ember.tensor([1.]) in [ember.tensor([1.])]
    w = ember.ones(2, requires_grad=True)
    assert {w: 1}[w] == 1


@pytest.mark.parametrize("value,spec", [(3.14159, ".2f"), (3, ""), (2.5, ""), (True, ""),
                                        (3, ">5"), (7, "d"), (1234.5, "e"), (7, "x"),
                                        (2.5, ".1f")])
def test_format_of_0dim(value, spec):
    assert format(ember.tensor(value), spec) == format(torch.tensor(value), spec)
    assert f"{ember.tensor(value)!r}" == f"{torch.tensor(value)!r}"


def test_format_errors_and_plain_format():
    raises_like(lambda m: format(m.tensor([3.14159]), ".2f"),
                match="unsupported format string passed to Tensor.__format__")
    assert f"{ember.tensor([1.5, 2.5])}" == f"{torch.tensor([1.5, 2.5])}"
    assert format(ember.tensor(2.5, requires_grad=True), ".1f") == "2.5"


def test_properties():
    def run(m):
        x = m.zeros(2, 3, 4)
        t = x.transpose(0, 2)
        return (x.dim(), x.ndim, x.ndimension(), x.numel(), x.nelement(), x.element_size(),
                x.itemsize, x.nbytes, x.stride(), t.stride(), t.stride(1), x.is_contiguous(),
                t.is_contiguous(), x.storage_offset(), x[1].storage_offset(), x[:, 1].stride(),
                x.is_floating_point(), x.is_complex(), x.is_leaf, x.requires_grad, x.grad_fn,
                x.is_cuda, x.is_sparse, str(x.layout), x.size(-1), tuple(x.size()),
                x.get_device(), m.is_tensor(x), m.is_tensor(3), m.numel(x),
                m.is_floating_point(x), m.is_complex(x))
    assert run(ember) == run(torch)
    raises_like(lambda m: m.zeros(2, 3).size(3), match="Dimension out of range")
    raises_like(lambda m: m.zeros(2, 3).stride(-3), match="Dimension out of range")


def test_data_attribute():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        d = x.data
        assert not d.requires_grad and d.is_leaf
        d.mul_(3)                         # shares memory, not the version counter
        assert x.tolist() == [3, 3] and x._version == 0
        x.data = lib.zeros(3)
        assert x.shape == (3,) and x.requires_grad


@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3), seed=st.integers(0, 100))
@settings(max_examples=15, deadline=None)
def test_clone_contiguous_and_copy(shape, seed):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    e, t = ember.tensor(a), torch.tensor(a)
    ec, tc = e.clone(), t.clone()
    ec.add_(1)
    assert_same(e, t)
    assert_same(ec, tc + 1)
    assert_same(e.t().contiguous() if e.dim() == 2 else e.contiguous(),
                t.t().contiguous() if t.dim() == 2 else t.contiguous())
    assert e.contiguous() is e
    assert_same(ember.empty(shape).copy_(e), torch.empty(shape).copy_(t))


def test_resize_():
    for lib in (ember, torch):
        a = lib.arange(6.)
        v = a.view(2, 3)
        a.resize_(3, 2)
        assert a.shape == (3, 2) and a._version == 1 and v.tolist() == [[0, 1, 2], [3, 4, 5]]
        a.resize_(2)
        assert a.tolist() == [0, 1]
        a.resize_(6)
        assert a.tolist() == [0, 1, 2, 3, 4, 5] and a._version == 3
        b = lib.zeros(2, 3)
        b.resize_as_(lib.zeros(3, 2))
        assert b.shape == (3, 2)
    raises_like(lambda m: m.ones(2, requires_grad=True).resize_(3),
                match="cannot resize variables that require grad")


def test_deepcopy_and_pickle():
    import copy
    import pickle
    x = ember.tensor([1., 2.], requires_grad=True)
    (x * 2).sum().backward()
    y = copy.deepcopy(x)
    assert y.tolist() == [1, 2] and y.requires_grad and y.grad.tolist() == [2, 2]
    y.detach().add_(1)
    assert x.tolist() == [1, 2]
    z = pickle.loads(pickle.dumps(ember.tensor([[1, 2]])))
    assert z.tolist() == [[1, 2]] and z.dtype is ember.int64
    raises_like(lambda m: copy.deepcopy(m.ones(2, requires_grad=True) * 2),
                match="Only Tensors created explicitly by the user")
