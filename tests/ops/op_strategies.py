"""Inputs of the op harness: `Arr` (a NumPy array plus the layout its tensor gets), `Sample`
(the arguments of one call) and the hypothesis strategies that draw them.

Values come from a NumPy generator seeded by hypothesis, so that float inputs have no ties
(gradients of max/sort/abs are then defined); hypothesis explores shapes (0-dim, empty dims,
broadcasting), dtypes, layouts (transposed, sliced) and arguments. Ties, zeros, nan and inf are
edge cases listed beside each op."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

FLOATS = ("float32", "float64")
INTS = ("int64", "int32", "uint8")
ALL = FLOATS + INTS + ("bool",)
NUMERIC = FLOATS + INTS
ALL_HALF = ALL + ("float16",)


class Arr:
    """A tensor input: `array` seen through `layout` ('contiguous', 'transposed': the leaf is
    stored transposed and the input is its transpose, 'sliced': the input is every other
    element of the leaf's last dim). `grad=False` keeps a float input out of differentiation."""

    def __init__(self, array, layout="contiguous", grad=True):
        self.array = np.asarray(array)
        self.layout = layout
        self.grad = grad

    def leaf_array(self):
        a = self.array
        if self.layout == "transposed":
            return np.ascontiguousarray(a.swapaxes(-1, -2))
        if self.layout == "sliced":
            base = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
            base[..., ::2] = a
            return base
        return a.copy()

    def view(self, leaf):
        """The input tensor seen through the layout of this Arr (a view of `leaf`)."""
        if self.layout == "transposed":
            return leaf.transpose(-1, -2)
        if self.layout == "sliced":
            return leaf[..., ::2]
        return leaf

    @property
    def differentiable(self):
        return self.grad and self.array.dtype.kind == "f"

    def __repr__(self):
        extra = "" if self.layout == "contiguous" else f", layout={self.layout!r}"
        return f"Arr({self.array!r}{extra})"


class DType:
    """A dtype argument, named once for both libraries (`DType("float64")`)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"DType({self.name!r})"


class Sample:
    """The positional and keyword arguments of one call; Arr anywhere inside (also in lists)
    becomes a tensor of the library under test."""

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs

    def arrs(self):
        found = []

        def walk(x):
            if isinstance(x, Arr):
                found.append(x)
            elif isinstance(x, (list, tuple)):
                for y in x:
                    walk(y)
            elif isinstance(x, dict):
                for y in x.values():
                    walk(y)
        walk((self.args, self.kwargs))
        return found

    def __repr__(self):
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"Sample({', '.join(parts)})"


# -- values -----------------------------------------------------------------------------------
def values(rng, dtype, shape, lo=-3.0, hi=3.0, away=None):
    """Random values of dtype: floats uniform in [lo, hi] (magnitude at least `away` when
    given), ints in a small range, bools."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        if away is not None:
            mag = rng.uniform(away, hi, shape)
            return (mag * rng.choice([-1.0, 1.0], shape)).astype(dtype)
        return rng.uniform(lo, hi, shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.uniform(lo, hi, shape) + 1j * rng.uniform(lo, hi, shape)).astype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    ilo = 0 if dtype.kind == "u" else int(np.floor(max(lo, -6)))
    ihi = int(np.ceil(min(hi, 6)))
    return rng.integers(ilo, ihi + 1, shape).astype(dtype)


def layouts_for(shape):
    out = ["contiguous"]
    if len(shape) >= 1:
        out.append("sliced")
    if len(shape) >= 2:
        out.append("transposed")
    return out


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


@st.composite
def arrays(draw, dtypes=FLOATS, shape=None, lo=-3.0, hi=3.0, layout=True, away=None, salt=0,
           **shape_kw):
    """An Arr of one of `dtypes` with `shape` (drawn when None). Arrays of one sample get
    different salts, so that their values differ even when hypothesis draws equal seeds."""
    dtype = draw(st.sampled_from(dtypes))
    if shape is None:
        shape = draw(shapes(**shape_kw))
    rng = np.random.default_rng([draw(st.integers(0, 2 ** 32 - 1)), salt])
    a = values(rng, dtype, shape, lo, hi, away)
    lay = draw(st.sampled_from(layouts_for(shape))) if layout else "contiguous"
    return Arr(a, lay)


def scalars(dtypes, lo=-3.0, hi=3.0, away=None):
    """Python scalars of the categories of `dtypes` (bool, int, float)."""
    kinds = {np.dtype(d).kind for d in dtypes}
    options = []
    if "b" in kinds:
        options.append(st.booleans())
    if kinds & {"i", "u"}:
        options.append(st.integers(int(max(lo, -6)), int(min(hi, 6))))
    if "f" in kinds:
        options.append(st.floats(lo, hi, allow_nan=False).map(lambda v: round(v, 3)))
    s = st.one_of(options)
    return s if away is None else s.filter(lambda v: abs(v) >= away)


@st.composite
def dims(draw, ndim, allow_none=False, allow_tuple=False):
    """A dim of a tensor of rank ndim (negative allowed); None or a tuple when asked."""
    n = max(ndim, 1)
    options = [st.integers(-n, n - 1)]
    if allow_none:
        options.append(st.none())
    if allow_tuple and ndim:
        options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                unique=True).flatmap(
            lambda ds: st.tuples(*[st.sampled_from([d, d - ndim]) for d in ds])))
    return draw(st.one_of(options))


# -- sample builders: each takes the dtypes to draw and returns a strategy of Samples ---------
def unary(lo=-3.0, hi=3.0, **shape_kw):
    def build(dtypes):
        return arrays(dtypes, lo=lo, hi=hi, **shape_kw).map(Sample)
    return build


def with_kwargs(base, **kw_strategies):
    """base's Samples with keyword arguments drawn from kw_strategies."""
    def build(dtypes):
        return st.tuples(base(dtypes), st.fixed_dictionaries(kw_strategies)).map(
            lambda sk: Sample(*sk[0].args, **sk[0].kwargs, **sk[1]))
    return build


@st.composite
def _binary(draw, dtypes, dtypes2, scalar, lo, hi, same_shape, max_dims, away):
    if same_shape:
        s1 = s2 = draw(shapes(max_dims=max_dims))
    else:
        s1, s2 = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=max_dims,
                                                        max_side=4)).input_shapes
    a = draw(arrays(dtypes, s1, lo, hi, away=away))
    kind = draw(st.sampled_from(["tensor", "tensor", "zero_dim", "scalar"] if scalar
                                else ["tensor", "tensor", "zero_dim"]))
    if kind == "scalar":
        b = draw(scalars(dtypes2, lo, hi, away))
    else:
        b = draw(arrays(dtypes2, () if kind == "zero_dim" else s2, lo, hi, away=away, salt=1))
    if draw(st.booleans()) and kind != "scalar":
        a, b = b, a
    return Sample(a, b)


def binary(dtypes2=None, scalar=True, lo=-3.0, hi=3.0, same_shape=False, max_dims=3,
           away=None):
    """(tensor, tensor|0-dim tensor|python scalar) with broadcastable shapes, mixed dtypes;
    `away`: no float closer to 0 than this (divisors)."""
    def build(dtypes):
        return _binary(dtypes, dtypes2 or dtypes, scalar, lo, hi, same_shape, max_dims, away)
    return build


@st.composite
def _reflected(draw, dtypes, lo, hi, away):
    return Sample(draw(scalars(dtypes, lo, hi, away)), draw(arrays(dtypes, lo=lo, hi=hi,
                                                                   away=away, salt=1)))


def reflected(lo=-3.0, hi=3.0, away=None):
    """(python scalar, tensor): for the reflected operators (2 - t, 2 / t, ...)."""
    return lambda dtypes: _reflected(dtypes, lo, hi, away)


@st.composite
def _ternary(draw, dtypes, lo, hi):
    shapes3 = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    return Sample(*(draw(arrays(dtypes, s, lo, hi, salt=i))
                    for i, s in enumerate(shapes3.input_shapes)))


def ternary(lo=-3.0, hi=3.0):
    return lambda dtypes: _ternary(dtypes, lo, hi)


@st.composite
def _reduction(draw, dtypes, dim_kind, keepdim, lo, hi, nonempty, min_dims):
    a = draw(arrays(dtypes, lo=lo, hi=hi, min_side=1 if nonempty else 0, min_dims=min_dims))
    nd = a.array.ndim
    if dim_kind == "none":
        return Sample(a)
    dim = draw(dims(nd, allow_tuple=dim_kind == "tuple"))
    if dim_kind == "optional" and draw(st.booleans()):
        return Sample(a)
    if not keepdim:
        return Sample(a, dim)
    form = draw(st.sampled_from(["pos", "kw", "dim_only"]))
    k = draw(st.booleans())
    if form == "pos":
        return Sample(a, dim, k)
    if form == "kw":
        return Sample(a, dim=dim, keepdim=k)
    return Sample(a, dim)


def reduction(dim="optional", keepdim=True, lo=-3.0, hi=3.0, nonempty=False, min_dims=0,
              required=False):
    """(tensor[, dim[, keepdim]]): dim 'none' (never given), 'int', 'optional' (int or
    absent) or 'tuple' (int or tuple, also absent unless `required`)."""
    assert dim in ("tuple", "int", "optional", "none")

    def build(dtypes):
        s = _reduction(dtypes, dim, keepdim, lo, hi, nonempty, min_dims)
        if dim == "tuple" and not required:
            return st.one_of(s, _reduction(dtypes, "none", keepdim, lo, hi, nonempty, min_dims))
        return s
    return build


def custom(fn, lo=-3.0, hi=3.0):
    """A sample builder from fn(draw, arr) -> Sample, where arr(shape[, dtypes]) is the
    strategy of an Arr of the case's dtypes (or of the given ones); arr.dtypes are the case's
    dtypes."""
    @st.composite
    def strategy(draw, dtypes):
        salts = iter(range(1000))

        def arr(shape=None, dt=None, **kw):
            return arrays(dt or dtypes, shape, kw.pop("lo", lo), kw.pop("hi", hi),
                          salt=next(salts), **kw)
        arr.dtypes = dtypes
        return fn(draw, arr)
    return strategy
