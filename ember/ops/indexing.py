"""Indexing: x[key] (views for ints/slices/None/Ellipsis, copies for tensors and masks),
x[key] = v, gather/scatter, index_select/index_add, masked_fill/masked_select, nonzero."""
import numpy as np

from .._tensor import Tensor, wrap
from ..autograd import grad_mode
from ._registry import op, assign_, wrap_int
from ._util import wrap_dim, expand_error, type_name
from .shape import cat


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
            if a.ndim == 0 and a.dtype.kind in "iu" and a.dtype != np.uint8:
                out.append(int(a))          # a 0-dim integer tensor selects, as an int does
                continue
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
        raise IndexError(_index_message(a.shape, key, str(e))) from None


def _index_message(shape, key, message):
    """torch's text for a key that does not fit the shape (NumPy words it differently)."""
    def consumed(ks):
        return sum(k.ndim if isinstance(k, np.ndarray) and k.dtype == np.bool_ else 1
                   for k in ks if k is not None and k is not Ellipsis)
    if consumed(key) > len(shape):
        return f"too many indices for tensor of dimension {len(shape)}"
    cut = next((i for i, k in enumerate(key) if k is Ellipsis), len(key))
    for part, dim in ((key[:cut], 0), (key[cut + 1:], len(shape) - consumed(key[cut + 1:]))):
        for k in part:
            if isinstance(k, np.ndarray) and k.dtype == np.bool_:
                for j, n in enumerate(k.shape):
                    if n != shape[dim + j]:
                        return (f"The shape of the mask {list(k.shape)} at index {j} does not "
                                f"match the shape of the indexed tensor {list(shape)} at index "
                                f"{dim + j}")
            dim += consumed((k,))
    return message.replace("axis", "dimension")


def _basic_node(shape, key, whole):
    """torch applies a basic key one entry at a time and names the node after the last op;
    in a tuple key, a slice over a whole dim is no op (`whole`: the key was not a tuple)."""
    dim, last = 0, "AliasBackward0"
    cut = next((i for i, k in enumerate(key) if k is Ellipsis), len(key))
    for i, k in enumerate(key):
        if i == cut:
            dim = len(shape) - sum(1 for k in key[cut + 1:] if k is not None)
        elif k is None:
            last = "UnsqueezeBackward0"
        elif isinstance(k, slice):
            if whole or k.indices(shape[dim]) != (0, shape[dim], 1):
                last = "SliceBackward0"
            dim += 1
        else:
            last = "SelectBackward0"
            dim += 1
    return last


@op(method=False, saves=False, view=True, node=lambda args: args[2])
def _basic_index(input, key, node):
    """input[key] for a key of ints, slices, None and Ellipsis (a view); `node` is the name
    torch gives the graph node."""
    # a trailing Ellipsis keeps a full integer index a 0-dim view (NumPy gives a copy)
    return _numpy_index(input, key if any(k is Ellipsis for k in key) else key + (Ellipsis,))


@op(method=False, saves=False, node="IndexBackward0")
def _index(input, key):
    return _numpy_index(input, key)


def _getitem_backward(ctx, grad, input, key, node=None):
    return _index_grad(grad, ctx._meta[0][0], key)


for _f in (_basic_index, _index):
    _f.backward(_getitem_backward)


def _basic(self, key, whole=False):
    return _basic_index(self, key, _basic_node(self._data.shape, key, whole))


def _ints_first(key):
    """torch applies the integer entries of a key before its tensor entries (NumPy counts
    them as advanced indices, which moves the result's dims): (basic part, the rest), or None
    when the key has no integer next to its tensors."""
    if not any(isinstance(k, (int, np.integer)) for k in key):
        return None
    first, rest = [], []
    for k in key:
        if isinstance(k, (int, np.integer)):
            first.append(k)
        elif isinstance(k, np.ndarray):
            first.extend([slice(None)] * (k.ndim if k.dtype == np.bool_ else 1))
            rest.append(k)
        else:
            first.append(k)
            rest.append(k if k is Ellipsis else slice(None))
    return tuple(first), tuple(rest)


def __getitem__(self, key):
    """torch indexing: basic keys give views, tensors/lists/masks give copies."""
    k, basic = _convert_key(key)
    if basic:
        return _basic(self, k, not isinstance(key, tuple))
    split = _ints_first(k)
    if split is not None:
        return _index(_basic(self, split[0]), split[1])
    return _index(self, k)


Tensor.__getitem__ = __getitem__


@op(method=False, saves=False, node="IndexPutBackward0")
def _index_grad(grad, shape, key):
    """Zeros of `shape` with `grad` added at `key` (the backward of indexing)."""
    out = np.zeros_like(grad, shape=shape)        # on grad's device (CuPy dispatch)
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
    try:
        out[key] = values
    except ValueError:
        raise _setitem_error(out, key, False, values) from None
    return out


def _setitem_error(a, key, basic, value):
    """torch's error for a value that does not broadcast to a[key]."""
    target, vshape = a[key].shape, np.shape(value)
    if basic:
        return expand_error(target, vshape)
    return RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be "
                        f"broadcast to indexing result of shape {list(target)}")


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
    split = None if basic else _ints_first(k)
    if split is not None:
        return __setitem__(self[split[0]], split[1], value)
    if not isinstance(value, Tensor) and isinstance(value, (list, tuple, np.ndarray)):
        value = wrap(np.asarray(value, dtype=self._data.dtype))
    elif type(value) is int and self._data.dtype.kind in "iu":
        value = wrap_int(value, self._data.dtype)
    if grad_mode._enabled[0] and (self.requires_grad or
                                  isinstance(value, Tensor) and value.requires_grad):
        if self.grad_fn is None and self.requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        if basic:               # as torch: a copy into the view (the base gets CopySlices)
            view = self[key]
            if isinstance(value, Tensor) and expand_error(view.shape, value.shape):
                raise expand_error(view.shape, value.shape)
            view.copy_(value)
            return
        v = value.to(self.dtype) if isinstance(value, Tensor) else value
        assign_(self, _index_put(self, v, k))
        return
    v = value._data if isinstance(value, Tensor) else value
    try:
        self._data[k] = v
    except IndexError as e:
        raise IndexError(_index_message(self._data.shape, k, str(e))) from None
    except ValueError:
        raise _setitem_error(self._data, k, basic, v) from None
    self._vc.value += 1


Tensor.__setitem__ = __setitem__


# -- gather / scatter ------------------------------------------------------------------------
def _check_index(index, name):
    if index.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")


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
    return zeros_like(input).scatter_add(dim, index, grad), None, None


def _scatter_node(args):
    """ScatterBackward0 for a tensor src, 1 for a number; with reduce=, no derivative."""
    if len(args) > 5 and args[5] is not None:
        return "NotImplemented"
    return "ScatterBackward0" if len(args) > 3 and isinstance(args[3], Tensor) else \
        "ScatterBackward1"


def _check_src(input, src, name):
    if isinstance(src, np.ndarray) and src.dtype != input.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")


def _fill_value(value, np_dtype):
    """A Python number written into an integer tensor as torch writes it: an int wraps around,
    a float out of the dtype's range is refused."""
    if np_dtype.kind not in "iu" or type(value) not in (int, float):
        return value
    if type(value) is int:
        return wrap_int(value, np_dtype)
    info = np.iinfo(np_dtype)
    if not info.min <= value <= info.max:
        ctype = {"int32": "int", "int16": "short"}.get(np_dtype.name, np_dtype.name + "_t")
        raise RuntimeError(f"value cannot be converted to type {ctype} without overflow")
    return value


def _src_grad(grad, index, dim, src_shape):
    """The gradient of scatter's src: grad gathered at index, zeros where src was unused."""
    g = grad.gather(dim, index)
    if g.shape == src_shape:
        return g
    return _index_grad(g, src_shape, tuple(slice(0, n) for n in g.shape))


@op(inplace=True, node=_scatter_node)
def scatter(input, dim, index, src=None, value=None, reduce=None):
    """A copy of input with src (or a scalar value, cast to input's dtype) written at index
    along dim."""
    if src is None:
        src = _fill_value(value, input.dtype) if index.size else value
    _check_src(input, src, "scatter")
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
    if reduce is not None:
        raise RuntimeError("derivative for aten::scatter is not implemented")
    need = ctx.needs_input_grad
    gi = grad.scatter(dim, index, 0.0) if need[0] else None
    gs = _src_grad(grad, index, dim, src.shape) if len(need) > 3 and need[3] else None
    return gi, None, None, gs


@op(inplace=True, node="ScatterAddBackward0")
def scatter_add(input, dim, index, src):
    """A copy of input with src added at index along dim (duplicates accumulate)."""
    _check_src(input, src, "scatter")
    _check_index(index, "scatter_add")
    d = wrap_dim(dim, input.ndim)
    out = input.copy()
    np.add.at(out, _grid(index, d), src[tuple(slice(0, n) for n in index.shape)])
    return out


@scatter_add.backward
def _(ctx, grad, input, dim, index, src):
    return grad, None, None, _src_grad(grad, index, dim, src.shape)


@op(node="IndexSelectBackward0")
def index_select(input, dim, index):
    """Rows (along dim) picked by a 1-D index."""
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index.dtype not in (np.int64, np.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
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


@op(promote=(0,), inplace=True, saves=False,
    node=lambda args: "IndexFillBackward1" if isinstance(args[3], Tensor) else
    "IndexFillBackward0")
def index_fill(input, dim, index, value):
    out = input.copy()
    key = [slice(None)] * input.ndim
    key[wrap_dim(dim, input.ndim)] = index
    out[tuple(key)] = _fill_value(value, out.dtype)
    return out


@index_fill.backward
def _(ctx, grad, input, dim, index, value):
    need = ctx.needs_input_grad
    gv = grad.index_select(dim, index).sum() if need[3] else None
    return grad.index_fill(dim, index, 0.0), None, None, gv


@op(inplace=True, node=lambda args: "MaskedFillBackward1" if isinstance(args[2], Tensor) else
    "MaskedFillBackward0")
def masked_fill(input, mask, value):
    """input with value where mask is True (value: a number or a 0-dim tensor)."""
    if mask.dtype != np.bool_:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           + _C_NAMES.get(mask.dtype.name, type_name(mask.dtype).lower()))
    if isinstance(value, np.ndarray) and value.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    value = _fill_value(value, input.dtype)
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


_C_NAMES = {"uint8": "unsigned char", "int8": "signed char"}     # torch prints C type names


@op(node="MaskedSelectBackward0")
def masked_select(input, mask):
    """1-D tensor of the elements where mask (broadcast) is True."""
    if mask.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    a, m = np.broadcast_arrays(input, mask)
    return a[m]


@masked_select.backward
def _(ctx, grad, input, mask):
    shape = np.broadcast_shapes(input.shape, mask.shape)
    return _index_grad(grad, shape, (np.broadcast_to(mask._data, shape),)), None


@op(promote=(0, 2), inplace=True, node="MaskedScatterBackward0")
def masked_scatter(input, mask, source):
    """input with the elements where mask is True taken in order from source."""
    out = input.copy()
    m = np.broadcast_to(mask, input.shape)
    out[m] = source.reshape(-1)[:int(m.sum())]
    return out


@masked_scatter.backward
def _(ctx, grad, input, mask, source):
    need = ctx.needs_input_grad
    gs = None
    if need[2]:
        taken = grad.masked_select(mask)
        n = source.numel()
        from .creation import zeros
        gs = cat([taken, zeros(n - taken.numel(), dtype=grad.dtype)]).reshape(source.shape)
    return grad.masked_fill(mask, 0.0), None, gs


def nonzero(input, *, out=None, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or a tuple of 1-D ones."""
    if out is not None:
        from ._registry import write_out
        return write_out(out, nonzero(input), "nonzero")
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
                       ).reshape(input.shape), None


@op(node="GatherBackward0")
def take_along_dim(input, indices, dim=None):
    if dim is None:
        return np.take(input.reshape(-1), indices.reshape(-1))
    return np.take_along_axis(input, indices, wrap_dim(dim, input.ndim))


@take_along_dim.backward
def _(ctx, grad, input, indices, dim=None):
    from .creation import zeros_like
    if dim is None:
        return _index_grad(grad, (input.numel(),), (indices._data.reshape(-1),)).reshape(
            input.shape), None
    full = indices.expand(grad.shape) if indices.shape != grad.shape else indices
    return zeros_like(input).scatter_add(dim, full, grad), None


__all__ = ["gather", "scatter", "scatter_add", "index_select", "index_add", "index_fill",
           "masked_fill", "masked_select", "masked_scatter", "nonzero", "argwhere", "take",
           "take_along_dim"]
