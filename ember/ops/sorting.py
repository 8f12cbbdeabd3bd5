"""Sorting and selection: sort, argsort, topk, kthvalue, median, unique. Values come with
their int64 indices; gradients flow back to the selected positions."""
import numpy as np

from .._tensor import Tensor, wrap
from ._registry import op
from ._util import wrap_dim
from .reduction import _evenly, _named, _with_out, scatter_to


def _argsort(a, d, descending):
    """Stable argsort along d; descending keeps ties in their original order and puts nan
    first (torch's order)."""
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    n = a.shape[d]
    return n - 1 - np.flip(np.argsort(np.flip(a, d), axis=d, kind="stable"), d)


def _select_op(name, node):
    """A multi-output op (values, indices) of elements picked along dim (its first argument
    after input): `pick(ctx, input, dim, ...)` leaves the picked indices (keepdim layout) in
    ctx.idx and returns their values and whether to keep the dim."""
    def register(pick):
        @op(name=name, method=False, ctx=True, node=node)
        def forward(ctx, input, dim, *args):
            ctx.keepdim = True
            if input.ndim == 0:
                ctx.idx = np.zeros((), np.int64)
                return input.copy(), ctx.idx
            values, ctx.keepdim = pick(ctx, input, dim, *args)
            d = wrap_dim(dim, input.ndim)
            idx = ctx.idx if ctx.keepdim else ctx.idx.squeeze(d)
            return (values if ctx.keepdim else values.squeeze(d)), idx.astype(np.int64)

        @forward.backward
        def _(ctx, grad, input, dim, *args):
            return scatter_to(input, dim, ctx.keepdim, wrap(ctx.idx), grad[0])
        return forward
    return register


@_select_op("_sort", lambda args: "SortBackward0" if args[3] is None else "SortBackward1")
def _sort(ctx, input, dim, descending, stable):
    ctx.idx = _argsort(input, wrap_dim(dim, input.ndim), descending)
    return np.take_along_axis(input, ctx.idx, wrap_dim(dim, input.ndim)), True


def sort(input, dim=-1, descending=False, stable=None, *, out=None):
    """Sorted values and their indices (always stable; nan sorts as the largest value);
    stable=None stands for torch's overload without the argument."""
    return _with_out(_named("sort")(*_sort(input, dim, descending, stable)), out, "sort")


def argsort(input, dim=-1, descending=False, stable=False, *, out=None):
    return _with_out(sort(input, dim, descending, stable)[1], out, "argsort")


@_select_op("_topk", "TopkBackward0")
def _topk(ctx, input, dim, k, largest):
    d = wrap_dim(dim, input.ndim)
    if not 0 <= k <= input.shape[d]:
        raise RuntimeError("selected index k out of range")
    ctx.idx = np.take(_argsort(input, d, largest), np.arange(k), axis=d)
    return np.take_along_axis(input, ctx.idx, d), True


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The k largest (or smallest) elements along dim, with their indices."""
    if input.dim() == 0 and k not in (0, 1):
        raise RuntimeError("selected index k out of range")
    return _with_out(_named("topk")(*_topk(input, dim, k, largest)), out, "topk")


def _kth(ctx, input, dim, k, keepdim):
    """The k-th smallest along dim (1-based; nan counts as the largest)."""
    d = wrap_dim(dim, input.ndim)
    if not 1 <= k <= input.shape[d]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    ctx.idx = np.take(_argsort(input, d, False), [k - 1], axis=d)
    return np.take_along_axis(input, ctx.idx, d), keepdim


_kthvalue = _select_op("_kthvalue", "KthvalueBackward0")(_kth)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    return _with_out(_named("kthvalue")(*_kthvalue(input, dim, k, keepdim)), out, "kthvalue")


@_select_op("_median_dim", "MedianBackward1")
def _median_dim(ctx, input, dim, keepdim):
    """The lower median along dim; a slice holding nan gives its first nan."""
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if n == 0:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
    order = _argsort(input, d, False)
    idx = np.take(order, [(n - 1) // 2], axis=d)
    nan = np.isnan(input)
    if nan.any():
        idx = np.where(nan.any(axis=d, keepdims=True), np.argmax(nan, axis=d, keepdims=True),
                       idx)
    ctx.idx = idx
    return np.take_along_axis(input, idx, d), keepdim


@op(name="_median_all", method=False, node="MedianBackward0")
def _median_all(input):
    flat = np.sort(input.reshape(-1))
    if flat.size == 0:
        return np.array(np.nan, input.dtype)
    return flat[-1] if np.isnan(flat[-1]) else flat[(flat.size - 1) // 2]


@_median_all.backward
def _(ctx, grad, input):
    return _evenly(grad, input, _median_all(input))


def median(input, dim=None, keepdim=False, *, out=None):
    """The lower median (torch does not average the two middle values); nan if any."""
    if dim is None:
        return _median_all(input, out=out)
    return _with_out(_named("median")(*_median_dim(input, dim, keepdim)), out, "median")


Tensor.sort, Tensor.argsort, Tensor.topk = sort, argsort, topk
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
__all__ = ["sort", "argsort", "topk", "kthvalue", "median", "unique"]
