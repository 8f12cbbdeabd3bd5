"""Indexing: x[key] (views for ints/slices/None/Ellipsis, copies for tensors and masks),
x[key] = v, gather/scatter, index_select/index_add, masked_fill/masked_select, nonzero."""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, wrap
from ..autograd import grad_mode
from ._registry import op, assign_
from ._util import wrap_dim


def _convert_key(key, tensor_ok=True):
    """A NumPy key from a torch key; returns (key, is_basic)."""
    if not isinstance(key, tuple):
        key = (key,)
    out, basic = [], True
    for k in key:
        if isinstance(k, Tensor):
            a = k._data
            if a.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if a.dtype == np.uint8:
                a = a.astype(bool)
            out.append(a)
            basic = False
        elif isinstance(k, slice):
            if isinstance(k.step, int) and k.step <= 0 or \
                    isinstance(k.step, Tensor) and int(k.step) <= 0:
                raise ValueError("step must be greater than zero")
            out.append(slice(*(int(v) if isinstance(v, Tensor) else v
                               for v in (k.start, k.stop, k.step))))
        elif isinstance(k, (list, np.ndarray)):
            a = np.asarray([int(v) if isinstance(v, Tensor) else v for v in k]
                           if isinstance(k, list) else k)
            if a.dtype.kind not in "iub" and a.size:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(a.astype(np.int64) if a.size == 0 else a)
            basic = False
        elif k is None or k is Ellipsis or isinstance(k, (int, np.integer)):
            out.append(k)
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                             "byte Variables are valid indices (got "
                             f"{type(k).__name__})")
    return tuple(out), basic


def _numpy_index(a, key):
    try:
        return a[key]
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None


@op(method=False, saves=False, view=True, node="SliceBackward0")
def _slice(input, key):
    return _numpy_index(input, key)


@op(method=False, saves=False, view=True, node="SelectBackward0")
def _select_key(input, key):
    # the trailing Ellipsis keeps a full integer index a 0-dim view (NumPy gives a copy)
    return _numpy_index(input, key + (Ellipsis,))


@op(method=False, saves=False, node="IndexBackward0")
def _index(input, key):
    return _numpy_index(input, key)


def _getitem_backward(ctx, grad, input, key):
    return _index_grad(grad, ctx._meta[0][0], key)


for _f in (_slice, _select_key, _index):
    _f.backward(_getitem_backward)


def __getitem__(self, key):
    """torch indexing: basic keys give views, tensors/lists/masks give copies."""
    k, basic = _convert_key(key)
    if basic:
        if all(isinstance(x, (int, np.integer)) for x in k):
            return _select_key(self, k)
        return _slice(self, k)
    return _index(self, k)


Tensor.__getitem__ = __getitem__


@op(method=False, saves=False, node="IndexPutBackward0")
def _index_grad(grad, shape, key):
    """Zeros of `shape` with `grad` added at `key` (the backward of indexing)."""
    out = np.zeros(shape, grad.dtype)
    if all(not isinstance(k, np.ndarray) for k in key):
        out[key] = grad
    else:
        np.add.at(out, key, grad)
    return out


@_index_grad.backward
def _(ctx, grad, g, shape, key):
    return grad[key]


def select_backward(grad, shape, dim, index):
    key = [slice(None)] * len(shape)
    key[dim] = index
    return _index_grad(grad, shape, tuple(key))


@op(method=False, saves=False, promote=(0, 1), node="IndexPutBackward0")
def _index_put(input, values, key):
    out = input.copy()
    out[key] = values
    return out


@_index_put.backward
def _(ctx, grad, input, values, key):
    need = ctx.needs_input_grad
    gi = _index_put(grad, 0.0, key) if need[0] else None
    gv = None
    if need[1]:
        gv = grad[key]
        vshape = ctx._meta[-1][0]
        if gv.shape != vshape and gv.numel() == int(np.prod(vshape)):
            gv = gv.reshape(vshape)
    return gi, gv


def __setitem__(self, key, value):
    """x[key] = value: in place; with autograd, the graph sees an index_put."""
    k, basic = _convert_key(key)
    if not isinstance(value, Tensor) and isinstance(value, (list, tuple, np.ndarray)):
        value = wrap(np.asarray(value, dtype=self._data.dtype))
    if grad_mode._enabled[0] and (self.requires_grad or
                                  isinstance(value, Tensor) and value.requires_grad):
        if self.grad_fn is None and self.requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        if basic:               # as torch: a copy into the view (the base gets CopySlices)
            self[key].copy_(value)
            return
        v = value.to(self.dtype) if isinstance(value, Tensor) else value
        assign_(self, _index_put(self, v, k))
        return
    v = value._data if isinstance(value, Tensor) else value
    try:
        self._data[k] = v
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None
    except ValueError as e:
        raise RuntimeError(str(e)) from None
    self._vc.value += 1


Tensor.__setitem__ = __setitem__


# -- gather / scatter ------------------------------------------------------------------------
def _check_index(index, name):
    if index.dtype != np.int64:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")


def _grid(index, dim):
    """Full index tuple for scatter along dim: index at dim, ranges elsewhere."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


@op(node="GatherBackward0")
def gather(input, dim, index, sparse_grad=False):
    """out[i][j] = input[index[i][j]][j] (dim=0), etc."""
    _check_index(index, "gather")
    d = wrap_dim(dim, input.ndim)
    if index.ndim != input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    return input[_grid(index, d)] if input.ndim else input[()].reshape(())


@gather.backward
def _(ctx, grad, input, dim, index, sparse_grad=False):
    from .creation import zeros_like
    return zeros_like(input).scatter_add(dim, index, grad)


@op(promote=(0, 3), inplace=True, node="ScatterBackward0")
def scatter(input, dim, index, src=None, value=None, reduce=None):
    """A copy of input with src (or a scalar value) written at index along dim."""
    if src is None:
        src = value
    _check_index(index, "scatter")
    d = wrap_dim(dim, input.ndim)
    out = input.copy()
    s = src[tuple(slice(0, n) for n in index.shape)] if isinstance(src, np.ndarray) and \
        src.ndim else src
    key = _grid(index, d)
    if reduce is None:
        out[key] = s
    elif reduce in ("add", "sum"):
        np.add.at(out, key, s)
    elif reduce in ("multiply", "prod"):
        np.multiply.at(out, key, s)
    else:
        raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
    return out


@scatter.backward
def _(ctx, grad, input, dim, index, src=None, value=None, reduce=None):
    need = ctx.needs_input_grad
    gi = grad.scatter(dim, index, 0.0) if need[0] else None
    gs = grad.gather(dim, index) if len(need) > 3 and need[3] else None
    return gi, None, None, gs


@op(promote=(0, 3), inplace=True, saves=False, node="ScatterAddBackward0")
def scatter_add(input, dim, index, src):
    """A copy of input with src added at index along dim (duplicates accumulate)."""
    _check_index(index, "scatter_add")
    d = wrap_dim(dim, input.ndim)
    out = input.copy()
    np.add.at(out, _grid(index, d), src[tuple(slice(0, n) for n in index.shape)])
    return out


@scatter_add.backward
def _(ctx, grad, input, dim, index, src):
    return grad, None, None, grad.gather(dim, index)


@op(node="IndexSelectBackward0")
def index_select(input, dim, index):
    """Rows (along dim) picked by a 1-D index."""
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index.dtype.kind not in "iu":
        raise IndexError("index_select(): Expected dtype int32/int64 for index")
    return np.take(input, index, axis=wrap_dim(dim, input.ndim)) if input.ndim else input.copy()


@index_select.backward
def _(ctx, grad, input, dim, index):
    from .creation import zeros_like
    return zeros_like(input).index_add(dim, index, grad), None, None


@op(promote=(0, 3), inplace=True, saves=False, node="IndexAddBackward0")
def index_add(input, dim, index, source, alpha=1):
    out = input.copy()
    d = wrap_dim(dim, input.ndim)
    key = [slice(None)] * input.ndim
    key[d] = index
    np.add.at(out, tuple(key), source if alpha == 1 else alpha * source)
    return out


@index_add.backward
def _(ctx, grad, input, dim, index, source, alpha=1):
    gs = grad.index_select(dim, index)
    return grad, None, None, gs if alpha == 1 else gs * alpha


@op(promote=(0,), inplace=True, saves=False, node="IndexFillBackward0")
def index_fill(input, dim, index, value):
    out = input.copy()
    key = [slice(None)] * input.ndim
    key[wrap_dim(dim, input.ndim)] = index
    out[tuple(key)] = value
    return out


@index_fill.backward
def _(ctx, grad, input, dim, index, value):
    return grad.index_fill(dim, index, 0.0)


@op(inplace=True, node="MaskedFillBackward0")
def masked_fill(input, mask, value):
    """input with value where mask is True (value: a number or a 0-dim tensor)."""
    if mask.dtype != np.bool_:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           + str(_dtype._BY_NP[mask.dtype]).replace("torch.", ""))
    if isinstance(value, np.ndarray) and value.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    v = np.asarray(value).astype(input.dtype) if input.dtype != np.bool_ or \
        isinstance(value, (bool, np.ndarray)) else np.asarray(bool(value))
    return np.where(mask, v, input)


@masked_fill.backward
def _(ctx, grad, input, mask, value):
    need = ctx.needs_input_grad
    gv = where_sum(mask, grad) if len(need) > 2 and need[2] else None
    return grad.masked_fill(mask, 0.0), None, gv


def where_sum(mask, grad):
    return (grad * mask).sum()


@op(node="MaskedSelectBackward0")
def masked_select(input, mask):
    """1-D tensor of the elements where mask (broadcast) is True."""
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask")
    a, m = np.broadcast_arrays(input, mask)
    return a[m]


@masked_select.backward
def _(ctx, grad, input, mask):
    shape = np.broadcast_shapes(input.shape, mask.shape)
    return _index_grad(grad, shape, (np.broadcast_to(mask._data, shape),))


@op(promote=(0, 2), inplace=True, saves=False, node="MaskedScatterBackward0")
def masked_scatter(input, mask, source):
    out = input.copy()
    m = np.broadcast_to(mask, input.shape)
    out[m] = source.reshape(-1)[:int(m.sum())]
    return out


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or a tuple of 1-D ones."""
    a = input._data
    idx = np.nonzero(a) if a.ndim else np.nonzero(a.reshape(1))
    if as_tuple:
        return tuple(wrap(i.astype(np.int64)) for i in idx)
    return wrap(np.stack(idx, axis=1).astype(np.int64) if a.ndim else
                np.zeros((int(bool(a)), 0), np.int64))


def argwhere(input):
    return nonzero(input)


Tensor.nonzero, Tensor.argwhere = nonzero, argwhere


@op(node="TakeBackward0")
def take(input, index):
    return np.take(input.reshape(-1), index)


@take.backward
def _(ctx, grad, input, index):
    return _index_grad(grad.reshape(-1), (input.numel(),), (index._data.reshape(-1),)
                       ).reshape(input.shape)


@op(node="TakeAlongDimBackward0")
def take_along_dim(input, indices, dim=None):
    if dim is None:
        return np.take(input.reshape(-1), indices.reshape(-1))
    return np.take_along_axis(input, indices, wrap_dim(dim, input.ndim))


@take_along_dim.backward
def _(ctx, grad, input, indices, dim=None):
    from .creation import zeros_like
    if dim is None:
        return _index_grad(grad, (input.numel(),), (indices._data.reshape(-1),)).reshape(
            input.shape)
    full = indices.expand(grad.shape) if indices.shape != grad.shape else indices
    return zeros_like(input).scatter_add(dim, full, grad)


__all__ = ["gather", "scatter", "scatter_add", "index_select", "index_add", "index_fill",
           "masked_fill", "masked_select", "masked_scatter", "nonzero", "argwhere", "take",
           "take_along_dim"]
