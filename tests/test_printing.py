"""ember._printing against torch's repr, character for character.

Tensors are built as a small fake object holding the attributes the printer uses, so these
tests do not depend on the rest of ember; torch is only the oracle.
"""
import importlib
import pathlib
import sys
import types
import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp


def _load():
    """ember._printing and ember._dtype; if `import ember` is broken, load both from their
    files as a stand-alone package so that the relative import of ._dtype still works."""
    try:
        return importlib.import_module("ember._printing"), importlib.import_module("ember._dtype")
    except Exception:
        pkg = types.ModuleType("_ember_printing_only")
        pkg.__path__ = [str(pathlib.Path(__file__).resolve().parents[1] / "ember")]
        sys.modules[pkg.__name__] = pkg
        return (importlib.import_module(pkg.__name__ + "._printing"),
                importlib.import_module(pkg.__name__ + "._dtype"))


printing, edtype = _load()
tensor_repr = printing.tensor_repr

DTYPES = [np.float16, np.float32, np.float64, np.complex64, np.complex128, np.int8, np.int16,
          np.int32, np.int64, np.uint8, np.bool_]


class FakeDevice:
    def __init__(self, name):
        self.type = name.split(":")[0]
        self.name = name

    def __str__(self):
        return self.name


class MulBackward0:
    pass


class FakeTensor:
    """The attributes of the printing contract, built from a NumPy array."""

    def __init__(self, data, requires_grad=False, grad_fn=None, device="cpu"):
        self._data = np.asarray(data) if not isinstance(data, np.ndarray) else data
        self.dtype = edtype.from_numpy_dtype(self._data.dtype)
        self.device = FakeDevice(device)
        self.requires_grad = requires_grad
        self.grad_fn = grad_fn
        self.is_leaf = grad_fn is None


def torch_of(a):
    return torch.from_numpy(np.array(a, order="C", copy=True))


def check(a, requires_grad=False):
    """ember's repr of array `a` (a leaf, optionally requiring grad) equals torch's."""
    expected = repr(torch_of(a).requires_grad_(requires_grad))
    assert tensor_repr(FakeTensor(a, requires_grad=requires_grad)) == expected


def options(**kw):
    torch.set_printoptions(**kw)
    printing.set_printoptions(**kw)


@pytest.fixture(autouse=True)
def _restore_options():
    yield
    options(profile="default")
    torch.set_default_dtype(torch.float32)
    edtype.set_default_dtype(edtype.float32)


def values(kind, rng, shape):
    """Arrays of varied character: random magnitudes, integral floats, specials."""
    n = int(np.prod(shape))
    if kind == "normal":
        v = rng.standard_normal(n)
    elif kind == "integral":
        v = rng.integers(-200, 200, n).astype(float)
    elif kind == "huge":
        v = rng.standard_normal(n) * 1e10
    elif kind == "tiny":
        v = rng.standard_normal(n) * 1e-6
    elif kind == "wide":
        v = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 6, n)
    else:  # "special"
        v = rng.choice([0.0, -0.0, np.nan, np.inf, -np.inf, 1.5, -2.0, 1e5], n)
    return v.reshape(shape)


def cast(v, dtype, rng):
    if np.dtype(dtype).kind == "c":
        return (v + 1j * values("wide", rng, v.shape)).astype(dtype)
    if np.dtype(dtype).kind == "b":
        return v > 0
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.nan_to_num(v * 37), max(info.min, -1e18), min(info.max, 1e18)).astype(dtype)
    with np.errstate(over="ignore"):
        return v.astype(dtype)


SHAPES = [(), (1,), (5,), (3, 4), (2, 3, 4), (2, 1, 3, 2), (30,), (7, 13)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("kind", ["normal", "integral", "huge", "tiny", "wide", "special"])
def test_values_of_every_dtype(dtype, kind):
    rng = np.random.default_rng(zlib.crc32(f"{np.dtype(dtype).name}-{kind}".encode()))
    for shape in SHAPES:
        check(cast(values(kind, rng, shape), dtype, rng))


@pytest.mark.parametrize("literal", [
    [1.0, 2.0], [0.0, 0.0], [-0.0, 1.0], [-0.0], [np.nan], [np.nan, 1.0, np.inf], [-3.0, np.nan, -np.inf],
    [1e-5, 1.0], [1e9, 1.0], [123456.0, 1.0], [0.1, 1e5], [1000.0, 1.0], [1001.0, 1.0],
    [1e8, 1.0], [1.5e8], [1e-4], [9.9e-5], [1.5, np.nan, -np.inf], [1e10, np.nan, -np.inf],
    3.5, -0.0, np.nan, 1e-10, 123456789.0, 2.0, 0.0, -np.inf,
])
def test_float_corner_cases(literal):
    for dtype in (np.float32, np.float64, np.float16):
        with np.errstate(over="ignore"):
            check(np.array(literal, dtype=dtype))


@pytest.mark.parametrize("literal", [
    [1 + 2j, complex(-0.0, 0.0), complex(0.0, -0.0), complex(np.nan, np.inf), 1e5 - 3j],
    complex(1.5, -0.0), 1j, -1j, [1.5 - 2j, 3 + 100j], [0j, 0j], [complex(np.nan, 0)],
])
def test_complex_corner_cases(literal):
    for dtype in (np.complex64, np.complex128):
        check(np.array(literal, dtype=dtype))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 4), (3, 0)])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_empty(shape, dtype):
    check(np.zeros(shape, dtype=dtype), requires_grad=np.dtype(dtype).kind in "fc")


@pytest.mark.parametrize("shape", [(1001,), (2000,), (40, 50), (10, 300), (3, 10, 100),
                                   (7, 7, 7, 7), (2, 600), (600, 2), (11, 11, 11)])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.complex64, np.bool_, np.float16],
                         ids=lambda d: np.dtype(d).name)
def test_summarized(shape, dtype):
    rng = np.random.default_rng(0)
    n = int(np.prod(shape))
    check(cast(np.arange(n, dtype=float).reshape(shape), dtype, rng))
    check(cast(values("wide", rng, shape), dtype, rng))


def test_summary_widths_use_only_shown_elements():
    a = np.ones(2001, dtype=np.float32)
    a[1000] = 123456.0  # hidden: must not widen the printed elements
    check(a)
    check(a.reshape(3, 667))


@pytest.mark.parametrize("n", range(1, 40))
def test_line_wrapping_and_suffix_placement(n):
    """Rows wrap at linewidth and the dtype / requires_grad suffixes move to a new line exactly
    where torch moves them."""
    for scale in (1.0, 1.5, 1e6, 1e-7):
        a = np.arange(n, dtype=np.float64) * scale
        check(a)
        check(a, requires_grad=True)
        check(a.reshape(1, n), requires_grad=True)
        check(a.astype(np.int32))


def test_non_contiguous():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 5, 6)).astype(np.float32)
    for view in (a.T, a[::2], a[:, ::-1], a.transpose(1, 0, 2), a[..., 3], a[1, :, ::3]):
        check(view)
    big = rng.standard_normal((50, 40))
    check(big.T)
    check(big[::-1, ::2])


def test_requires_grad_and_grad_fn():
    a = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    t = torch_of(a).requires_grad_()
    assert tensor_repr(FakeTensor(a, requires_grad=True)) == repr(t)
    assert tensor_repr(FakeTensor(a, requires_grad=True, grad_fn=MulBackward0())) == repr(t * 1)
    d = a.astype(np.float64)
    assert tensor_repr(FakeTensor(d, requires_grad=True, grad_fn=MulBackward0())) == repr(
        torch_of(d).requires_grad_() * 1)
    e = np.zeros((0, 3), np.float32)
    assert tensor_repr(FakeTensor(e, requires_grad=True, grad_fn=MulBackward0())) == repr(
        torch_of(e).requires_grad_() * 1)


@pytest.mark.parametrize("data, kwargs, expected", [
    (np.array([1.0, 2.0]), dict(requires_grad=True),
     "tensor([1., 2.], device='cuda:0', dtype=torch.float64, requires_grad=True)"),
    (np.zeros((0, 3), np.int64), {}, "tensor([], device='cuda:0', size=(0, 3), dtype=torch.int64)"),
    (np.array(3, np.int64), {}, "tensor(3, device='cuda:0')"),
])
def test_device_suffix(data, kwargs, expected):
    """A non-CPU device is the first suffix (torch CPU builds cannot make CUDA tensors, so the
    expected strings are written out)."""
    assert tensor_repr(FakeTensor(data, device="cuda:0", **kwargs)) == expected


def test_tensor_contents():
    a = np.array([1.0, 2.0], np.float32)
    for t, fake in ((torch_of(a), FakeTensor(a)),
                    (torch_of(a).requires_grad_(), FakeTensor(a, requires_grad=True)),
                    (torch.zeros(0, 3), FakeTensor(np.zeros((0, 3), np.float32)))):
        assert tensor_repr(fake, tensor_contents="ABC") == t.__repr__(tensor_contents="ABC")


def test_default_dtype_float64():
    torch.set_default_dtype(torch.float64)
    edtype.set_default_dtype(edtype.float64)
    for dtype in DTYPES:
        check(np.ones(3, dtype))
        check(np.ones((0, 2), dtype))


OPTION_SETS = [
    dict(precision=2), dict(precision=0), dict(precision=8), dict(threshold=5),
    dict(threshold=5, edgeitems=1), dict(threshold=5, edgeitems=0), dict(edgeitems=0),
    dict(linewidth=40), dict(linewidth=120), dict(linewidth=5), dict(sci_mode=True),
    dict(sci_mode=False), dict(profile="short"), dict(profile="full"),
    dict(profile="short", precision=5), dict(threshold=20, edgeitems=2, linewidth=50),
]


@pytest.mark.parametrize("opts", OPTION_SETS, ids=str)
def test_print_options(opts):
    options(**opts)
    rng = np.random.default_rng(2)
    for shape in [(), (4,), (3, 5), (2, 3, 4), (30,), (12, 12), (1200,), (3, 40, 20)]:
        for kind in ("normal", "integral", "huge", "tiny", "special"):
            v = values(kind, rng, shape)
            check(v.astype(np.float32))
            check(cast(v, np.int64, rng))
            check(cast(v, np.complex128, rng), requires_grad=True)
        check(np.zeros(shape, np.bool_))


def test_set_and_get_printoptions_match_torch():
    assert printing.get_printoptions() == torch._tensor_str.get_printoptions()
    for opts in OPTION_SETS + [dict(precision=3), dict(), dict(profile="default")]:
        options(**opts)
        assert printing.get_printoptions() == torch._tensor_str.get_printoptions()


def test_format_scalar():
    for value, np_dtype in ((2.5, np.float32), (2.0, np.float64), (3, np.int64), (True, np.bool_),
                            (1 + 2j, np.complex64), (0.1, np.float16)):
        t, fake = torch.tensor(np.array(value, np_dtype)), FakeTensor(np.array(value, np_dtype))
        for spec in ("", ">10", "^8"):
            assert printing.format_scalar(fake, spec) == format(t, spec)
        if np_dtype in (np.float32, np.float64, np.float16):
            for spec in (".2f", "e", "g", ".3%"):
                assert printing.format_scalar(fake, spec) == format(t, spec)
    vec = FakeTensor(np.array([1.0]))
    with pytest.raises(TypeError):
        printing.format_scalar(vec, ".2f")


float_arrays = hnp.arrays(
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6),
    elements=dict(allow_subnormal=True),
)


@settings(max_examples=300, deadline=None)
@given(float_arrays)
def test_hypothesis_floats(a):
    check(a)


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(dtype=st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint8,
                                          np.bool_, np.complex64, np.complex128]),
                  shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6)),
       st.booleans())
def test_hypothesis_other_dtypes(a, requires_grad):
    check(a, requires_grad=requires_grad and a.dtype.kind in "fc")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(0, 3), st.integers(20, 150), st.integers(0, 8),
       st.sampled_from([None, True, False]), st.integers(1, 4))
def test_hypothesis_options(precision, edgeitems, linewidth, threshold, sci_mode, ndim):
    options(precision=precision, edgeitems=edgeitems, linewidth=linewidth,
            threshold=threshold, sci_mode=sci_mode)
    rng = np.random.default_rng(precision * 1000 + linewidth)
    shape = tuple(rng.integers(1, 6, ndim))
    check(values("wide", rng, shape))
    check(values("special", rng, shape).astype(np.float32), requires_grad=True)
    check(cast(values("integral", rng, shape), np.int16, rng))
