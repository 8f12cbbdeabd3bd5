"""Reductions: sum, mean, prod, max/min, std/var, norm, logsumexp, cumsum, sort, topk, ...

dim may be None, an int or a tuple; keepdim as in torch; integer and bool sums give int64.
"""
import collections

import numpy as np

from .. import _dtype
from .._tensor import Tensor, wrap
from ._registry import op, write_out, make_inplace
from ._util import dims_of, wrap_dim, type_name, not_implemented
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


def _with_out(result, out, name):
    """The out= keyword of a reduction that is not a single registry op."""
    if out is None:
        return result
    if isinstance(result, tuple):           # (values, indices) into a pair of out tensors
        return _named(name)(*write_out(out, tuple(result), name))
    return write_out(out, result, name)


def _expand_back(grad, shape, dims, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input."""
    if not keepdim and dims:
        grad = grad.reshape(tuple(1 if i in dims else s for i, s in enumerate(shape)))
    return grad.expand(shape)


# -- sum / mean / prod -----------------------------------------------------------------------
@op(saves=False, node="SumBackward0", method=False)
def _sum_all(input, dtype=None):
    return input.sum(dtype=_int_to_long(input, dtype))


@_sum_all.backward
def _(ctx, grad, input, dtype=None):
    return grad.expand(ctx._meta[0][0])


@op(saves=False, node="SumBackward1", method=False)
def _sum_dim(input, dim, keepdim=False, dtype=None):
    return input.sum(axis=dims_of(dim, input.ndim), keepdims=keepdim,
                     dtype=_int_to_long(input, dtype))


@_sum_dim.backward
def _(ctx, grad, input, dim, keepdim=False, dtype=None):
    shape = ctx._meta[0][0]
    return _expand_back(grad, shape, dims_of(dim, len(shape)), keepdim)


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None, axis=None):
    """torch.sum: over all elements, or over dim(s) (int, tuple; keepdim)."""
    dim = axis if dim is None else dim
    if out is not None:
        return _sum_all(input, dtype, out=out) if dim is None else \
            _sum_dim(input, dim, keepdim, dtype, out=out)
    if dim is None:
        return _sum_all(input) if dtype is None else _sum_all(input, dtype)
    return _sum_dim(input, dim, keepdim) if dtype is None else _sum_dim(input, dim, keepdim, dtype)


def _check_mean_dtype(input, dtype, name="mean"):
    if dtype is None and input.dtype.kind not in "fc":
        raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {type_name(input.dtype)}")


@op(saves=False, node="MeanBackward0", method=False)
def _mean_all(input, dtype=None):
    _check_mean_dtype(input, dtype)
    return input.mean(dtype=None if dtype is None else dtype.np)


@_mean_all.backward
def _(ctx, grad, input, dtype=None):
    shape = ctx._meta[0][0]
    n = int(np.prod(shape))
    return grad.expand(shape) / n


@op(saves=False, node="MeanBackward1", method=False)
def _mean_dim(input, dim, keepdim=False, dtype=None):
    _check_mean_dtype(input, dtype)
    return input.mean(axis=dims_of(dim, input.ndim), keepdims=keepdim,
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


@op(method=False, node=lambda args: "ProdBackward1" if len(args) > 1 and args[1] is not None
    else "ProdBackward0")
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


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """torch.prod over all elements or one dim."""
    if dim is None:
        return _prod(input, dtype=dtype, out=out)
    return _prod(input, dim, keepdim, dtype, out=out)


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
        return _evenly(grad, input, whole(input))

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
            return whole(input, out=out)
        if isinstance(dim, Tensor):
            return elementwise(input, dim, out=out)
        return _with_out(_named(name)(*along(input, dim, keepdim)), out, name)
    public.__name__ = name
    return public


def _evenly(grad, input, value):
    """The gradient of a reduction to one selected value: shared evenly by the elements equal
    to it (by the nan elements when it is nan), as torch does."""
    mask = input.isnan() if bool(value.isnan()) else input == value
    return where(mask, grad / mask.sum(), 0.0)


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


def _check_nonempty(name, a, axis, exc=RuntimeError):
    """torch's errors for a max-like reduction over no elements (NumPy's differ)."""
    if axis is None:
        if a.size == 0:
            raise exc(f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
                      + (" Specify the reduction dim with the 'dim' argument."
                         if exc is RuntimeError else ""))
        return
    for d in axis:
        if a.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _amax(npfn, name):
    @op(name=name)
    def f(input, dim=(), keepdim=False):
        axis = None if dim == () or dim is None else dims_of(dim, input.ndim)
        _check_nonempty(name, input, axis)
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
    def f(input, dim=None, keepdim=False, *, out=None):
        if out is not None:
            return write_out(out, f(input, dim, keepdim), name)
        a = input._data
        _check_nonempty(name, a, None if dim is None else dims_of(dim, a.ndim), IndexError)
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
def _moment_args(dim, unbiased, correction):
    """(dim, correction) from torch's two signatures: var(x, dim, unbiased, keepdim) and
    var(x, dim, *, correction); var(x, True) passes unbiased first."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def _variance(input, dim, correction, keepdim, name):
    _check_mean_dtype(input, None, name)
    with np.errstate(all="ignore"):
        return np.var(input, axis=None if dim is None else dims_of(dim, input.ndim),
                      ddof=correction, keepdims=keepdim)


def _count(shape, dims):
    return int(np.prod([shape[d] for d in dims])) if dims else 1


def _var_grad(grad, input, dim, correction, keepdim):
    dims = dims_of(dim, input.dim())
    g = _expand_back(grad, input.shape, dims, keepdim)
    return g * 2 * (input - input.mean(dims, True)) / (_count(input.shape, dims) - correction)


def _std_grad(grad, out, input, dim, correction, keepdim):
    return _var_grad(where(out == 0, 0.0, grad / (2 * out)), input, dim, correction, keepdim)


def _mean_grad(grad, input, dim, keepdim):
    dims = dims_of(dim, input.dim())
    return _expand_back(grad, input.shape, dims, keepdim) / _count(input.shape, dims)


@op(method=False, node="VarBackward0")
def _var(input, dim=None, correction=1, keepdim=False):
    return _variance(input, dim, correction, keepdim, "var")


@_var.backward
def _(ctx, grad, input, dim=None, correction=1, keepdim=False):
    return _var_grad(grad, input, dim, correction, keepdim)


@op(method=False, node="StdBackward0", save_output=True)
def _std(input, dim=None, correction=1, keepdim=False):
    return np.sqrt(_variance(input, dim, correction, keepdim, "std"))


@_std.backward
def _(ctx, grad, input, dim=None, correction=1, keepdim=False):
    return _std_grad(grad, ctx.out, input, dim, correction, keepdim)


@op(method=False, node="VarMeanBackward0")
def _var_mean(input, dim=None, correction=1, keepdim=False):
    v = _variance(input, dim, correction, keepdim, "var_mean")
    return v, np.mean(input, axis=None if dim is None else dims_of(dim, input.ndim),
                      keepdims=keepdim).astype(v.dtype)


@_var_mean.backward
def _(ctx, grad, input, dim=None, correction=1, keepdim=False):
    return _var_grad(grad[0], input, dim, correction, keepdim) + \
        _mean_grad(grad[1], input, dim, keepdim)


@op(method=False, node="StdMeanBackward0", save_output=True)
def _std_mean(input, dim=None, correction=1, keepdim=False):
    v, m = _var_mean.spec.forward(input, dim, correction, keepdim)
    return np.sqrt(v), m


@_std_mean.backward
def _(ctx, grad, input, dim=None, correction=1, keepdim=False):
    return _std_grad(grad[0], ctx.out[0], input, dim, correction, keepdim) + \
        _mean_grad(grad[1], input, dim, keepdim)


def _moment(fn):
    def public(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
        dim, correction = _moment_args(dim, unbiased, correction)
        return fn(input, dim, correction, keepdim, out=out)
    public.__name__ = fn.__name__.lstrip("_")
    public.__doc__ = f"torch.{public.__name__}: correction=1 (Bessel's) unless unbiased=False " \
        "or another correction is given."
    return public


var, std, var_mean, std_mean = (_moment(f) for f in (_var, _std, _var_mean, _std_mean))
Tensor.var, Tensor.std = var, std


@op(method=False, save_output=True, name="linalg_vector_norm")
def _vector_norm(input, ord=2, dim=None, keepdim=False):
    """The ord-norm of the elements over dim (all when None): torch.linalg.vector_norm."""
    if input.dtype.kind not in "fc":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {type_name(input.dtype)}")
    axis = None if dim is None else dims_of(dim, input.ndim)
    a = np.abs(input)
    if ord == float("inf") or ord == float("-inf"):
        _check_norm_identity(a, axis, ord)
        return (np.max if ord > 0 else np.min)(a, axis=axis, keepdims=keepdim)
    if ord == 0:
        return np.sum(a != 0, axis=axis, keepdims=keepdim, dtype=a.dtype)
    if ord == 1:
        return np.sum(a, axis=axis, keepdims=keepdim)
    if ord == 2:
        return np.sqrt(np.sum(a * a, axis=axis, keepdims=keepdim))
    with np.errstate(divide="ignore"):
        return np.power(np.sum(np.power(a, ord), axis=axis, keepdims=keepdim), 1.0 / ord)


def _check_norm_identity(a, axis, ord):
    """The inf norms have no value over no elements (torch's messages)."""
    if axis is None and a.size == 0:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty "
                           "tensor because the operation does not have an identity")
    for d in axis or ():
        if a.shape[d] == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on the "
                               f"dimension {d}because this dimension is empty and the "
                               "operation does not have an identity")


@_vector_norm.backward
def _(ctx, grad, input, ord=2, dim=None, keepdim=False):
    dims = dims_of(dim, input.dim())
    g = _expand_back(grad, input.shape, dims, keepdim)
    norm = _expand_back(ctx.out, input.shape, dims, keepdim)
    if ord == 0:
        return g * 0
    if ord == 1:
        return g * input.sgn()
    if ord == float("inf") or ord == float("-inf"):
        mask = input.abs() == norm
        return g * input.sgn() * mask / mask.sum(dims, True)
    if ord == 2:
        return where(norm == 0, 0.0, g * input / norm)
    scaled = input.sgn() * where(input == 0, 0.0, input.abs().pow(ord - 1))
    return where(norm == 0, 0.0, g * scaled / norm.pow(ord - 1))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, *, out=None):
    """torch.norm: the vector p-norm over dim(s) ('fro' is the 2-norm; 'nuc' is not
    supported)."""
    if p == "nuc":
        raise RuntimeError("ember does not support the nuclear norm")
    x = input if dtype is None else input.to(dtype)
    return _vector_norm(x, 2 if p == "fro" or p is None else p, dim, keepdim, out=out)


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
def _scan(npfn, input, dim, dtype):
    r = npfn(input, axis=wrap_dim(dim, input.ndim), dtype=_int_to_long(input, dtype))
    return r.reshape(input.shape)            # a 0-dim input stays 0-dim


def _reverse_cumsum(x, dim):
    return x.flip(dim).cumsum(dim).flip(dim)


@op()
def cumsum(input, dim, dtype=None):
    return _scan(np.cumsum, input, dim, dtype)


@cumsum.backward
def _(ctx, grad, input, dim, dtype=None):
    return _reverse_cumsum(grad, dim)


@op(save_output=True)
def cumprod(input, dim, dtype=None):
    return _scan(np.cumprod, input, dim, dtype)


@cumprod.backward
def _(ctx, grad, input, dim, dtype=None):
    """d out_j / d x_i = prod_{k <= j, k != i} x_k for j >= i: out_j / x_i before the first
    zero of a slice; at the first zero, the products with that zero left out; 0 after it."""
    g = _reverse_cumsum(grad * ctx.out, dim)
    zero = input == 0
    if not bool(zero.any()):
        return g / input
    seen = zero.cumsum(dim)
    first = zero & (seen == 1)
    before = seen == 0
    without = where(first, 1.0, input).cumprod(dim)
    at_first = _reverse_cumsum(where(seen >= 1, grad * without, 0.0), dim)
    return where(before, g / where(before, input, 1.0), where(first, at_first, 0.0))


def _scan_inplace(fn):
    """x.cumsum_(dim): the scan computed in x's own dtype (bool and int included)."""
    inplace = make_inplace(fn, fn.__name__)

    def method(self, dim, *, dtype=None):
        if self.dtype is _dtype.bool and self.dim() and self.numel():
            raise not_implemented(f"{fn.__name__}_out_cpu", self._data.dtype)
        return inplace(self, dim, dtype=self.dtype if dtype is None else dtype)
    method.__name__ = fn.__name__ + "_"
    return method


Tensor.cumsum_, Tensor.cumprod_ = _scan_inplace(cumsum), _scan_inplace(cumprod)


# -- boolean reductions ----------------------------------------------------------------------
def _logical_reduce(npfn, name):
    def f(input, dim=None, keepdim=False, *, out=None):
        if out is not None:
            return write_out(out, f(input, dim, keepdim), name)
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
