"""Pooling over 2-D planes: max (with torch's flat indices), average (ceil_mode, padding
counting, divisor override), adaptive average / max, and max-unpooling. 1-D pooling is the 2-D
op on an unsqueezed input, as in torch.

Windows are strided slices of the padded input (one per kernel element), so a 2x2 max pool
is three np.maximum calls. Each backward is an op whose own backward is the forward's
adjoint, so double backward works.
"""
import numpy as np

from ..backend import numpy as kernels
from ._registry import op
from .conv import _ntuple


def _pool_size(n, k, s, p, d, ceil_mode):
    """Output length of a pooling window sweep (torch's rule: with ceil_mode, the last window
    must start inside the input or its left padding)."""
    span = n + 2 * p - d * (k - 1) - 1
    o = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


def pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, name):
    """Geometry of a pooling op on the last two dims, with torch's checks and messages."""
    for what, v in (("kernel_size", kernel_size), ("stride", stride), ("padding", padding),
                    ("dilation", dilation)):
        if isinstance(v, (list, tuple)) and len(v) not in ((0, 1, 2) if what == "stride"
                                                           else (1, 2)):
            raise RuntimeError(f"{name}: {what} must either be "
                               + ("omitted, " if what == "stride" else "")
                               + "a single int, or a tuple of two ints")
    k = _ntuple(kernel_size, 2)
    s = _ntuple(stride, 2) if stride not in (None, (), []) else k
    p, d = _ntuple(padding, 2), _ntuple(dilation, 2)
    if input.ndim not in (3, 4) or input.size == 0 and input.shape[-1] * input.shape[-2] == 0:
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    if 0 in s:
        raise RuntimeError("stride should not be zero")
    if min(d) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} "
                           f"dilationW: {d[1]}")
    for pi, ki, di in zip(p, k, d):
        if pi > (di * (ki - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pi}, kernel_size={ki} and dilation={di}")
    spatial = input.shape[-2:]
    out = tuple(_pool_size(n, ki, si, pi, di, ceil_mode)
                for n, ki, si, pi, di in zip(spatial, k, s, p, d))
    if min(out) < 1:
        c = input.shape[-3]
        raise RuntimeError(f"Given input size: ({c}x{spatial[0]}x{spatial[1]}). Calculated "
                           f"output size: ({c}x{out[0]}x{out[1]}). Output size is too small")
    hi = tuple(max(0, (o - 1) * si + di * (ki - 1) + 1 - n - pi)
               for o, si, di, ki, n, pi in zip(out, s, d, k, spatial, p))
    return kernels.ConvGeometry(spatial, k, s, p, hi, d, out, flat=False)


def _planes(x):
    """View a (C, H, W) or (N, C, H, W) array as (N, C, H, W)."""
    return x if x.ndim == 4 else x[None]


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


# -- max pooling -----------------------------------------------------------------------------
@op(ctx=True, method=False, node="MaxPool2DWithIndicesBackward0")
def _max_pool2d(ctx, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    """Max over each window (nan propagates); with return_indices also the flat index of the
    maximum in its (H, W) plane."""
    g = pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    x = _planes(input)
    xp = kernels.padded(x, g.lo, g.hi, fill=_lowest(x.dtype))[1]
    out = kernels.max_pool(xp, g)
    ctx.out = out.copy()          # a later in-place op on the output must not change backward
    if input.ndim == 3:
        out = out[0]
    if not return_indices:
        return out
    w = x.shape[-1]
    base = ((np.arange(g.O[0]) * g.s[0] - g.lo[0]) * w)[:, None] + \
        (np.arange(g.O[1]) * g.s[1] - g.lo[1])
    idx = np.empty(ctx.out.shape, np.int64)
    for (i, j), _, hit in kernels.pool_hits(xp, ctx.out, g):
        np.copyto(idx, base + (i * g.d[0] * w + j * g.d[1]), where=hit)
    return out, idx.reshape(out.shape)


@_max_pool2d.backward
def _(ctx, grad, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    if return_indices:
        grad = grad[0]
    return _max_pool2d_backward(grad, input, ctx.out, kernel_size, stride, padding, dilation,
                                ceil_mode)


@op(method=False, node="MaxPool2DWithIndicesBackwardBackward0")
def _max_pool2d_backward(grad, input, out, kernel_size, stride, padding, dilation, ceil_mode):
    """Each output's gradient routed to the (first) maximum of its window."""
    g = pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    x, gy = _planes(input), _planes(grad)
    xp = kernels.padded(x, g.lo, g.hi, fill=_lowest(x.dtype))[1]
    gp = np.zeros(xp.shape, grad.dtype)
    for _, sl, hit in kernels.pool_hits(xp, out, g):
        view = gp[sl]
        np.add(view, gy, out=view, where=hit)
    return gp[g.crop_in].reshape(input.shape)


@_max_pool2d_backward.backward
def _(ctx, gg, grad, input, out, kernel_size, stride, padding, dilation, ceil_mode):
    return _max_pool2d_select(gg, input, out, kernel_size, stride, padding, dilation, ceil_mode)


@op(method=False, node="MaxPool2DWithIndicesBackwardBackward0")
def _max_pool2d_select(gg, input, out, kernel_size, stride, padding, dilation, ceil_mode):
    """The adjoint of _max_pool2d_backward: gg read at each window's maximum."""
    g = pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    x = _planes(input)
    xp = kernels.padded(x, g.lo, g.hi, fill=_lowest(x.dtype))[1]
    ggp = kernels.padded(_planes(gg), g.lo, g.hi)[1]
    res = np.zeros(out.shape, gg.dtype)
    for _, sl, hit in kernels.pool_hits(xp, out, g):
        np.copyto(res, ggp[sl], where=hit)
    return res if input.ndim == 4 else res[0]


@_max_pool2d_select.backward
def _(ctx, grad, gg, input, out, kernel_size, stride, padding, dilation, ceil_mode):
    return _max_pool2d_backward(grad, input, out, kernel_size, stride, padding, dilation,
                                ceil_mode)


# -- average pooling -------------------------------------------------------------------------
def _avg_setup(shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
               divisor_override):
    """Geometry and divisor (a number, or an (OH, OW) array where windows are clipped)."""
    probe = np.empty(shape, np.bool_)
    g = pool_geometry(probe, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        return g, divisor_override
    counts = []
    for n, k, s, p, o in zip(g.spatial, g.K, g.s, g.lo, g.O):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        counts.append(end - start if count_include_pad else
                      np.minimum(end, n) - np.maximum(start, 0))
    div = np.outer(counts[0], counts[1])
    return g, (int(div.flat[0]) if (div == div.flat[0]).all() else div)


@op(saves=False, method=False, node="AvgPool2DBackward0")
def _avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
    """Mean over each window (torch's divisor rules)."""
    g, div = _avg_setup(input.shape, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override)
    xp = kernels.padded(_planes(input), g.lo, g.hi)[1]
    out = kernels.window_sum(xp, g)
    out /= np.asarray(div, out.dtype) if isinstance(div, np.ndarray) else div
    return out if input.ndim == 4 else out[0]


@_avg_pool2d.backward
def _(ctx, grad, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
      divisor_override):
    return _avg_pool2d_backward(grad, ctx._meta[0][0], kernel_size, stride, padding, ceil_mode,
                                count_include_pad, divisor_override)


@op(saves=False, method=False, node="AvgPool2DBackwardBackward0")
def _avg_pool2d_backward(grad, shape, kernel_size, stride, padding, ceil_mode,
                         count_include_pad, divisor_override):
    """Each output's gradient / divisor spread over its window."""
    g, div = _avg_setup(shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override)
    gy = _planes(grad) / (np.asarray(div, grad.dtype) if isinstance(div, np.ndarray) else div)
    return kernels.window_spread(gy.astype(grad.dtype, copy=False), g)[g.crop_in] \
        .reshape(shape)


@_avg_pool2d_backward.backward
def _(ctx, gg, grad, shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
      divisor_override):
    return _avg_pool2d(gg, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


# -- adaptive pooling ------------------------------------------------------------------------
def adaptive_bounds(n_in, n_out):
    """torch's adaptive windows: [floor(i * n / o), ceil((i + 1) * n / o))."""
    i = np.arange(n_out)
    return (i * n_in) // n_out, -(-((i + 1) * n_in) // n_out)


def _adaptive_matrix(n_in, n_out, dtype):
    """(n_out, n_in) matrix averaging each adaptive window."""
    start, end = adaptive_bounds(n_in, n_out)
    j = np.arange(n_in)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


@op(method=False, node="AdaptiveAvgPool2DBackward0")
def _adaptive_avg_pool2d(input, output_size):
    """Mean over torch's adaptive windows: A_h @ x @ A_w^T (the windows are separable)."""
    ah = _adaptive_matrix(input.shape[-2], output_size[0], input.dtype)
    aw = _adaptive_matrix(input.shape[-1], output_size[1], input.dtype)
    return np.matmul(np.matmul(ah, input), aw.T)


@_adaptive_avg_pool2d.backward
def _(ctx, grad, input, output_size):
    from .._tensor import wrap
    ah = _adaptive_matrix(input.shape[-2], output_size[0], grad._data.dtype)
    aw = _adaptive_matrix(input.shape[-1], output_size[1], grad._data.dtype)
    return wrap(ah.T).matmul(grad).matmul(wrap(aw))


@op(ctx=True, method=False, node="AdaptiveMaxPool2DBackward0")
def _adaptive_max_pool2d(ctx, input, output_size):
    """Max over torch's adaptive windows and its flat index in the (H, W) plane."""
    h, w = input.shape[-2:]
    idx = []
    for n, o in ((h, output_size[0]), (w, output_size[1])):
        start, end = adaptive_bounds(n, o)
        # positions past a window's end repeat its last element: the max is unchanged and
        # the first maximum keeps its place
        idx.append(np.minimum(start[:, None] + np.arange((end - start).max()), end[:, None] - 1))
    rows, cols = idx
    oh, kh = rows.shape
    ow, kw = cols.shape
    win = input[..., rows[:, :, None, None], cols]                  # (.., OH, kh, OW, kw)
    win = np.moveaxis(win, -3, -2).reshape(win.shape[:-4] + (oh, ow, kh * kw))
    arg = win.argmax(-1)
    out = np.take_along_axis(win, arg[..., None], -1)[..., 0]
    ctx.indices = rows[np.arange(oh)[:, None], arg // kw] * w + cols[np.arange(ow), arg % kw]
    return out, ctx.indices


@_adaptive_max_pool2d.backward
def _(ctx, grad, input, output_size):
    return _index_pool_backward(grad[0], ctx.indices, input.shape)


def _flat_planes(a, plane_dims):
    """a viewed as (planes, elements of a plane), the plane being its last `plane_dims` dims."""
    return a.reshape(-1, int(np.prod(a.shape[a.ndim - plane_dims:])))


@op(saves=False, method=False, node="AdaptiveMaxPool2DBackwardBackward0")
def _index_pool_backward(grad, indices, shape):
    """Zeros of `shape` with each grad added at its flat index in its (H, W) plane."""
    out = np.zeros((int(np.prod(shape[:-2])), shape[-2] * shape[-1]), grad.dtype)
    rows = np.arange(out.shape[0])[:, None]
    np.add.at(out, (rows, _flat_planes(indices, 2)), _flat_planes(grad, 2))
    return out.reshape(shape)


@_index_pool_backward.backward
def _(ctx, gg, grad, indices, shape):
    return _plane_gather(gg, indices)


@op(saves=False, method=False, node="MaxUnpool2DBackwardBackward0")
def _plane_gather(input, indices):
    """input read at flat (H, W)-plane indices: the adjoint of scattering to them."""
    got = np.take_along_axis(_flat_planes(input, 2), _flat_planes(indices, 2), 1)
    return got.reshape(indices.shape)


@_plane_gather.backward
def _(ctx, grad, input, indices):
    return _index_pool_backward(grad, indices, ctx._meta[0][0])


@op(saves=False, method=False, node="MaxUnpool2DBackward0")
def _max_unpool2d(input, indices, output_size):
    """Zeros of (.., *output_size) with each input value written at its flat plane index."""
    h, w = output_size
    if indices.size and (indices.min() < 0 or indices.max() >= h * w):
        bad = indices.max() if indices.max() >= h * w else indices.min()
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{h}x{w}")
    out = np.zeros((int(np.prod(input.shape[:-2])), h * w), input.dtype)
    np.put_along_axis(out, _flat_planes(indices, 2), _flat_planes(input, 2), 1)
    return out.reshape(input.shape[:-2] + (h, w))


@_max_unpool2d.backward
def _(ctx, grad, input, indices, output_size):
    return _plane_gather(grad, indices)
