"""numba kernels (the `ember[fast]` extra) for 1-D and 2-D convolution and max pooling, with the
signatures and results of backend/numpy.py (the kernels themselves: conv.py, pool.py).

Covered: float32 / float64 NumPy arrays, 1 or 2 spatial dims (1-D runs as 2-D of height 1),
any kernel size / stride / padding / dilation; convolutions with groups=1 and not 1x1 without
padding. Everything else (float16, integers, CuPy arrays, 3-D, grouped convolutions, 1x1
convolutions, which NumPy's kernels do as a plain GEMM) is handed to the NumPy kernel.

Convolutions take one of two routes:
- direct (stride 1, few channels: LeNet-sized layers): each output is a weighted sum of shifted
  whole rows of the zero-padded input; two output channels are computed per pass over the
  input, so that one load feeds two multiply-adds and the inner loop is long and contiguous.
- im2row + GEMM (everything else): a parallel loop copies every output position's window into
  a row of a matrix, NumPy's matmul (BLAS, multi-threaded) does the products, and a parallel
  loop adds the rows' gradients back (row2im). The batch is done a block of samples at a time
  so that the rows stay in cache and the buffer stays small.

Sums are reassociated (`fastmath` reassoc/contract only: nan and inf propagate as in torch), so
results agree with torch to float rounding. Sizes are arguments, never compile-time constants:
each kernel compiles once per dtype, on first use, and is cached on disk (`cache=True`).

Threads: the kernels run on numba's threads (one per core), sleeping between kernels
(OMP_WAIT_POLICY=PASSIVE unless set), a small kernel on the calling thread alone; a forked
child uses the NumPy kernels. Scratch arrays (padded planes, rows) are kept per thread.
"""
import functools
import os
import threading

# numba's OpenMP threads must sleep, not spin, between parallel loops: spinning, they take
# the cores from OpenBLAS's threads in the GEMMs that follow (ResNet-18 step 4x slower). Set
# before numba loads its threading layer; a value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402
import numpy as np  # noqa: E402

from .. import numpy as _reference  # noqa: E402
from .conv import _correlate, _correlate_weight, _im2row, _pad, _row2im  # noqa: E402
from .pool import _max_pool, _max_pool_backward, _max_pool_backward_2x2  # noqa: E402

_ROWS_BYTES = 1 << 23           # im2row buffer per block of samples (8 MiB)
_DIRECT_CHANNELS = 1024         # the direct route up to C * Co of this (LeNet: 18 and 96)
_SERIAL_NS = 100_000         # kernels estimated shorter than this run on one thread


# -- what is covered -------------------------------------------------------------------------
def _covered(*arrays):
    """True when the numba kernels handle these arrays (float32 / float64 NumPy arrays of one
    dtype, 1 or 2 spatial dims)."""
    a = arrays[0]
    return (all(type(b) is np.ndarray and b.dtype == a.dtype for b in arrays)
            and a.dtype in (np.float32, np.float64) and a.ndim in (3, 4))


def _conv_covered(g, groups, *arrays):
    """True for the convolutions the numba kernels do: ungrouped, not 1x1 without padding (a
    plain GEMM over (strided) planes, which NumPy's kernels do without copying columns)."""
    pointwise = all(k == 1 for k in g.K) and not any(g.lo + g.hi)
    return groups == 1 and not pointwise and _covered(*arrays)


def _shape_2d(shape):
    """(N, C, L) as (N, C, 1, L)."""
    return tuple(shape) if len(shape) == 4 else (shape[0], shape[1], 1, shape[2])


def _as_2d(a):
    """a with 2 spatial dims, C-contiguous (the kernels are compiled for C-order arrays)."""
    return np.ascontiguousarray(a.reshape(_shape_2d(a.shape)))


def _params(g):
    """The geometry's kernel, stride, padding lo / hi, dilation, output and input sizes as
    (height, width) pairs (a 1-D geometry is 2-D of height 1)."""
    if len(g.K) == 2:
        return g.K, g.s, g.lo, g.hi, g.d, g.O, g.spatial
    return tuple((e,) + v for e, v in zip((1, 1, 0, 0, 1, 1, 1),
                                          (g.K, g.s, g.lo, g.hi, g.d, g.O, g.spatial)))


def _direct(g, c, co):
    """The direct route for stride 1 and few channels (where BLAS, fed by im2row, does not
    reach its speed); the GEMM route otherwise."""
    return all(s == 1 for s in g.s) and c * co <= _DIRECT_CHANNELS


_local = threading.local()


def _scratch(name, shape, dtype):
    """An uninitialised array in this thread's buffer `name`, kept from call to call: glibc
    hands large freed blocks back to the system, and a fresh array then takes a page fault
    per 4 KiB it touches, which costs as much as the copy that fills it (x5 for the padding
    of LeNet's second conv)."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    buf = getattr(_local, name, None)
    if buf is None or buf.size < nbytes:
        buf = np.empty(nbytes, np.uint8)
        setattr(_local, name, buf)
    return buf[:nbytes].view(dtype).reshape(shape)


def _channels_last(a):
    """(N, C, H, W) as a contiguous (N, H, W * C), in scratch."""
    n, c, h, w = a.shape
    out = _scratch("channels_last", (n, h, w, c), a.dtype)
    out[:] = a.transpose(0, 2, 3, 1)
    return out.reshape(n, h, w * c)


def _grad_columns(gy, n0, n1):
    """gy[n0:n1] (N, Co, *O) as (Co, N * Q), one column per output position of the block, in
    scratch."""
    co = gy.shape[1]
    out = _scratch("columns", (co, n1 - n0, gy[0, 0].size), gy.dtype)
    out[:] = gy[n0:n1].reshape(n1 - n0, co, -1).transpose(1, 0, 2)
    return out.reshape(co, -1)


def _blocks(n, q, ck, itemsize):
    """Sample ranges whose im2row rows take about _ROWS_BYTES."""
    return _reference._blocks(0, n, q * ck * itemsize, _ROWS_BYTES)


# -- the kernels of backend/numpy.py ---------------------------------------------------------
def _run(kernel, work, *args):
    """kernel(*args) on numba's threads, or on this thread alone when `work` (about the
    kernel's time in ns on one core) is under _SERIAL_NS: waking the sleeping threads costs
    30-50 us, more than half of that."""
    if work >= _SERIAL_NS:
        kernel(*args)
        return
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        kernel(*args)
    finally:
        numba.set_num_threads(threads)


def _padded(a, lo, hi):
    """a (N, C, H, W) zero-padded by lo / hi: a flat buffer (no copy without padding) and
    the padded plane's (height, width)."""
    n, c, h, w = a.shape
    hp, wp = h + lo[0] + hi[0], w + lo[1] + hi[1]
    if (hp, wp) == (h, w):
        return a.reshape(-1), (h, w)
    out = _scratch("padded", (n * c, hp, wp), a.dtype)
    _run(_pad, out.size, a.reshape(n * c, h, w), out, lo[0], lo[1])
    return out.reshape(-1), (hp, wp)


@functools.lru_cache(maxsize=256)
def _taps(chans, kh, kw, dh, dw, height, width):
    """Offset of every weight element (channel, kernel row, kernel column) in a sample of
    `chans` planes of height x width."""
    c, a, b = np.ogrid[:chans, :kh, :kw]
    return ((c * height + a * dh) * width + b * dw).ravel()


def _direct_correlate(x4, wt, out, kernel, d, lo, hi, r0=0, c0=0):
    """_correlate of x4 (N, C, H, W), padded by lo / hi, with wt (O, C * kh * kw)."""
    buf, (hp, wp) = _padded(x4, lo, hi)
    n, c = x4.shape[:2]
    offs = _taps(c, *kernel, *d, hp, wp)
    work = n * wt.size * ((out.shape[2] - 1) * wp + out.shape[3]) // 32
    _run(_correlate, work, buf, c * hp * wp, offs, wt, out, wp, r0, c0)


def _strides(co, c, kk, nq):
    """The rows' column strides (cs, ks): the weight's own order where the weight is larger
    than the rows (nq of them), else channels last."""
    return (kk, 1) if co > nq else (1, c)


def _weight_matrix(w4, strides):
    """w (Co, C, kh, kw) as (Co, C * kh * kw), its columns in the rows' order."""
    if strides[0] != 1:
        return w4.reshape(w4.shape[0], -1)
    return np.ascontiguousarray(w4.transpose(0, 2, 3, 1)).reshape(w4.shape[0], -1)


def _rows(xt, n0, n1, c, g2, strides):
    """The im2row rows of samples n0..n1 of the channels-last xt."""
    (kh, kw), s, lo, _, d, (oh, ow), _ = g2
    rows = _scratch("rows", ((n1 - n0) * oh * ow, kh * kw * c), xt.dtype)
    _run(_im2row, rows.size, xt, n0, rows, c, *strides, kh, kw, *s, *lo, *d, oh, ow)
    return rows


def conv_forward(x, w, g, groups):
    """Cross-correlation of x (N, C, *S) with w (Co, C, *K): (N, Co, *O)."""
    if not _conv_covered(g, groups, x, w):
        return _reference.conv_forward(x, w, g, groups)
    g2 = (kh, kw), s, lo, hi, d, (oh, ow), _ = _params(g)
    x4, w4 = _as_2d(x), _as_2d(w)
    n, c = x4.shape[:2]
    co = w.shape[0]
    y = np.empty((n, co, oh, ow), x.dtype)
    if _direct(g, c, co):
        _direct_correlate(x4, w4.reshape(co, -1), y, (kh, kw), d, lo, hi)
    else:
        xt = _channels_last(x4)
        strides = _strides(co, c, kh * kw, n * oh * ow)
        wr = _weight_matrix(w4, strides)
        for n0, n1 in _blocks(n, oh * ow, wr.shape[1], x.itemsize):
            rows = _rows(xt, n0, n1, c, g2, strides)
            prod = np.matmul(rows, wr.T, out=_scratch("product", (len(rows), co), x.dtype))
            y[n0:n1] = prod.reshape(n1 - n0, oh, ow, co).transpose(0, 3, 1, 2)
    return y.reshape((n, co) + g.O)


def conv_input_grad(gy, w, shape, g, groups):
    """Gradient of conv_forward with respect to x (of `shape`); also the transposed conv."""
    if not _conv_covered(g, groups, gy, w):
        return _reference.conv_input_grad(gy, w, shape, g, groups)
    (kh, kw), s, lo, hi, d, (oh, ow), _ = _params(g)
    g4, w4 = _as_2d(gy), _as_2d(w)
    n, c, h, wd = _shape_2d(shape)
    co = w.shape[0]
    gx = np.empty((n, c, h, wd), gy.dtype)
    if _direct(g, c, co):
        # the full correlation of gy with the flipped kernel, on the padded input's grid
        # (rows lo[0].., columns lo[1].. of it are the input's)
        wf = np.ascontiguousarray(w4[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
        th, tw = (kh - 1) * d[0], (kw - 1) * d[1]
        _direct_correlate(g4, wf.reshape(c, -1), gx, (kh, kw), d, (th, tw),
                          (h + lo[0] + hi[0] - oh, wd + lo[1] + hi[1] - ow), *lo)
        return gx.reshape(shape)
    strides = _strides(co, c, kh * kw, n * oh * ow)
    wr = _weight_matrix(w4, strides)
    gxt = _scratch("input_grad", (n, h, wd * c), gy.dtype)
    for n0, n1 in _blocks(n, oh * ow, wr.shape[1], gy.itemsize):
        cols = _grad_columns(g4, n0, n1)
        rows = np.matmul(cols.T, wr, out=_scratch("rows", (cols.shape[1], wr.shape[1]),
                                                  gy.dtype))
        _run(_row2im, rows.size, rows, n0, gxt, c, *strides, kh, kw, *s, *lo, *d, oh, ow)
    gx[:] = gxt.reshape(n, h, wd, c).transpose(0, 3, 1, 2)
    return gx.reshape(shape)


def conv_weight_grad(x, gy, wshape, g, groups):
    """Gradient of conv_forward with respect to w (of `wshape`)."""
    if not _conv_covered(g, groups, x, gy):
        return _reference.conv_weight_grad(x, gy, wshape, g, groups)
    g2 = (kh, kw), s, lo, hi, d, (oh, ow), _ = _params(g)
    x4, g4 = _as_2d(x), _as_2d(gy)
    n, c = x4.shape[:2]
    co = g4.shape[1]
    if _direct(g, c, co):
        buf, (hp, wp) = _padded(x4, lo, hi)
        parts = np.zeros((min(n, numba.get_num_threads()), co, c * kh * kw), x.dtype)
        work = n * parts[0].size * ((oh - 1) * wp + ow) // 32
        _run(_correlate_weight, work, buf, c * hp * wp, _taps(c, kh, kw, *d, hp, wp), g4, wp,
             parts)
        return parts.sum(0).reshape(wshape)
    xt = _channels_last(x4)
    gw = np.zeros((co, kh * kw * c), x.dtype)
    strides = _strides(co, c, kh * kw, n * oh * ow)
    for n0, n1 in _blocks(n, oh * ow, gw.shape[1], x.itemsize):
        gw += _grad_columns(g4, n0, n1) @ _rows(xt, n0, n1, c, g2, strides)
    if strides[0] == 1:
        gw = gw.reshape(co, kh, kw, c).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(gw).reshape(wshape)


def _planes(a):
    """a (N, C, *S) with 1 or 2 spatial dims as contiguous (N * C, H, W) planes."""
    a = _as_2d(a)
    return a.reshape((-1,) + a.shape[2:])


def max_pool(xp, g):
    """Window maxima of the (-inf padded) xp (nan propagates, as torch)."""
    if not _covered(xp):
        return _reference.max_pool(xp, g)
    (kh, kw), s, _, _, d, (oh, ow), _ = _params(g)
    out = np.empty((xp.shape[0] * xp.shape[1], oh, ow), xp.dtype)
    _run(_max_pool, out.size * kh * kw, _planes(xp), out, kh, kw, *s, *d)
    return out.reshape(xp.shape[:2] + g.O)


def max_pool_backward(xp, out, gy, g):
    """Each output's gradient routed to its window's maximum, on the padded grid (torch's
    index: the first maximum in scan order, the last nan)."""
    if not _covered(xp, out, gy):
        return _reference.max_pool_backward(xp, out, gy, g)
    (kh, kw), s, lo, _, d, _, (h, w) = _params(g)
    planes, outs, grads = _planes(xp), _planes(out), _planes(gy)
    gp = np.empty(planes.shape, gy.dtype)
    if (kh, kw, *s, *d, *lo) == (2, 2, 2, 2, 1, 1, 0, 0):
        _run(_max_pool_backward_2x2, gp.size, planes, outs, grads, gp)
    else:
        _run(_max_pool_backward, 2 * grads.size * kh * kw, planes, outs, grads, gp, kh, kw,
             *s, *d, lo[0], lo[0] + h, lo[1], lo[1] + w)
    return gp.reshape(xp.shape)


def _numpy_in_forked_child():
    """A forked child (a DataLoader worker) that starts a parallel loop after its parent ran
    one is aborted by GNU OpenMP, numba's usual threading layer: children use NumPy's
    kernels."""
    from .. import use_fast
    use_fast(False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_numpy_in_forked_child)
