"""OP_CASES of the reductions: sum, mean, prod, max/min, argmax/argmin, std/var, norm,
logsumexp, cumulative ops, all/any, sort/topk/unique, allclose/equal, count_nonzero."""
import numpy as np
from hypothesis import strategies as st

from op_harness import Case, Err
from op_strategies import (ALL, ALL_HALF, FLOATS, NUMERIC, Arr, DType, Sample, binary, custom,
                           dims, reduction, unary)

nan, inf = float("nan"), float("inf")
TIES = Arr(np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 0.0, 2.0]]))
INT_TIES = Arr(np.array([[1, 3, 3, -1], [2, 2, 0, 2]]))
WITH_NAN = Arr(np.array([[1.0, nan, 3.0], [inf, 2.0, -inf]], np.float32))
ZEROS = Arr(np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5], [1.0, 2.0, -1.0]]))
EMPTY = Arr(np.zeros((0, 3), np.float32))
SCALAR = Arr(np.array(2.5))


def _dtype_kw(draw, arr):
    s = draw(reduction("tuple")(arr.dtypes))
    if draw(st.booleans()):
        return Sample(*s.args, **s.kwargs, dtype=DType("float64"))
    return s


def _var_args(draw, arr):
    x = draw(arr(min_side=1))
    dim = draw(dims(x.array.ndim, allow_none=True, allow_tuple=True))
    form = draw(st.sampled_from(["plain", "correction", "unbiased", "keepdim"]))
    if form == "plain":
        return Sample(x) if dim is None else Sample(x, dim)
    if form == "correction":
        n = x.array.size if dim is None or not x.array.ndim else \
            int(np.prod([x.array.shape[d] for d in np.atleast_1d(dim)]))
        return Sample(x, dim, correction=draw(st.integers(0, max(1, min(2, n - 1)))))
    if form == "unbiased":
        return Sample(x, dim if dim is not None else 0 if x.array.ndim else None,
                      draw(st.booleans()), draw(st.booleans())) if x.array.ndim else \
            Sample(x, unbiased=draw(st.booleans()))
    return Sample(x, dim, keepdim=draw(st.booleans()), correction=1)


def _norm_args(draw, arr):
    x = draw(arr())
    p = draw(st.sampled_from(["fro", 1, 2, inf, -inf, 0, 3, 0.5]))
    nd = x.array.ndim
    if draw(st.booleans()) or nd == 0:
        return Sample(x, p)
    dim = draw(dims(nd, allow_tuple=p != "fro")) if p != "fro" else \
        draw(st.sampled_from([(0, 1), (-1, -2)] if nd >= 2 else [0]))
    return Sample(x, p, dim, draw(st.booleans()))


def _vector_norm_args(draw, arr):
    x = draw(arr())
    nd = x.array.ndim
    kw = {}
    if draw(st.booleans()):
        kw["ord"] = draw(st.sampled_from([1, 2, inf, -inf, 0, 3]))
    if nd and draw(st.booleans()):
        kw["dim"] = draw(dims(nd, allow_tuple=True))
        kw["keepdim"] = draw(st.booleans())
    return Sample(x, **kw)


def _dim_keepdim(draw, arr):
    x = draw(arr(min_side=1))
    return Sample(x, draw(dims(x.array.ndim)), draw(st.booleans()))


def _linalg_norm_args(draw, arr):
    x = draw(arr(max_dims=2))
    nd = x.array.ndim
    if nd == 2 and draw(st.booleans()):
        return Sample(x, draw(st.sampled_from(["fro", None])))
    if nd and draw(st.booleans()):
        return Sample(x, draw(st.sampled_from([1, 2, inf, -inf, 3])), draw(dims(nd)),
                      keepdim=draw(st.booleans()))
    return Sample(x)


def _cum_args(draw, arr):
    x = draw(arr())
    dim = draw(dims(x.array.ndim))
    if draw(st.booleans()):
        return Sample(x, dim=dim)
    return Sample(x, dim)


def _topk_args(draw, arr):
    x = draw(arr())
    nd = x.array.ndim
    dim = draw(dims(nd))
    size = x.array.shape[dim] if nd else 1
    k = draw(st.integers(0, size))
    if draw(st.booleans()):
        return Sample(x, k, dim)
    return Sample(x, k, dim=dim, largest=draw(st.booleans()), sorted=True)


def _sort_args(draw, arr):
    x = draw(arr())
    kw = {"descending": draw(st.booleans())}
    if x.array.ndim and draw(st.booleans()):
        kw["dim"] = draw(dims(x.array.ndim))
    if draw(st.booleans()):
        kw["stable"] = True
    return Sample(x, **kw)


def _unique_args(draw, arr):
    x = draw(arr())
    return Sample(x, sorted=True, return_inverse=draw(st.booleans()),
                  return_counts=draw(st.booleans()))


def _kth_args(draw, arr):
    x = draw(arr(min_side=1))
    nd = x.array.ndim
    dim = draw(dims(nd))
    size = x.array.shape[dim] if nd else 1
    return Sample(x, draw(st.integers(1, size)), dim, draw(st.booleans()))


def _same_shape_pair(draw, arr):
    x = draw(arr())
    other = draw(arr(x.array.shape, (x.array.dtype.name,)))
    if draw(st.booleans()):
        return Sample(x, x)
    return Sample(x, other)


def _count_args(draw, arr):
    x = draw(arr())
    if draw(st.booleans()):
        return Sample(x)
    return Sample(x, draw(dims(x.array.ndim, allow_tuple=True)))


def _mean_int_error(lib):
    return lib.tensor([1, 2]).mean()


CASES = [
    Case("sum", custom(_dtype_kw), ALL_HALF,
         edges=[Sample(TIES, (0, 1)), Sample(EMPTY, 0), Sample(INT_TIES), Sample(WITH_NAN, 1),
                Sample(Arr(np.array([True, True, False])))], gradgrad=True),
    Case("mean", reduction("tuple"), ALL_HALF, edges=[Sample(EMPTY), Sample(EMPTY, 1),
                                                 Sample(WITH_NAN, 0)],
         errors=[Err(_mean_int_error, RuntimeError, "mean(): could not infer output dtype. "
                     "Input dtype must be either a floating point or complex dtype. Got: Long")]),
    Case("prod", reduction("optional"), ALL_HALF, edges=[Sample(ZEROS), Sample(ZEROS, 1),
                                                    Sample(ZEROS, 0, True), Sample(EMPTY, 0)],
         gradgrad=True),
    Case("max", unary(min_side=1), ALL, id="max.all", edges=[Sample(TIES), Sample(WITH_NAN)],
         errors=[Err(lambda lib: lib.zeros(0).max(), RuntimeError,
                     "max(): Expected reduction dim to be specified for input.numel() == 0.")]),
    Case("max", reduction("int", nonempty=True), ALL_HALF, id="max.dim",
         edges=[Sample(INT_TIES, 1), Sample(WITH_NAN, 1), Sample(SCALAR, 0)],
         errors=[Err(lambda lib: lib.zeros(2, 0).max(1), IndexError,
                     "max(): Expected reduction dim 1 to have non-zero size."),
                 Err(lambda lib: lib.zeros(2, 3).max(2), IndexError,
                     "Dimension out of range (expected to be in range of [-2, 1], but got 2)")]),
    Case("max", binary(scalar=False), NUMERIC, id="max.binary", out=False),
    Case("min", unary(min_side=1), ALL, id="min.all", edges=[Sample(TIES), Sample(WITH_NAN)]),
    Case("min", reduction("int", nonempty=True), ALL, id="min.dim",
         edges=[Sample(INT_TIES, 1), Sample(WITH_NAN, 0)]),
    Case("min", binary(scalar=False), NUMERIC, id="min.binary", out=False),
    Case("amax", reduction("tuple"), NUMERIC, edges=[Sample(TIES, 1), Sample(TIES)]),
    Case("amin", reduction("tuple"), NUMERIC, edges=[Sample(TIES, 1), Sample(TIES)]),
    Case("argmax", reduction("optional", nonempty=True), NUMERIC,
         edges=[Sample(INT_TIES, 1), Sample(WITH_NAN), Sample(WITH_NAN, 1, True)]),
    Case("argmin", reduction("optional", nonempty=True), NUMERIC,
         edges=[Sample(INT_TIES, 1), Sample(WITH_NAN, 0)]),
    Case("var", custom(_var_args), FLOATS, edges=[Sample(SCALAR), Sample(TIES, 1, correction=4)],
         tol=10, gradgrad=True),
    Case("std", custom(_var_args), FLOATS, edges=[Sample(SCALAR), Sample(TIES, 1)], tol=10),
    Case("var_mean", custom(_var_args), FLOATS, tol=10, method=False),
    Case("std_mean", custom(_var_args), FLOATS, tol=10, method=False),
    Case("norm", custom(_norm_args), FLOATS, out=False, tol=10,
         edges=[Sample(ZEROS, 2), Sample(Arr(np.zeros((2, 2))), 2, 1),
                Sample(Arr(np.zeros(3)), 1)]),
    Case("linalg.norm", custom(_linalg_norm_args), FLOATS, tol=10,
         edges=[Sample(ZEROS), Sample(ZEROS, "fro")]),
    Case("linalg.vector_norm", custom(_vector_norm_args), FLOATS, tol=10),
    Case("logsumexp", reduction("tuple", required=True, hi=5), FLOATS + ("int64",), gradgrad=True,
         edges=[Sample(WITH_NAN, 1), Sample(EMPTY, 0), Sample(Arr(np.full((2, 2), -inf)), 1)]),
    Case("cumsum", custom(_cum_args), ALL_HALF, edges=[Sample(INT_TIES, 1), Sample(SCALAR, 0)]),
    Case("cumprod", custom(_cum_args), ALL, edges=[Sample(ZEROS, 1), Sample(ZEROS, 0)]),
    Case("all", reduction("tuple"), ALL, grad=False, edges=[Sample(EMPTY), Sample(EMPTY, 0)]),
    Case("any", reduction("tuple"), ALL, grad=False, edges=[Sample(EMPTY), Sample(WITH_NAN, 1)]),
    Case("count_nonzero", custom(_count_args), ALL, grad=False),
    Case("topk", custom(_topk_args), FLOATS,
         errors=[Err(lambda lib: lib.ones(3).topk(4), RuntimeError,
                     "selected index k out of range")]),
    Case("sort", custom(_sort_args), ALL_HALF, edges=[Sample(INT_TIES, stable=True),
                                                 Sample(INT_TIES, descending=True, stable=True),
                                                 Sample(WITH_NAN, 1)]),
    Case("argsort", custom(_sort_args), ALL, grad=False,
         edges=[Sample(INT_TIES, stable=True), Sample(INT_TIES, descending=True, stable=True)]),
    Case("unique", custom(_unique_args), ALL, grad=False, out=False,
         edges=[Sample(INT_TIES, return_inverse=True, return_counts=True),
                Sample(INT_TIES, dim=1), Sample(INT_TIES, dim=0, return_counts=True)]),
    Case("kthvalue", custom(_kth_args), FLOATS,
         errors=[Err(lambda lib: lib.ones(3).kthvalue(4), RuntimeError,
                     "kthvalue(): selected number k out of range for dimension 0")]),
    Case("median", unary(), FLOATS, id="median.all", edges=[Sample(TIES), Sample(WITH_NAN)]),
    Case("median", custom(_dim_keepdim), FLOATS, id="median.dim",
         edges=[Sample(WITH_NAN, 1, False), Sample(Arr(np.array([[1.0, nan, 3.0, nan]])), -1,
                                                   True)]),
    Case("allclose", custom(_same_shape_pair), FLOATS, grad=False,
         edges=[Sample(WITH_NAN, WITH_NAN), Sample(WITH_NAN, WITH_NAN, equal_nan=True),
                Sample(TIES, Arr(np.array([1.0, 3.0, 3.0, -1.0])), rtol=0.1, atol=0.0)]),
    Case("equal", custom(_same_shape_pair), ALL, grad=False,
         edges=[Sample(TIES, Arr(TIES.array[:1])), Sample(INT_TIES, TIES),
                Sample(WITH_NAN, WITH_NAN)]),
]
