"""Pooling over 1-3 spatial dims: max (with torch's flat indices), average (ceil_mode, padding
counting, divisor override), adaptive average / max and max-unpooling. The kernel, stride,
padding and dilation arrive as tuples (one entry per spatial dim); the input is batched
(N, C, *S) or not (C, *S).

Windows are strided slices of the padded input, one per kernel element, so a 2x2 max pool is
three np.maximum calls. Each backward is an op whose own backward is the forward's adjoint,
so double backward works.
"""
import functools

import numpy as np

from .._tensor import wrap
from ..backend import kernels
from ._registry import op


def _pool_size(n, k, s, p, d, ceil_mode):
    """Output length of a window sweep (torch's rule: with ceil_mode, the last window must
    start inside the input or its left padding)."""
    span = n + 2 * p - d * (k - 1) - 1
    o = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


@functools.lru_cache(maxsize=512)
def pool_geometry(shape, kernel, stride, padding, dilation, ceil_mode):
    """Geometry of a pooling op on the last len(kernel) dims of `shape`, with torch's checks;
    the right padding is extended for ceil_mode's partial windows."""
    nd = len(kernel)
    if 0 in stride:
        raise RuntimeError("stride should not be zero")
    if min(dilation) <= 0:
        names = ("dilationT", "dilationH", "dilationW")[-nd:] if nd > 1 else ("dilation",)
        raise RuntimeError("dilation should be greater than zero, but got " + " ".join(
            f"{n}: {v}" for n, v in zip(names, dilation)))
    for p, k, d in zip(padding, kernel, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    if any(2 * p > k for p, k in zip(padding, kernel)):
        names = "THW"[-nd:]
        raise RuntimeError("pad should be smaller than or equal to half of kernel size, but got "
                           + ", ".join(f"pad{n} = {p}" for n, p in zip(names[::-1],
                                                                        padding[::-1])) + ", "
                           + ", ".join(f"k{n} = {k}" for n, k in zip(names[::-1],
                                                                      kernel[::-1])))
    spatial = tuple(shape[-nd:])
    out = tuple(_pool_size(*a, ceil_mode) for a in zip(spatial, kernel, stride, padding,
                                                        dilation))
    if min(out) < 1:
        c = shape[-nd - 1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (c,) + spatial))}). "
                           f"Calculated output size: ({'x'.join(map(str, (c,) + out))}). "
                           "Output size is too small")
    hi = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - n - p)
               for o, s, d, k, n, p in zip(out, stride, dilation, kernel, spatial, padding))
    return kernels.ConvGeometry(spatial, kernel, stride, padding, hi, dilation, out, flat=False)


def _batched(x, nd):
    """View an unbatched (C, *S) array as (1, C, *S)."""
    return x if x.ndim == nd + 2 else x[None]


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _pitches(spatial):
    """Strides (in elements) of a C-contiguous array of shape `spatial`."""
    return tuple(int(np.prod(spatial[i + 1:])) for i in range(len(spatial)))


# -- max pooling -----------------------------------------------------------------------------
def _max_node(args):
    return f"MaxPool{len(args[1])}DWithIndicesBackward0"


def _max_padded(input, g, nd):
    x = _batched(input, nd)
    return kernels.padded(x, g.lo, g.hi, fill=_lowest(x.dtype))[1]


@op(ctx=True, method=False, node=_max_node)
def _max_pool(ctx, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    """Max over each window (nan propagates); with return_indices also the flat index of the
    maximum in its input plane."""
    nd = len(kernel_size)
    g = pool_geometry(input.shape, kernel_size, stride, padding, dilation, ceil_mode)
    xp = _max_padded(input, g, nd)
    out = kernels.max_pool(xp, g)
    ctx.out = out.copy()          # a later in-place op on the output must not change backward
    if input.ndim == nd + 1:
        out = out[0]
    if not return_indices:
        return out
    pitch = _pitches(g.spatial)
    base = 0
    for o, s, lo, p in zip(g.O, g.s, g.lo, pitch):
        base = np.add.outer(base, (np.arange(o) * s - lo) * p)
    idx = np.broadcast_to(base, ctx.out.shape).copy()
    for k, _, hit in kernels.pool_hits(xp, ctx.out, g):
        idx += hit * sum(i * d * p for i, d, p in zip(k, g.d, pitch))
    return out, idx.reshape(out.shape)


@_max_pool.backward
def _(ctx, grad, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    if return_indices:
        grad = grad[0]
    return _max_pool_backward(grad, input, ctx.out, kernel_size, stride, padding, dilation,
                              ceil_mode)


@op(method=False, node="MaxPoolBackwardBackward0")
def _max_pool_backward(grad, input, out, kernel_size, stride, padding, dilation, ceil_mode):
    """Each output's gradient routed to the (first) maximum of its window."""
    nd = len(kernel_size)
    g = pool_geometry(input.shape, kernel_size, stride, padding, dilation, ceil_mode)
    xp = _max_padded(input, g, nd)
    gp = kernels.max_pool_backward(xp, out, _batched(grad, nd), g)
    return gp[g.crop_in].reshape(input.shape)


@_max_pool_backward.backward
def _(ctx, gg, grad, input, out, kernel_size, stride, padding, dilation, ceil_mode):
    return _max_pool_select(gg, input, out, kernel_size, stride, padding, dilation,
                            ceil_mode), None


@op(method=False, node="MaxPoolBackwardBackward0")
def _max_pool_select(gg, input, out, kernel_size, stride, padding, dilation, ceil_mode):
    """The adjoint of _max_pool_backward: gg read at each window's maximum."""
    nd = len(kernel_size)
    g = pool_geometry(input.shape, kernel_size, stride, padding, dilation, ceil_mode)
    xp = _max_padded(input, g, nd)
    ggp = kernels.padded(_batched(gg, nd), g.lo, g.hi)[1]
    res = np.zeros(out.shape, gg.dtype)
    for _, sl, hit in kernels.pool_hits(xp, out, g):
        res += ggp[sl] * hit
    return res if input.ndim == nd + 2 else res[0]


@_max_pool_select.backward
def _(ctx, grad, gg, input, out, kernel_size, stride, padding, dilation, ceil_mode):
    return _max_pool_backward(grad, input, out, kernel_size, stride, padding, dilation,
                              ceil_mode), None


# -- average pooling -------------------------------------------------------------------------
@functools.lru_cache(maxsize=512)
def _avg_setup(shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
               divisor_override):
    """Geometry and divisor (a number, or an array over the output where windows are
    clipped)."""
    g = pool_geometry(shape, kernel_size, stride, padding, (1,) * len(kernel_size), ceil_mode)
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        return g, divisor_override
    div = 1
    for n, k, s, p, o in zip(g.spatial, g.K, g.s, g.lo, g.O):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        count = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        div = np.multiply.outer(div, count)
    return g, (int(div.flat[0]) if (div == div.flat[0]).all() else div)


def _divided(a, div):
    if isinstance(div, np.ndarray):
        return a / div.astype(a.dtype)
    return a / np.asarray(div, a.dtype)


def _avg_node(args):
    return f"AvgPool{len(args[1])}DBackward0"


@op(saves=False, method=False, node=_avg_node)
def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    """Mean over each window (torch's divisor rules)."""
    nd = len(kernel_size)
    g, div = _avg_setup(input.shape, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override)
    xp = kernels.padded(_batched(input, nd), g.lo, g.hi)[1]
    out = _divided(kernels.window_sum(xp, g), div)
    return out if input.ndim == nd + 2 else out[0]


@_avg_pool.backward
def _(ctx, grad, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
      divisor_override):
    return _avg_pool_backward(grad, ctx._meta[0][0], kernel_size, stride, padding, ceil_mode,
                              count_include_pad, divisor_override)


@op(saves=False, method=False, node="AvgPoolBackwardBackward0")
def _avg_pool_backward(grad, shape, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override):
    """Each output's gradient / divisor spread over its window."""
    g, div = _avg_setup(shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override)
    gy = _divided(_batched(grad, len(kernel_size)), div)
    return kernels.window_spread(gy, g)[g.crop_in].reshape(shape)


@_avg_pool_backward.backward
def _(ctx, gg, grad, shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
      divisor_override):
    return _avg_pool(gg, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# -- adaptive pooling ------------------------------------------------------------------------
def adaptive_bounds(n_in, n_out):
    """torch's adaptive windows: [floor(i * n / o), ceil((i + 1) * n / o))."""
    i = np.arange(n_out)
    return (i * n_in) // n_out, -(-((i + 1) * n_in) // n_out)


def _adaptive_matrices(spatial, output_size, dtype):
    """Per spatial dim, the (out, in) matrix averaging each adaptive window: the windows are
    separable, so adaptive average pooling is one small matmul per dim."""
    mats = []
    for n, o in zip(spatial, output_size):
        start, end = adaptive_bounds(n, o)
        j = np.arange(n)
        inside = (j >= start[:, None]) & (j < end[:, None])
        mats.append((inside / (end - start)[:, None]).astype(dtype))
    return mats


def _adaptive_avg_node(args):
    return f"AdaptiveAvgPool{len(args[1])}DBackward0"


@op(method=False, node=_adaptive_avg_node)
def _adaptive_avg_pool(input, output_size):
    """Mean over torch's adaptive windows."""
    nd = len(output_size)
    out = input
    for axis, m in zip(range(-nd, 0), _adaptive_matrices(input.shape[-nd:], output_size,
                                                          input.dtype)):
        out = np.moveaxis(np.moveaxis(out, axis, -1) @ m.T, -1, axis)
    return np.ascontiguousarray(out)


@_adaptive_avg_pool.backward
def _(ctx, grad, input, output_size):
    nd = len(output_size)
    for axis, m in zip(range(-nd, 0), _adaptive_matrices(input.shape[-nd:], output_size,
                                                          grad._data.dtype)):
        grad = grad.movedim(axis, -1).matmul(wrap(m)).movedim(-1, axis)
    return grad


def _adaptive_max_node(args):
    return f"AdaptiveMaxPool{len(args[1])}DBackward0"


@op(ctx=True, method=False, node=_adaptive_max_node)
def _adaptive_max_pool(ctx, input, output_size):
    """Max over torch's adaptive windows and its flat index in the input plane."""
    nd = len(output_size)
    spatial = input.shape[-nd:]
    rows, key = [], []
    for i, (n, o) in enumerate(zip(spatial, output_size)):
        start, end = adaptive_bounds(n, o)
        # positions past a window's end repeat its last element: the max is unchanged and
        # the first maximum keeps its place
        r = np.minimum(start[:, None] + np.arange((end - start).max()), end[:, None] - 1)
        rows.append(r)
        shape = [1] * (2 * nd)
        shape[2 * i], shape[2 * i + 1] = r.shape
        key.append(r.reshape(shape))
    win = input[(Ellipsis,) + tuple(key)]                     # (.., O1, k1, O2, k2, ..)
    lead = win.ndim - 2 * nd
    order = tuple(range(lead)) + tuple(lead + 2 * i for i in range(nd)) + \
        tuple(lead + 2 * i + 1 for i in range(nd))
    ks = tuple(r.shape[1] for r in rows)
    win = win.transpose(order).reshape(win.shape[:lead] + tuple(output_size) + (-1,))
    arg = win.argmax(-1)
    out = np.take_along_axis(win, arg[..., None], -1)[..., 0]
    flat = 0
    for i, (r, k, p) in enumerate(zip(rows, np.unravel_index(arg, ks), _pitches(spatial))):
        grid = np.arange(r.shape[0]).reshape((-1,) + (1,) * (nd - 1 - i))
        flat = flat + r[grid, k] * p
    ctx.indices = flat
    return out, flat


@_adaptive_max_pool.backward
def _(ctx, grad, input, output_size):
    return _index_pool_backward(grad[0], ctx.indices, input.shape, len(output_size))


def _planes(a, nd):
    """a viewed as (planes, elements of a plane), a plane being its last nd dims."""
    return a.reshape(-1, int(np.prod(a.shape[a.ndim - nd:])))


@op(saves=False, method=False, node="AdaptiveMaxPoolBackwardBackward0")
def _index_pool_backward(grad, indices, shape, nd):
    """Zeros of `shape` with each grad added at its flat index in its input plane."""
    out = np.zeros((int(np.prod(shape[:-nd])), int(np.prod(shape[-nd:]))), grad.dtype)
    rows = np.arange(out.shape[0])[:, None]
    np.add.at(out, (rows, _planes(indices, nd)), _planes(grad, nd))
    return out.reshape(shape)


@_index_pool_backward.backward
def _(ctx, gg, grad, indices, shape, nd):
    return _plane_gather(gg, indices, nd), None


@op(saves=False, method=False, node="MaxUnpoolBackwardBackward0")
def _plane_gather(input, indices, nd):
    """input read at flat plane indices: the adjoint of scattering to them."""
    got = np.take_along_axis(_planes(input, nd), _planes(indices, nd), 1)
    return got.reshape(indices.shape)


@_plane_gather.backward
def _(ctx, grad, input, indices, nd):
    return _index_pool_backward(grad, indices, ctx._meta[0][0], nd), None


def _unpool_node(args):
    return f"MaxUnpool{len(args[2])}DBackward0"


@op(saves=False, method=False, node=_unpool_node)
def _max_unpool(input, indices, output_size):
    """Zeros of (.., *output_size) with each input value written at its flat plane index."""
    nd = len(output_size)
    size = int(np.prod(output_size))
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        bad = indices.max() if indices.max() >= size else indices.min()
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(map(str, output_size))}")
    out = np.zeros((int(np.prod(input.shape[:-nd])), size), input.dtype)
    np.put_along_axis(out, _planes(indices, nd), _planes(input, nd), 1)
    return out.reshape(input.shape[:-nd] + tuple(output_size))


@_max_unpool.backward
def _(ctx, grad, input, indices, output_size):
    return _plane_gather(grad, indices, len(output_size)), None
