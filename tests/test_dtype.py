"""dtypes, legacy tensor types, default dtype, type promotion, Size, device: against torch."""
import itertools

import pytest
import torch

import ember
from _compare import dtype_name, raises_like

NAMES = ["float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64",
         "uint8", "bool", "complex64", "complex128"]
NUMPY_NAMES = [n for n in NAMES if n != "bfloat16"]
ALIASES = ["half", "float", "double", "short", "int", "long", "cfloat", "cdouble"]
LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
          "CharTensor", "ByteTensor", "BoolTensor"]


@pytest.fixture
def restore_default_dtype():
    yield
    ember.set_default_dtype(ember.float32)
    torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("name", NAMES + ALIASES)
def test_dtype_attributes(name):
    e, t = getattr(ember, name), getattr(torch, name)
    assert repr(e) == repr(t) and str(e) == str(t)
    assert (e.is_floating_point, e.is_complex, e.is_signed, e.itemsize) == \
        (t.is_floating_point, t.is_complex, t.is_signed, t.itemsize)


def test_dtype_aliases_are_the_same_objects():
    assert ember.float is ember.float32 and ember.double is ember.float64
    assert ember.long is ember.int64 and ember.int is ember.int32 and ember.half is ember.float16


@pytest.mark.parametrize("name", NUMPY_NAMES)
def test_tensor_of_each_dtype(name):
    e = ember.tensor([0, 1, 2], dtype=getattr(ember, name))
    t = torch.tensor([0, 1, 2], dtype=getattr(torch, name))
    assert dtype_name(e.dtype) == dtype_name(t.dtype)
    assert e.element_size() == t.element_size()
    assert e.is_floating_point() == t.is_floating_point()
    assert e.is_complex() == t.is_complex()
    assert e.tolist() == t.tolist()


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1.0], dtype=m.bfloat16),
    lambda m: m.zeros(2, dtype=m.bfloat16),
    lambda m: m.ones(2).bfloat16(),
    lambda m: m.ones(2).to(m.bfloat16),
])
def test_bfloat16_is_a_clear_type_error(make):
    make(torch)                                     # torch has it ...
    with pytest.raises(TypeError, match="bfloat16"):  # ... NumPy does not
        make(ember)


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_constructors(name):
    E, T = getattr(ember, name), getattr(torch, name)
    assert repr(E) == repr(T)
    for args in [(2, 3), ([1, 0, 1],), ()]:
        e, t = E(*args), T(*args)
        assert e.shape == t.shape and dtype_name(e.dtype) == dtype_name(t.dtype)
        if args and isinstance(args[0], list):
            assert e.tolist() == t.tolist()
        assert isinstance(e, E) and isinstance(e, ember.Tensor)
    other = "DoubleTensor" if name != "DoubleTensor" else "FloatTensor"
    assert not isinstance(E(2), getattr(ember, other))
    assert E(2).type() == T(2).type() == "torch." + name


@pytest.mark.parametrize("src,dst", itertools.product(["float32", "int64", "bool"], LEGACY))
def test_type_conversions(src, dst):
    def run(m):
        x = m.tensor([0, 1, 3], dtype=getattr(m, src))
        a = x.type(getattr(m, dst))
        b = x.type("torch." + dst)
        return a.type(), b.type(), a.tolist(), x.type(getattr(m, "float64")).type()
    assert run(ember) == run(torch)


def test_tensor_constructor_legacy():
    for args in [(2, 3), ([1, 2],), (ember.Size([2]),)]:
        targs = tuple(torch.Size(a) if isinstance(a, ember.Size) else a for a in args)
        e, t = ember.Tensor(*args), torch.Tensor(*targs)
        assert e.shape == t.shape and dtype_name(e.dtype) == dtype_name(t.dtype)
    raises_like(lambda m: m.Tensor(2.5))
    raises_like(lambda m: m.Tensor("a"))


def test_default_dtype(restore_default_dtype):
    assert ember.get_default_dtype() is ember.float32
    for d in ["float64", "float16", "float32"]:
        ember.set_default_dtype(getattr(ember, d))
        torch.set_default_dtype(getattr(torch, d))
        for make in [lambda m: m.tensor([1.5]), lambda m: m.arange(0., 3), lambda m: m.randn(2),
                     lambda m: m.zeros(2), lambda m: m.tensor([1]), lambda m: m.tensor([1]) * 1.5,
                     lambda m: m.tensor([1, 2]) / 2, lambda m: m.Tensor(2),
                     lambda m: m.linspace(0, 1, 3)]:
            assert dtype_name(make(ember).dtype) == dtype_name(make(torch).dtype)
        if d != "float16":           # torch's complex32 (ComplexHalf) has no NumPy twin
            assert dtype_name(ember.tensor(1j).dtype) == dtype_name(torch.tensor(1j).dtype)
        assert dtype_name(ember.get_default_dtype()) == d


def test_set_default_dtype_rejects_non_float():
    raises_like(lambda m: m.set_default_dtype(m.int32),
                match="only floating-point types are supported as the default type")


@pytest.mark.parametrize("a,b", itertools.product(NAMES, NAMES))
def test_promote_types_all_pairs(a, b):
    e = ember.promote_types(getattr(ember, a), getattr(ember, b))
    t = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert dtype_name(e) == dtype_name(t)


def _operand(m, name, kind):
    """kind: 'dim' (a 1-d tensor), 'zero' (a 0-dim tensor) or a Python scalar's type name."""
    scalars = {"bool": True, "int": 3, "float": 1.5, "complex": 1j}
    if kind in scalars:
        return scalars[kind]
    return m.ones([2] if kind == "dim" else [], dtype=getattr(m, name))


# NumPy has no complex32: torch's float16-with-complex results are complex32, ember's complex64.
def _complex_half(a, b):
    return "float16" in (a, b) and any(n in ("complex64", "complex128", "complex") for n in (a, b))


@pytest.mark.parametrize("a", NUMPY_NAMES)
def test_result_type_all_pairs(a):
    for b, (ka, kb) in itertools.product(NUMPY_NAMES, [("dim", "zero"), ("zero", "dim"),
                                                       ("zero", "zero"), ("dim", "dim")]):
        if _complex_half(a, b) and (ka, kb) != ("dim", "dim") and "zero" in (ka, kb):
            continue
        e = ember.result_type(_operand(ember, a, ka), _operand(ember, b, kb))
        t = torch.result_type(_operand(torch, a, ka), _operand(torch, b, kb))
        assert dtype_name(e) == dtype_name(t), (a, ka, b, kb)
    for kind in ["bool", "int", "float", "complex"]:
        if _complex_half(a, kind):
            continue
        for ka in ["dim", "zero"]:
            e = ember.result_type(_operand(ember, a, ka), _operand(ember, None, kind))
            t = torch.result_type(_operand(torch, a, ka), _operand(torch, None, kind))
            assert dtype_name(e) == dtype_name(t), (a, ka, kind)
            e = (_operand(ember, a, ka) + _operand(ember, None, kind)).dtype if a != "bool" \
                or kind != "bool" else e
            t = (_operand(torch, a, ka) + _operand(torch, None, kind)).dtype if a != "bool" \
                or kind != "bool" else t
            assert dtype_name(e) == dtype_name(t), (a, ka, kind)


@pytest.mark.parametrize("a,b", itertools.product(NUMPY_NAMES, NUMPY_NAMES))
def test_can_cast(a, b):
    assert ember.can_cast(getattr(ember, a), getattr(ember, b)) == \
        torch.can_cast(getattr(torch, a), getattr(torch, b))


# -- Size ----------------------------------------------------------------------------------
def test_size():
    e, t = ember.Size([2, 3, 4]), torch.Size([2, 3, 4])
    assert repr(e) == repr(t) and str(e) == str(t)
    assert repr(ember.Size([])) == repr(torch.Size([]))
    assert isinstance(e, tuple) and e == (2, 3, 4) and e == t
    for res_e, res_t in [(e[1:], t[1:]), (e + (5,), t + (5,)), ((1,) + e, (1,) + t),
                         (e * 2, t * 2), (e[::-1], t[::-1])]:
        assert type(res_e) is ember.Size and repr(res_e) == repr(res_t)
    assert e[0] == t[0] and type(e[0]) is int and e[-1] == 4
    assert e.numel() == t.numel() == 24 and ember.Size([]).numel() == 1
    assert ember.zeros(2, 3).shape == ember.zeros(2, 3).size() == ember.Size([2, 3])
    assert type(ember.zeros(2, 3).shape) is ember.Size
    assert ember.zeros(2, 3).size(1) == 3 and ember.zeros(2, 3).size(-2) == 2
    assert repr(ember.zeros(2, 3).shape) == repr(torch.zeros(2, 3).shape)
    assert hash(e) == hash((2, 3, 4))
    raises_like(lambda m: m.zeros(2, 3).size(2))


# -- device --------------------------------------------------------------------------------
DEVICES = [("cpu",), ("cuda:0",), ("cuda", 1), ("cuda",), ("cpu", 0)]


@pytest.mark.parametrize("args", DEVICES)
def test_device(args):
    e, t = ember.device(*args), torch.device(*args)
    assert str(e) == str(t) and repr(e) == repr(t)
    assert (e.type, e.index) == (t.type, t.index)
    assert ember.device(e) == e and hash(ember.device(*args)) == hash(e)


def test_device_equality():
    for a, b in itertools.product(DEVICES, DEVICES):
        assert (ember.device(*a) == ember.device(*b)) == (torch.device(*a) == torch.device(*b))
    assert (ember.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")


@pytest.mark.parametrize("args", [("foo",), ("cuda:x",), ("cuda:-1",), ("cuda", -1), (1,)])
def test_bad_device(args):
    raises_like(lambda m: m.device(*args))


def test_device_idiom_and_tensor_device():
    for m in (ember, torch):
        dev = m.device("cuda:0" if m.cuda.is_available() else "cpu")
        x = m.zeros(2, device=dev)
        assert x.device == dev and str(x.device) == "cpu" and x.is_cuda is False
        assert x.get_device() == -1 and x.is_cpu
    assert ember.cuda.device_count() == torch.cuda.device_count() == 0


def test_cuda_queries_without_gpu():
    for name in ["current_device", "synchronize", "get_device_name"]:
        raises_like(lambda m: getattr(m.cuda, name)(), match="Torch not compiled with CUDA")
    for m in (ember, torch):
        assert m.cuda.memory_allocated() == m.cuda.max_memory_allocated() == 0
        assert m.cuda.memory_reserved() == 0
        m.cuda.manual_seed(0)
        m.cuda.manual_seed_all(0)
        m.cuda.empty_cache()


def test_version():
    v = ember.__version__
    assert isinstance(v, str) and v.count(".") >= 2
    assert all(p.isdigit() for p in v.split("+")[0].split("."))
