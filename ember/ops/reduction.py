"""Reductions: sum, mean, prod, max/min, std/var, norm, logsumexp, cumsum, sort, topk, ...

dim may be None, an int or a tuple; keepdim as in torch; integer and bool sums give int64.
"""
import collections

import numpy as np

from .. import _dtype
from .._tensor import Tensor, wrap
from ._registry import op
from ._util import dims_of, wrap_dim, type_name
from .pointwise import where, maximum as maximum_fn, minimum as minimum_fn

_return_types = {}


def _named(name, fields=("values", "indices")):
    cls = _return_types.get(name)
    if cls is None:
        cls = collections.namedtuple(name, fields)
        cls.__module__ = "torch.return_types"
        cls.__repr__ = lambda self: (f"torch.return_types.{name}(\n" + ",\n".join(
            f"{f}={v!r}" for f, v in zip(fields, self)) + ")")
        _return_types[name] = cls
    return cls


def _int_to_long(x, dtype):
    if dtype is not None:
        return _dtype.to_numpy_dtype(dtype)
    return np.int64 if x.dtype.kind in "iub" else None


def _expand_back(grad, shape, dims, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input."""
    if not keepdim and dims:
        grad = grad.reshape(tuple(1 if i in dims else s for i, s in enumerate(shape)))
    return grad.expand(shape)


# -- sum / mean / prod -----------------------------------------------------------------------
@op(saves=False, node="SumBackward0", method=False)
def _sum_all(input, dtype=None):
    return np.sum(input, dtype=_int_to_long(input, dtype))


@_sum_all.backward
def _(ctx, grad, input, dtype=None):
    return grad.expand(ctx._meta[0][0])


@op(saves=False, node="SumBackward1", method=False)
def _sum_dim(input, dim, keepdim=False, dtype=None):
    return np.sum(input, axis=dims_of(dim, input.ndim), keepdims=keepdim,
                  dtype=_int_to_long(input, dtype))


@_sum_dim.backward
def _(ctx, grad, input, dim, keepdim=False, dtype=None):
    shape = ctx._meta[0][0]
    return _expand_back(grad, shape, dims_of(dim, len(shape)), keepdim)


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None, axis=None):
    """torch.sum: over all elements, or over dim(s) (int, tuple; keepdim)."""
    dim = axis if dim is None else dim
    if dim is None:
        return _sum_all(input) if dtype is None and out is None else \
            _sum_all(input, dtype, out=out)
    return _sum_dim(input, dim, keepdim, dtype, out=out)


def _check_mean_dtype(input, dtype, name="mean"):
    if dtype is None and input.dtype.kind not in "fc":
        raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {type_name(input.dtype)}")


@op(saves=False, node="MeanBackward0", method=False)
def _mean_all(input, dtype=None):
    _check_mean_dtype(input, dtype)
    return np.mean(input, dtype=None if dtype is None else dtype.np)


@_mean_all.backward
def _(ctx, grad, input, dtype=None):
    shape = ctx._meta[0][0]
    n = int(np.prod(shape))
    return grad.expand(shape) / n


@op(saves=False, node="MeanBackward1", method=False)
def _mean_dim(input, dim, keepdim=False, dtype=None):
    _check_mean_dtype(input, dtype)
    return np.mean(input, axis=dims_of(dim, input.ndim), keepdims=keepdim,
                   dtype=None if dtype is None else dtype.np)


@_mean_dim.backward
def _(ctx, grad, input, dim, keepdim=False, dtype=None):
    shape = ctx._meta[0][0]
    dims = dims_of(dim, len(shape))
    n = int(np.prod([shape[d] for d in dims])) if shape else 1
    return _expand_back(grad, shape, dims, keepdim) / n


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None, axis=None):
    """torch.mean: floating/complex inputs only (torch's error for integer tensors)."""
    dim = axis if dim is None else dim
    if dim is None:
        return _mean_all(input) if dtype is None and out is None else \
            _mean_all(input, dtype, out=out)
    return _mean_dim(input, dim, keepdim, dtype, out=out)


@op(method=False, node="ProdBackward0")
def _prod(input, dim=None, keepdim=False, dtype=None):
    axis = None if dim is None else wrap_dim(dim, input.ndim)
    return np.prod(input, axis=axis, keepdims=keepdim and dim is not None,
                   dtype=_int_to_long(input, dtype))


@_prod.backward
def _(ctx, grad, input, dim=None, keepdim=False, dtype=None):
    shape = input.shape
    if dim is None:
        dims, grad = tuple(range(input.dim())), grad
        out = input.prod()
        keep = False
    else:
        dims, out, keep = (wrap_dim(dim, input.dim()),), input.prod(dim, True), keepdim
    g = _expand_back(grad, shape, dims, keep)
    # product of the others: out / x where x != 0, else the product computed without x
    zero = input == 0
    safe = where(zero, 1.0, input)
    others = _expand_back(out if dim is None else out, shape, dims, True) / safe
    if bool(zero.any()):
        alt = where(zero, 1.0, input).prod() if dim is None else where(zero, 1.0, input).prod(
            dim, True)
        nz = zero.sum() if dim is None else zero.sum(dim, True)
        single = _expand_back(alt * (nz == 1), shape, dims, True)
        others = where(zero, single, others)
    return g * others


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """torch.prod over all elements or one dim."""
    return _prod(input, dim, keepdim, dtype)


Tensor.sum, Tensor.mean, Tensor.prod = sum, mean, prod


# -- max / min -------------------------------------------------------------------------------
def _extreme(name, npfn, argfn, elementwise):
    """max/min in torch's three forms: whole tensor, along a dim (values, indices), or
    elementwise against another tensor."""
    @op(name=f"_{name}_all", node=f"{name.capitalize()}Backward1", method=False)
    def whole(input):
        if input.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        return npfn(input)

    @whole.backward
    def _(ctx, grad, input):
        mask = input == whole(input)           # ties share the gradient evenly, as in torch
        return where(mask, grad / mask.sum(), 0.0)

    @op(name=f"_{name}_dim", node=f"{name.capitalize()}Backward0", method=False, ctx=True)
    def along(ctx, input, dim, keepdim=False):
        d = wrap_dim(dim, input.ndim)
        if input.ndim == 0:
            ctx.idx = np.zeros((), np.int64)
            return input.copy(), ctx.idx
        if input.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        idx = argfn(input, axis=d, keepdims=True)
        ctx.idx = idx
        values = np.take_along_axis(input, idx, d)
        if not keepdim:
            values, idx = values.squeeze(d), idx.squeeze(d)
        return values, idx.astype(np.int64)

    @along.backward
    def _(ctx, grad, input, dim, keepdim=False):
        return scatter_to(input, dim, keepdim, wrap(ctx.idx), grad[0])

    def public(input, dim=None, keepdim=False, *, out=None):
        if dim is None:
            return whole(input)
        if isinstance(dim, Tensor):
            return elementwise(input, dim)
        return _named(name)(*along(input, dim, keepdim))
    public.__name__ = name
    return public


def scatter_to(input, dim, keepdim, idx, grad):
    """Gradient of a selection along dim: `grad` placed at `idx` (keepdim layout), zeros
    elsewhere."""
    if input.dim() == 0:
        return grad
    d = wrap_dim(dim, input.dim())
    if not keepdim:
        grad = grad.unsqueeze(d)
    from .creation import zeros_like
    return zeros_like(input).scatter(d, idx, grad)


max = _extreme("max", np.max, np.argmax, maximum_fn)
min = _extreme("min", np.min, np.argmin, minimum_fn)
Tensor.max, Tensor.min = max, min


def _amax(npfn, name):
    @op(name=name)
    def f(input, dim=(), keepdim=False):
        axis = None if dim == () or dim is None else dims_of(dim, input.ndim)
        return npfn(input, axis=axis, keepdims=keepdim)

    @f.backward
    def _(ctx, grad, input, dim=(), keepdim=False):
        dims = dims_of(None if dim == () else dim, input.dim())
        out = f(input, dim, True)
        mask = input == out
        g = _expand_back(grad, input.shape, dims, keepdim)
        return where(mask, g / mask.sum(dims, True), 0.0)
    return f


amax = _amax(np.max, "amax")
amin = _amax(np.min, "amin")


def _arg(npfn, name):
    def f(input, dim=None, keepdim=False):
        a = input._data
        if dim is None:
            r = npfn(a.reshape(-1))
            if keepdim:
                r = np.asarray(r).reshape((1,) * a.ndim)
        else:
            r = npfn(a, axis=wrap_dim(dim, a.ndim), keepdims=keepdim) if a.ndim else \
                np.zeros((), np.int64)
        return wrap(np.asarray(r, np.int64))
    f.__name__ = name
    return f


argmax = _arg(np.argmax, "argmax")
argmin = _arg(np.argmin, "argmin")
Tensor.argmax, Tensor.argmin = argmax, argmin


# -- statistics ------------------------------------------------------------------------------
def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


@op(method=False, node="VarBackward0")
def _var(input, dim=None, correction=1, keepdim=False):
    axis = None if dim is None else dims_of(dim, input.ndim)
    _check_mean_dtype(input, None, "var")
    with np.errstate(all="ignore"):
        return np.var(input, axis=axis, ddof=correction, keepdims=keepdim)


@_var.backward
def _(ctx, grad, input, dim=None, correction=1, keepdim=False):
    dims = dims_of(dim, input.dim())
    n = int(np.prod([input.shape[d] for d in dims])) if dims else 1
    g = _expand_back(grad, input.shape, dims, keepdim)
    return g * 2 * (input - input.mean(dims, True)) / (n - correction)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance with Bessel's correction by default (correction=1)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return _var(input, dim, _correction(unbiased, correction), keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: sqrt of var (StdBackward0 in torch)."""
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), \
        mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), \
        mean(input, dim, keepdim)


Tensor.var, Tensor.std = var, std


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm: p-norms (2/'fro' default, 1, inf, -inf, 0, any float) over dim(s)."""
    x = input if dtype is None else input.to(dtype)
    if x.dtype.is_complex:
        x = x.abs()
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise RuntimeError("nuclear norm is not supported by ember")
    dims = dim
    if p == 2:
        return (x * x).sum(dims, keepdim=keepdim).sqrt() if dims is not None else \
            _norm2(x)
    a = x.abs()
    if p == float("inf"):
        return a.amax(() if dims is None else dims, keepdim)
    if p == float("-inf"):
        return a.amin(() if dims is None else dims, keepdim)
    if p == 0:
        return (a != 0).to(a.dtype).sum(dims, keepdim=keepdim) if dims is not None else \
            (a != 0).to(a.dtype).sum()
    s = a.pow(p).sum(dims, keepdim=keepdim) if dims is not None else a.pow(p).sum()
    return s.pow(1.0 / p)


@op(method=False, save_output=True, node="NormBackward1")
def _norm2(input):
    return np.sqrt(np.sum(input * input))


@_norm2.backward
def _(ctx, grad, input):
    return where(ctx.out == 0, 0.0, grad * input / ctx.out)


Tensor.norm = norm


@op(save_output=True)
def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) computed stably."""
    dims = dims_of(dim, input.ndim)
    if input.dtype.kind not in "fc":
        input = input.astype(np.float32)
    m = np.max(input, axis=dims, keepdims=True) if input.size else np.zeros(
        [1] * input.ndim, input.dtype)
    m = np.where(np.isfinite(m), m, 0)
    r = np.log(np.sum(np.exp(input - m), axis=dims, keepdims=True)) + m
    return r if keepdim else np.squeeze(r, axis=dims)


@logsumexp.backward
def _(ctx, grad, input, dim, keepdim=False):
    dims = dims_of(dim, input.dim())
    out = ctx.out
    if not keepdim:
        shape = [1 if i in dims else s for i, s in enumerate(input.shape)]
        grad, out = grad.reshape(shape), out.reshape(shape)
    return grad * (input - out).exp()


# -- scans -----------------------------------------------------------------------------------
@op(inplace=True)
def cumsum(input, dim, dtype=None):
    return np.cumsum(input, axis=wrap_dim(dim, input.ndim), dtype=_int_to_long(input, dtype))


@cumsum.backward
def _(ctx, grad, input, dim, dtype=None):
    return grad.flip(dim).cumsum(dim).flip(dim)


@op(inplace=True)
def cumprod(input, dim, dtype=None):
    return np.cumprod(input, axis=wrap_dim(dim, input.ndim), dtype=_int_to_long(input, dtype))


@cumprod.backward
def _(ctx, grad, input, dim, dtype=None):
    # d out_j / d x_i = out_j / x_i for j >= i (inputs without zeros; torch handles zeros too)
    out = input.cumprod(dim)
    return (grad * out).flip(dim).cumsum(dim).flip(dim) / input


# -- boolean reductions ----------------------------------------------------------------------
def _logical_reduce(npfn, name):
    def f(input, dim=None, keepdim=False):
        a = input._data
        axis = None if dim is None else dims_of(dim, a.ndim)
        r = npfn(a, axis=axis, keepdims=keepdim if dim is not None else False)
        if a.dtype == np.uint8:
            return wrap(np.asarray(r, np.uint8))
        return wrap(np.asarray(r))
    f.__name__ = name
    return f


all = _logical_reduce(np.all, "all")
any = _logical_reduce(np.any, "any")
Tensor.all, Tensor.any = all, any


def count_nonzero(input, dim=None):
    a = input._data
    axis = None if dim is None else dims_of(dim, a.ndim)
    return wrap(np.asarray(np.count_nonzero(a, axis=axis), np.int64))


Tensor.count_nonzero = count_nonzero


# -- sorting ---------------------------------------------------------------------------------
@op(method=False, ctx=True, node="SortBackward0")
def _sort(ctx, input, dim=-1, descending=False, stable=False):
    if input.ndim == 0:
        ctx.idx = np.zeros((), np.int64)
        return input.copy(), ctx.idx
    d = wrap_dim(dim, input.ndim)
    key = -input if descending and input.dtype.kind in "fi" else input
    idx = np.argsort(key, axis=d, kind="stable")
    if descending and input.dtype.kind not in "fi":
        idx = np.flip(np.argsort(input, axis=d, kind="stable"), d)
    ctx.idx = idx
    return np.take_along_axis(input, idx, d), idx.astype(np.int64)


@_sort.backward
def _(ctx, grad, input, dim=-1, descending=False, stable=False):
    return scatter_to(input, dim, True, wrap(ctx.idx), grad[0])


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """Sorted values and their indices (a stable sort, as torch's CPU sort)."""
    return _named("sort")(*_sort(input, dim, descending, stable))


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable)[1]


@op(method=False, ctx=True, node="TopkBackward0")
def _topk(ctx, input, k, dim=-1, largest=True, sorted=True):
    d = wrap_dim(dim, input.ndim)
    size = input.shape[d] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if input.ndim == 0:
        ctx.idx = np.zeros((), np.int64)
        return input.copy(), ctx.idx
    key = -input if largest else input
    if key.dtype == np.bool_:
        key = key.astype(np.int8) * (-1 if largest else 1)
    idx = np.argsort(key, axis=d, kind="stable")
    idx = np.take(idx, np.arange(k), axis=d)
    ctx.idx = idx
    return np.take_along_axis(input, idx, d), idx.astype(np.int64)


@_topk.backward
def _(ctx, grad, input, k, dim=-1, largest=True, sorted=True):
    return scatter_to(input, dim, True, wrap(ctx.idx), grad[0])


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The k largest (or smallest) elements along dim, with their indices."""
    return _named("topk")(*_topk(input, k, dim, largest, sorted))


Tensor.sort, Tensor.argsort, Tensor.topk = sort, argsort, topk


def kthvalue(input, k, dim=-1, keepdim=False):
    values, indices = sort(input, dim)
    d = wrap_dim(dim, input.dim())
    v, i = values.narrow(d, k - 1, 1), indices.narrow(d, k - 1, 1)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    return _named("kthvalue")(v, i)


def median(input, dim=None, keepdim=False):
    """Lower median (torch does not average the two middle values)."""
    if dim is None:
        flat = input.reshape(-1)
        return sort(flat)[0][(flat.numel() - 1) // 2]
    n = input.shape[dim]
    return _named("median")(*kthvalue(input, (n - 1) // 2 + 1, dim, keepdim))


Tensor.kthvalue, Tensor.median = kthvalue, median


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Sorted unique values; optionally inverse indices and counts (torch.unique)."""
    a = input._data
    if dim is None:
        res = np.unique(a, return_inverse=return_inverse, return_counts=return_counts)
    else:
        res = np.unique(a, return_inverse=return_inverse, return_counts=return_counts,
                        axis=wrap_dim(dim, a.ndim))
    if not isinstance(res, tuple):
        return wrap(res)
    out = [wrap(res[0])]
    k = 1
    if return_inverse:
        out.append(wrap(res[k].reshape(a.shape if dim is None else -1).astype(np.int64)))
        k += 1
    if return_counts:
        out.append(wrap(res[k].astype(np.int64)))
    return tuple(out)


Tensor.unique = unique
