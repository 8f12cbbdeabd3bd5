"""NumPy kernels that NumPy itself lacks: erf and erfinv (NumPy has no special functions), and
the fused kernels of the conv nets: convolution (im2col / col2im over strided views, the conv
GEMMs in two layouts), batch norm, relu, max / sum over pooling windows. The passes over large
batches run in two halves on two threads (threads.py)."""
import functools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import threads
from .threads import split

_erf = np.frompyfunc(math.erf, 1, 1)


def erf(x):
    """Exact (libm) error function, elementwise, keeping x's float dtype."""
    return _erf(x).astype(x.dtype) if x.ndim else np.asarray(math.erf(x), x.dtype)


def erfinv(x):
    """Inverse error function: Giles' single-precision approximation refined by two Newton
    steps on erf, accurate to float64 rounding."""
    x64 = np.asarray(x, np.float64)
    w = -np.log((1.0 - x64) * (1.0 + x64))
    small = w < 5.0
    ws = w - 2.5
    wl = np.sqrt(np.where(small, 5.0, w)) - 3.0
    ps = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        ps = c + ps * ws
    pl = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        pl = c + pl * wl
    y = np.where(small, ps, pl) * x64
    with np.errstate(all="ignore"):
        for _ in range(2):
            err = erf(y) - x64
            y = y - err / (1.1283791670955126 * np.exp(-y * y))
    y = np.where(np.abs(x64) == 1, np.copysign(np.inf, x64), y)
    return y.astype(x.dtype)


# -- convolution -----------------------------------------------------------------------------
# A convolution is a GEMM between the weight and the "columns" of the input: every kernel
# element's shifted (strided) view of the zero-padded input, stacked. The columns are copied
# out of a strided view (no Python loop over positions); the input gradient adds the columns'
# gradient back, one strided slice per kernel element (col2im). Two layouts:
#
# - "samples": a GEMM per sample, (Co, C*K) x (C*K, Q), the columns made a block of samples
#   at a time, while in cache. With stride 1 the windows of a padded (N, C, P1, .., Pd) input
#   are read as flat runs: the output is computed on the "extended" grid E = (O1, P2, .., Pd),
#   whose positions off the true output (the last K-1 columns of each row) are garbage and
#   sliced away. The columns then copy as long contiguous runs and col2im adds contiguous
#   runs, several times faster than short rows of K elements. Best on large images.
# - "channels_last": one GEMM over the batch, (N*Q, K*C) x (K*C, Co), on columns made from a
#   channels-last copy (N, *P, C) of the input, where a window row is a contiguous run of
#   K_d * C elements, and on the exact output grid. Best on small images with many channels
#   (ResNet's later layers), where the extended grid would waste up to half of the GEMM.

def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


class ConvGeometry:
    """Sizes of one convolution: kernel K, stride, padding lo/hi per spatial dim, dilation,
    padded input P, output O and the grid E the per-sample columns are computed on."""

    def __init__(self, spatial, kernel, stride, lo, hi, dilation, out=None, flat=True):
        self.K, self.s, self.lo, self.hi, self.d = kernel, stride, lo, hi, dilation
        self.spatial = spatial
        self.P = tuple(n + a + b for n, a, b in zip(spatial, lo, hi))
        self.O = out if out is not None else tuple(
            (p - d * (k - 1) - 1) // s + 1
            for p, k, s, d in zip(self.P, kernel, stride, dilation))
        self.flat = flat and all(s == 1 for s in stride)
        pitch = [1] * len(self.P)
        for i in range(len(self.P) - 2, -1, -1):
            pitch[i] = pitch[i + 1] * self.P[i + 1]
        self.pitch = tuple(pitch)
        if self.flat:
            self.E = (self.O[0],) + self.P[1:]
            self.slack = sum((k - 1) * d * p
                             for k, d, p in zip(kernel[1:], dilation[1:], pitch[1:]))
        else:
            self.E = self.O
            self.slack = 0
        self.Q = _prod(self.E)
        self.crop_out = (Ellipsis,) + tuple(slice(0, o) for o in self.O)
        self.crop_in = (Ellipsis,) + tuple(slice(a, a + n) for a, n in zip(lo, spatial))
        # per kernel element: its index, its flat offset in the padded plane, and the slice
        # of the padded input it sees at every output
        self.elements = [
            (idx, sum(i * d * p for i, d, p in zip(idx, dilation, self.pitch)),
             (Ellipsis,) + tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                                 for i, d, s, o in zip(idx, dilation, stride, self.O)))
            for idx in np.ndindex(*kernel)]


def padded(x, lo, hi, slack=0, fill=0):
    """x (N, C, *spatial) copied into a buffer padded by lo/hi per spatial dim with `fill`,
    plus `slack` trailing elements; returns (flat buffer, padded array). No copy when nothing
    is added and x is contiguous."""
    if not slack and not any(lo) and not any(hi) and x.flags.c_contiguous:
        return x.reshape(-1), x
    P = tuple(n + a + b for n, a, b in zip(x.shape[2:], lo, hi))
    size = x.shape[0] * x.shape[1] * _prod(P)
    buf = np.full(size + slack, fill, x.dtype) if fill else np.zeros(size + slack, x.dtype)
    xp = buf[:size].reshape(x.shape[:2] + P)
    inner = (Ellipsis,) + tuple(slice(a, a + n) for a, n in zip(lo, x.shape[2:]))
    split(lambda i, j: xp[i:j].__setitem__(inner, x[i:j]), x.shape[0], size * x.itemsize)
    return buf, xp


def _windows(x, g):
    """Strided view (N, C, *K, *grid) of every kernel element's input at every position."""
    N, C = x.shape[:2]
    buf, xp = padded(x, g.lo, g.hi, g.slack)
    it = x.itemsize
    if g.flat:
        plane = _prod(g.P)
        return as_strided(buf, (N, C) + g.K + (g.Q,),
                          (C * plane * it, plane * it) +
                          tuple(d * p * it for d, p in zip(g.d, g.pitch)) + (it,),
                          writeable=False)
    st = xp.strides
    return as_strided(xp, (N, C) + g.K + g.O,
                      st[:2] + tuple(a * d for a, d in zip(st[2:], g.d)) +
                      tuple(a * s for a, s in zip(st[2:], g.s)), writeable=False)


def im2col(x, g):
    """Columns of x for geometry g, one row per (channel, kernel element): (N, C * prod(K), Q)."""
    return _windows(x, g).reshape(x.shape[0], x.shape[1] * _prod(g.K), g.Q)


def col2im(cols, shape, g, channel_major=False):
    """The adjoint of im2col (or of _batch_columns when channel_major): add the columns back
    into an input of `shape`, one strided slice per kernel element."""
    N, C = shape[:2]
    # cols viewed as (C, *K, N, Q): for each kernel element a (C, N, Q) block
    if channel_major:
        cols = cols.reshape((C,) + g.K + (N, g.Q))
    else:
        cols = cols.reshape((N, C) + g.K + (g.Q,)).transpose(
            (1,) + tuple(range(2, 2 + len(g.K))) + (0, 2 + len(g.K)))
    if g.flat:
        plane = _prod(g.P)
        buf = np.zeros(N * C * plane + g.slack, cols.dtype)
        it = buf.itemsize
        rows = as_strided(buf, (C, N, plane + g.slack), (plane * it, C * plane * it, it))
        Q = g.Q
        for idx, off, _ in g.elements:
            rows[:, :, off:off + Q] += cols[(slice(None),) + idx]
        gp = buf[:N * C * plane].reshape((N, C) + g.P)
    else:
        gp = np.zeros((N, C) + g.P, cols.dtype)
        gpt = gp.transpose((1, 0) + tuple(range(2, gp.ndim)))
        for idx, _, window in g.elements:
            gpt[window] += cols[(slice(None),) + idx].reshape((C, N) + g.O)
    return gp[g.crop_in]


def conv_layout(kernel, n, c, k, o, co, groups):
    """The GEMM layout of a conv kernel ("forward", "input_grad" or "weight_grad") for a batch
    of n, c input channels, kernel volume k, o output positions per sample and co output
    channels. By measurement on LeNet and ResNet-18 shapes: channels-last, unless the image is
    large against its channels (the per-sample layout's flat runs are then faster and its
    extended grid wastes little), the conv is grouped, a 1x1 conv is not tiny (it needs no
    columns per sample), or an input gradient has few channels (its channels-last GEMM is
    too narrow). Few channels with small per-sample GEMMs but a large batch (LeNet's second
    conv at batch 64): one channel-major GEMM over the whole batch ("batch")."""
    if groups == 1 and c < 16 and o * c * k < 1 << 15 and n * o * c * k * co >= 1 << 23:
        return "batch"
    if groups > 1 or o > 32 * c or k == 1 and o > 16 or c < 16:
        return "samples"
    return "channels_last"


# -- the per-sample layout
SMALL_GEMM = 1 << 18        # multiply-adds under which OpenBLAS runs a GEMM on one thread


def _blocks(lo, hi, sample_bytes, target=1 << 20):
    """Ranges of the samples lo..hi whose columns total about `target` bytes: a block is
    copied out and multiplied while it is still in cache, which is 2-3x faster than one pass
    over all the columns when a sample's columns are small (LeNet-sized layers)."""
    step = max(1, target // max(sample_bytes, 1))
    return [(s, min(s + step, hi)) for s in range(lo, hi, step)]


def _in_blocks(work, n, sample_bytes, macs):
    """Run work(s0, s1) (columns and GEMMs of the samples s0..s1) over blocks of the n samples
    and return its results in order: half of the blocks on each of two threads where a
    sample's GEMM (`macs` multiply-adds) is too small for BLAS to thread it, else here, one
    block after the other (BLAS threads the GEMMs; making all the columns first, on two
    threads, would lose more in cache misses than it gains)."""
    if macs >= SMALL_GEMM:
        return [work(*b) for b in _blocks(0, n, sample_bytes)]
    halves = split(lambda lo, hi: [work(*b) for b in _blocks(lo, hi, sample_bytes)], n,
                   n * sample_bytes)
    return [r for half in halves for r in half]


def _grad_grid(gy, g, groups):
    """gy (N, Co, *O) on the columns' grid E (zeros off the true output): (N, G, Co/G, Q)."""
    N, Co = gy.shape[:2]
    if g.E == g.O:
        ge = np.ascontiguousarray(gy)
    else:
        ge = np.zeros((N, Co) + g.E, gy.dtype)
        split(lambda lo, hi: ge[lo:hi].__setitem__(g.crop_out, gy[lo:hi]), N, ge.nbytes)
    return ge.reshape(N, groups, Co // groups, g.Q)


def _samples_forward(x, w, g, groups):
    N, C = x.shape[:2]
    Co = w.shape[0]
    wg = w.reshape(groups, Co // groups, -1)
    y = np.empty((N, groups, Co // groups, g.Q), np.result_type(x, w))

    def work(s0, s1):
        cols = im2col(x[s0:s1], g).reshape(s1 - s0, groups, -1, g.Q)
        np.matmul(wg, cols, out=y[s0:s1])
    _in_blocks(work, N, wg.shape[2] * groups * g.Q * x.itemsize, w.size * g.Q)
    y = y.reshape((N, Co) + g.E)
    if g.E == g.O:
        return y
    out = np.empty((N, Co) + g.O, y.dtype)
    split(lambda lo, hi: np.copyto(out[lo:hi], y[lo:hi][g.crop_out]), N, out.nbytes)
    return out


def _samples_input_grad(gy, w, shape, g, groups):
    N, Co = gy.shape[:2]
    ge = _grad_grid(gy, g, groups)
    wt = w.reshape(groups, Co // groups, -1).transpose(0, 2, 1)
    gx = np.empty(shape, np.result_type(gy, w))

    def work(s0, s1):
        gx[s0:s1] = col2im(np.matmul(wt, ge[s0:s1]), (s1 - s0,) + tuple(shape[1:]), g)
    _in_blocks(work, N, wt.shape[1] * groups * g.Q * gy.itemsize, w.size * g.Q)
    return gx


def _samples_weight_grad(x, gy, wshape, g, groups):
    N, C = x.shape[:2]
    ge = _grad_grid(gy, g, groups)

    def work(s0, s1):
        cols = im2col(x[s0:s1], g).reshape(s1 - s0, groups, -1, g.Q)
        return np.matmul(ge[s0:s1], cols.transpose(0, 1, 3, 2)).sum(0)
    parts = _in_blocks(work, N, C * _prod(g.K) * g.Q * x.itemsize, _prod(wshape) * g.Q)
    return sum(parts).reshape(wshape)


# -- the channels-last layout
def _cl_columns(x, g):
    """Channels-last columns of x: (N * prod(O), prod(K) * C), row (n, *o), column (*k, c)."""
    N, C = x.shape[:2]
    q = _prod(g.O)
    xp = np.zeros((N,) + g.P + (C,), x.dtype)
    cols = np.empty((N * q, _prod(g.K) * C), x.dtype)

    def fill(lo, hi):
        part = xp[lo:hi]
        part[(slice(None),) + g.crop_in[1:]] = np.moveaxis(x[lo:hi], 1, -1)
        st = part.strides
        win = as_strided(part, (hi - lo,) + g.O + g.K + (C,),
                         (st[0],) + tuple(a * s for a, s in zip(st[1:-1], g.s)) +
                         tuple(a * d for a, d in zip(st[1:-1], g.d)) + (st[-1],),
                         writeable=False)
        np.copyto(cols[lo * q:hi * q].reshape(win.shape), win)
    split(fill, N, cols.nbytes)
    return cols


def _cl_weight(w):
    """w (Co, C, *K) as (Co, prod(K) * C), in the order of the channels-last columns."""
    return _moved(w, 1, -1).reshape(w.shape[0], -1)


def _moved(a, source, dest, axis=0):
    """np.moveaxis(a, source, dest) as a C-contiguous array, copied in two halves along
    `axis` (of the result) on two threads."""
    view = np.moveaxis(a, source, dest)
    out = np.empty(view.shape, a.dtype)
    key = (slice(None),) * axis
    split(lambda lo, hi: np.copyto(out[key + (slice(lo, hi),)], view[key + (slice(lo, hi),)]),
          out.shape[axis], out.nbytes)
    return out


def _cl_forward(x, wmat, g):
    """conv_forward (ungrouped) in the channels-last layout, the weight given as a matrix
    (prod(K) * C, Co) in the columns' order."""
    cols = _cl_columns(x, g)
    N, Co = x.shape[0], wmat.shape[1]
    if cols.shape[0] >= Co:
        return _moved((cols @ wmat).reshape((N,) + g.O + (Co,)), -1, 1)
    # fewer positions than channels: BLAS is faster with the channels as the rows
    return _moved((wmat.T @ cols.T).reshape((Co, N) + g.O), 0, 1)


@functools.lru_cache(maxsize=512)
def _adjoint_geometry(g):
    """For a stride-1 conv, the geometry of its input gradient as a conv of the output
    gradient (with the flipped, transposed weight): padded by d * (K - 1) - lo before and by
    what makes the input's size after. None where that would crop (padding wider than the
    dilated kernel) or the conv is strided."""
    lo = tuple(d * (k - 1) - p for d, k, p in zip(g.d, g.K, g.lo))
    hi = tuple(n - o + p for n, o, p in zip(g.spatial, g.O, g.lo))
    if any(s != 1 for s in g.s) or min(lo + hi) < 0:
        return None
    return ConvGeometry(g.O, g.K, g.s, lo, hi, g.d, g.spatial)


def _cl_input_grad(gy, w, shape, g):
    """conv_input_grad (ungrouped), channels-last: for a stride-1 conv, the correlation of gy
    with the flipped kernel (no col2im); else the columns' gradient added back (col2im)."""
    N, Co = gy.shape[:2]
    C = shape[1]
    adjoint = _adjoint_geometry(g)
    if adjoint is not None:
        # the flipped kernel, (*K, Co, C): rows in the order of gy's columns
        wf = np.moveaxis(np.flip(w, tuple(range(2, w.ndim))), (0, 1), (-2, -1))
        return _cl_forward(gy, wf.reshape(-1, C), adjoint)
    nd = len(g.K)
    gcols = (_moved(gy, 1, -1).reshape(-1, Co) @ _cl_weight(w))
    gcols = gcols.reshape((N,) + g.O + g.K + (C,))
    gp = np.zeros((N,) + g.P + (C,), gcols.dtype)

    def add(lo, hi):
        for idx, _, window in g.elements:
            gp[(slice(lo, hi),) + window[1:]] += gcols[(slice(lo, hi),) + (slice(None),) * nd
                                                       + idx]
    split(add, N, gcols.nbytes)
    return _moved(gp[(slice(None),) + g.crop_in[1:]], -1, 1)


def _cl_weight_grad(x, gy, wshape, g):
    """conv_weight_grad (ungrouped), channels-last: gy's rows times the columns."""
    Co = gy.shape[1]
    gw = _moved(gy, 1, -1).reshape(-1, Co).T @ _cl_columns(x, g)
    return _moved(gw.reshape((Co,) + g.K + (wshape[1],)), -1, 1)


# -- the batch (channel-major) layout: one GEMM over the batch, ungrouped convs
def _batch_columns(x, g):
    """Columns of the whole batch, channel-major: (C * prod(K), N * Q), row (c, *k)."""
    win = _windows(x, g)
    k = len(g.K)
    win = win.transpose((1,) + tuple(range(2, 2 + k)) + (0,) + tuple(range(2 + k, win.ndim)))
    return win.reshape(x.shape[1] * _prod(g.K), x.shape[0] * g.Q)


def _batch_grad_grid(gy, g):
    """gy (N, Co, *O) as (Co, N * Q) on the columns' grid E (zeros off the true output)."""
    N, Co = gy.shape[:2]
    ge = np.zeros((Co, N) + g.E, gy.dtype)
    ge[g.crop_out] = gy.transpose((1, 0) + tuple(range(2, gy.ndim)))
    return ge.reshape(Co, N * g.Q)


def _batch_forward(x, w, g):
    N, Co = x.shape[0], w.shape[0]
    y = (w.reshape(Co, -1) @ _batch_columns(x, g)).reshape((Co, N) + g.E)
    return np.ascontiguousarray(y[g.crop_out].transpose((1, 0) + tuple(range(2, y.ndim))))


def _batch_input_grad(gy, w, shape, g):
    cols = w.reshape(w.shape[0], -1).T @ _batch_grad_grid(gy, g)
    return col2im(cols, shape, g, channel_major=True)


def _batch_weight_grad(x, gy, wshape, g):
    return (_batch_grad_grid(gy, g) @ _batch_columns(x, g).T).reshape(wshape)


# -- the kernels
def _layout(kernel, x_shape, g, co, groups):
    """conv_layout for an input of x_shape in geometry g."""
    return conv_layout(kernel, x_shape[0], x_shape[1], _prod(g.K), _prod(g.O), co, groups)


def conv_forward(x, w, g, groups):
    """Cross-correlation of x (N, C, *S) with w (Co, C/groups, *K): (N, Co, *O)."""
    layout = _layout("forward", x.shape, g, w.shape[0], groups)
    if layout == "batch":
        return _batch_forward(x, w, g)
    if layout == "channels_last":
        return _cl_forward(x, _cl_weight(w).T, g)
    return _samples_forward(x, w, g, groups)


def conv_input_grad(gy, w, shape, g, groups):
    """Gradient of conv_forward with respect to x (of `shape`); also the transposed conv."""
    layout = _layout("input_grad", shape, g, w.shape[0], groups)
    if layout == "batch":
        return _batch_input_grad(gy, w, shape, g)
    if layout == "channels_last":
        return _cl_input_grad(gy, w, shape, g)
    return _samples_input_grad(gy, w, shape, g, groups)


def conv_weight_grad(x, gy, wshape, g, groups):
    """Gradient of conv_forward with respect to w (of `wshape`)."""
    layout = _layout("weight_grad", x.shape, g, wshape[0], groups)
    if layout == "batch":
        return _batch_weight_grad(x, gy, wshape, g)
    if layout == "channels_last":
        return _cl_weight_grad(x, gy, wshape, g)
    return _samples_weight_grad(x, gy, wshape, g, groups)


# -- batch norm ------------------------------------------------------------------------------
# Per-channel sums over the dims (0, 2, ..) of an (N, C, ..) array are BLAS products over its
# planes (N, C, L): with a vector of ones (a sum) or row by row with another array's planes
# (a dot), then a short sum over N. 2-3x faster than NumPy's sums over those axes, and as
# accurate at these sizes. The per-channel factors broadcast over the planes' rows, whose
# length L is the inner loop (rather than the last spatial dim alone). The elementwise passes
# and the dots run on two threads, a half of the batch each.

def _planes(x):
    """x (N, C, ..) as (N, C, L)."""
    return x.reshape(x.shape[0], x.shape[1], -1)


def _dot(a, b):
    """Sum of a * b (both (N, C, L)) over dims 0 and 2."""
    return np.matmul(a[..., None, :], b[..., :, None]).sum((0, 2, 3))


def channel_sum(x):
    """Sum of x (N, C, ..) over every dim but 1."""
    p = _planes(x)
    return (p @ np.ones(p.shape[2], p.dtype)).sum(0)


def batch_norm_stats(x):
    """Batch mean and biased variance per channel (two passes: the variance of the centred
    values), and the centred values (N, C, L)."""
    n = x.size // x.shape[1]
    mean = channel_sum(x) / n
    planes = _planes(x)
    centred = np.empty(planes.shape, x.dtype)

    def centre(lo, hi):
        c = np.subtract(planes[lo:hi], mean[:, None], out=centred[lo:hi])
        return _dot(c, c)
    return mean, sum(split(centre, x.shape[0], x.nbytes)) / n, centred


def batch_norm(x, mean, var, weight, bias, eps, centred=None):
    """(x - mean) / sqrt(var + eps) * weight + bias per channel, and 1 / sqrt(var + eps);
    `centred` (x - mean, a temporary) is written over when given."""
    invstd = 1 / np.sqrt(var + np.asarray(eps, x.dtype))
    scale = (invstd if weight is None else invstd * weight)[:, None]
    planes = _planes(x)
    out = np.empty(planes.shape, x.dtype) if centred is None else centred

    def normalise(lo, hi):
        o = out[lo:hi]
        if centred is None:
            np.subtract(planes[lo:hi], mean[:, None], out=o)
        o *= scale
        if bias is not None:
            o += bias[:, None]
    split(normalise, x.shape[0], x.nbytes)
    return out.reshape(x.shape), invstd


def batch_norm_backward(g, x, mean, invstd, weight, training):
    """Gradients of batch_norm (with the batch statistics when `training`) for the output
    gradient g: input, weight (unscaled: sum of g * xhat) and bias. In training,
    gx = w * invstd * (g - mean(g) - xhat * mean(g * xhat)), computed as
    (g - mean(g)) * k1 + (x - mean) * k2 with per-channel k1, k2."""
    n = x.size // x.shape[1]
    gp, xp = _planes(g), _planes(x)
    gx = np.empty(gp.shape, np.result_type(g, x))

    def centre(lo, hi):
        c = np.subtract(xp[lo:hi], mean[:, None], out=gx[lo:hi])
        return _dot(gp[lo:hi], c)
    gb = channel_sum(g)
    gw = sum(split(centre, x.shape[0], x.nbytes)) * invstd
    k1 = invstd if weight is None else invstd * weight
    k2 = -k1 * invstd * gw / n

    def combine(lo, hi):
        o = gx[lo:hi]
        if not training:
            np.multiply(gp[lo:hi], k1[:, None], out=o)
            return
        o *= k2[:, None]
        t = gp[lo:hi] - (gb / n)[:, None]
        t *= k1[:, None]
        o += t
    split(combine, x.shape[0], x.nbytes)
    return gx.reshape(x.shape), gw, gb


# -- activations -----------------------------------------------------------------------------
def relu(x):
    """max(x, 0) in x's dtype, a half of a large batch on each of two threads."""
    if x.nbytes < threads.SPLIT_BYTES or x.ndim == 0:
        return np.maximum(x, 0, dtype=x.dtype)
    out = np.empty_like(x)
    split(lambda lo, hi: np.maximum(x[lo:hi], 0, out=out[lo:hi], dtype=x.dtype), len(x),
          x.nbytes)
    return out


def threshold_backward(g, x, threshold):
    """g where x > threshold (or is nan), else 0: g times a mask (several times faster than
    np.where on an unpredictable condition)."""
    if x.nbytes < threads.SPLIT_BYTES or g.shape != x.shape or x.ndim == 0:
        return g * ~(x <= threshold)
    out = np.empty(g.shape, g.dtype)

    def mask(lo, hi):
        keep = np.less_equal(x[lo:hi], threshold)
        np.multiply(g[lo:hi], np.logical_not(keep, out=keep), out=out[lo:hi])
    split(mask, len(x), x.nbytes)
    return out


# -- pooling ---------------------------------------------------------------------------------
def pool_hits(xp, out, g):
    """For max pooling: (kernel index, window slice, mask) per kernel element, the mask marking
    the outputs whose maximum that element holds (the first one in scan order on ties, as
    torch)."""
    taken = None
    for idx, _, sl in g.elements:
        hit = xp[sl] == out
        if taken is None:
            taken = hit
        else:
            hit &= ~taken
            taken = taken | hit
        yield idx, sl, hit


def disjoint_windows(g):
    """True when no two windows overlap (stride >= dilated kernel in every dim)."""
    return all(s >= d * (k - 1) + 1 for s, d, k in zip(g.s, g.d, g.K))


def _by_planes(work, a, target=1 << 20):
    """Run work(p0, p1) over the planes 0..N*C of a (N, C, ..), in blocks of about `target`
    bytes of a, half of them on each of two threads: every pass over a block's windows then
    hits the cache (on large images, passes over whole strided arrays are 2x slower)."""
    plane_bytes = _prod(a.shape[2:]) * a.itemsize
    split(lambda lo, hi: [work(*b) for b in _blocks(lo, hi, plane_bytes, target)],
          a.shape[0] * a.shape[1], a.nbytes)


def _stacked_planes(a):
    """a (N, C, ..) as (N * C, ..)."""
    return a.reshape((a.shape[0] * a.shape[1],) + a.shape[2:])


def max_pool_backward(xp, out, gy, g):
    """Each output's gradient routed to the first maximum of its window (the last nan of a nan
    window, as torch), on the padded grid:
    the part of gy not yet routed goes to every kernel element that holds the maximum, in
    scan order (masks multiply: np.where / masked ufuncs with random masks are several times
    slower)."""
    gp = np.zeros(xp.shape, gy.dtype)
    disjoint = disjoint_windows(g)
    xs, tops, gs, dests = (_stacked_planes(a) for a in (xp, out, gy, gp))
    last = len(g.elements) - 1

    def route(p0, p1):
        rest, part, dest, top = gs[p0:p1], xs[p0:p1], dests[p0:p1], tops[p0:p1]
        for k, (_, _, window) in enumerate(g.elements):
            routed = rest * (part[window] == top)
            if disjoint:
                dest[window] = routed
            else:
                dest[window] += routed
            if k < last:
                rest = rest - routed if k == 0 else np.subtract(rest, routed, out=rest)
        if has_nan:         # a nan window's gradient goes to its last nan, as torch's does
            rest = gs[p0:p1] * np.isnan(top)
            for _, _, window in reversed(g.elements):
                routed = rest * np.isnan(part[window])
                dest[window] += routed
                rest = rest - routed
    has_nan = out.dtype.kind == "f" and bool(np.isnan(out).any())
    _by_planes(route, xp)
    return gp


def max_pool(xp, g):
    """Window maxima of the (-inf padded) xp: pairwise np.maximum over the strided windows."""
    out = np.empty(xp.shape[:2] + g.O, xp.dtype)
    xs, dests = _stacked_planes(xp), _stacked_planes(out)

    def reduce(p0, p1):
        part, dest = xs[p0:p1], dests[p0:p1]
        np.copyto(dest, part[g.elements[0][2]])
        for _, _, window in g.elements[1:]:
            np.maximum(dest, part[window], out=dest)
    _by_planes(reduce, xp)
    return out


def window_sum(xp, g):
    """Sum over each window, one spatial dim at a time (K1 + K2 + .. slices, not K1 * K2)."""
    acc = xp
    for ax, (k, s, o) in enumerate(zip(g.K, g.s, g.O)):
        axis = ax + 2
        key = [slice(None)] * acc.ndim
        total = None
        for i in range(k):
            key[axis] = slice(i, i + s * (o - 1) + 1, s)
            v = acc[tuple(key)]
            total = v.copy() if total is None else np.add(total, v, out=total)
        acc = total
    return acc


def window_spread(gy, g):
    """The adjoint of window_sum: each output's value added to every element of its window
    (on the padded grid P)."""
    acc = gy
    for ax in range(len(g.K) - 1, -1, -1):
        k, s, o, p = g.K[ax], g.s[ax], g.O[ax], g.P[ax]
        axis = ax + 2
        shape = list(acc.shape)
        shape[axis] = p
        total = np.zeros(shape, acc.dtype)
        key = [slice(None)] * acc.ndim
        for i in range(k):
            key[axis] = slice(i, i + s * (o - 1) + 1, s)
            total[tuple(key)] += acc
        acc = total
    return acc
