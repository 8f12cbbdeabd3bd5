"""NumPy kernels that NumPy itself lacks: erf and erfinv (NumPy has no special functions), and
the window kernels of convolution and pooling (im2col / col2im over strided views, the conv
GEMMs, max / sum over pooling windows)."""
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

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


# -- convolution and pooling windows ---------------------------------------------------------
# A convolution is one GEMM between the weight and the "columns" of the input: every kernel
# element's shifted (strided) view of the zero-padded input, stacked. The columns are copied
# out of a strided view (no Python loop over positions); the input gradient adds the columns'
# gradient back, one strided slice per kernel element (col2im).
#
# With stride 1, the windows of a padded (N, C, P1, .., Pd) input are read as flat runs: the
# output is computed on the "extended" grid E = (O1, P2, .., Pd), whose positions off the true
# output (the last K-1 columns of each row) are garbage and sliced away. The columns then copy
# as long contiguous runs, and col2im adds contiguous runs, which is several times faster than
# short rows of K elements.

def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


class ConvGeometry:
    """Sizes of one convolution: kernel K, stride, padding lo/hi per spatial dim, dilation,
    padded input P, output O and the grid E the columns are computed on."""

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
    xp[(Ellipsis,) + tuple(slice(a, a + n) for a, n in zip(lo, x.shape[2:]))] = x
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


def im2col(x, g, channel_major=False):
    """Columns of x for geometry g, one row per (channel, kernel element): (N, C * prod(K), Q)
    (a GEMM per sample), or channel-major (C * prod(K), N * Q) (one GEMM for the batch)."""
    N, C = x.shape[:2]
    win = _windows(x, g)
    if channel_major:
        k = len(g.K)
        win = win.transpose((1,) + tuple(range(2, 2 + k)) + (0,) +
                            tuple(range(2 + k, win.ndim)))
        return win.reshape(C * _prod(g.K), N * g.Q)
    return win.reshape(N, C * _prod(g.K), g.Q)


def col2im(cols, shape, g, channel_major=False):
    """The adjoint of im2col: add the columns back into an input of `shape`, one strided
    slice per kernel element."""
    N, C = shape[:2]
    if channel_major:
        cols = cols.reshape((C,) + g.K + (N, g.Q))
    else:
        cols = cols.reshape((N, C) + g.K + (g.Q,)).transpose(
            (1,) + tuple(range(2, 2 + len(g.K))) + (0, 2 + len(g.K)))
    # cols is now (C, *K, N, Q): for each kernel element a (C, N, Q) block
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


def channel_major(n, q, ck, co):
    """Layout choice, by measurement on LeNet and ResNet-18 shapes: a GEMM per sample (its
    columns made block by block, in cache), unless a sample's output is small against its
    columns (late, wide layers: one GEMM over the batch is up to 2x faster), or the samples'
    GEMMs are too small for BLAS to thread while the batch's is large (LeNet's second conv at
    batch 64)."""
    return 4 * q < ck or (q * ck < 1 << 16 and n * q * ck * co >= 1 << 24)


def _grad_grid(gy, g, groups, cm):
    """gy (N, Co, *O) on the columns' grid E (zeros off the true output): (N, G, Co/G, Q), or
    channel-major (G, Co/G, N * Q)."""
    N, Co = gy.shape[:2]
    if cm:
        ge = np.zeros((Co, N) + g.E, gy.dtype)
        ge[g.crop_out] = gy.transpose((1, 0) + tuple(range(2, gy.ndim)))
        return ge.reshape(groups, Co // groups, N * g.Q)
    if g.E == g.O:
        ge = np.ascontiguousarray(gy)
    else:
        ge = np.zeros((N, Co) + g.E, gy.dtype)
        ge[g.crop_out] = gy
    return ge.reshape(N, groups, Co // groups, g.Q)


def _sample_blocks(n, sample_bytes, target=1 << 20):
    """Ranges of samples whose columns total about `target` bytes: a block is copied out and
    multiplied while it is still in cache, which is 2-3x faster than one pass over all the
    columns when a sample's columns are small (LeNet-sized layers)."""
    step = max(1, target // max(sample_bytes, 1))
    return [(s, min(s + step, n)) for s in range(0, n, step)]


def conv_forward(x, w, g, groups):
    """Cross-correlation of x (N, C, *S) with w (Co, C/groups, *K): (N, Co, *O)."""
    N, C = x.shape[:2]
    Co = w.shape[0]
    ck = C * _prod(g.K)
    wg = w.reshape(groups, Co // groups, -1)
    if channel_major(N, g.Q, ck, Co):
        cols = im2col(x, g, True).reshape(groups, -1, N * g.Q)
        y = np.matmul(wg, cols).reshape((Co, N) + g.E)
        return np.ascontiguousarray(y[g.crop_out].transpose((1, 0) + tuple(range(2, y.ndim))))
    y = np.empty((N, groups, Co // groups, g.Q), np.result_type(x, w))
    for s0, s1 in _sample_blocks(N, ck * g.Q * x.itemsize):
        cols = im2col(x[s0:s1], g).reshape(s1 - s0, groups, -1, g.Q)
        np.matmul(wg, cols, out=y[s0:s1])
    y = y.reshape((N, Co) + g.E)
    return y if g.E == g.O else np.ascontiguousarray(y[g.crop_out])


def conv_input_grad(gy, w, shape, g, groups):
    """Gradient of conv_forward with respect to x (of `shape`); also the transposed conv."""
    N, Co = gy.shape[:2]
    cm = channel_major(N, g.Q, shape[1] * _prod(g.K), Co)
    ge = _grad_grid(gy, g, groups, cm)
    wt = w.reshape(groups, Co // groups, -1).transpose(0, 2, 1)
    return col2im(np.matmul(wt, ge), shape, g, cm)


def conv_weight_grad(x, gy, wshape, g, groups):
    """Gradient of conv_forward with respect to w (of `wshape`)."""
    N, C = x.shape[:2]
    ck = C * _prod(g.K)
    cm = channel_major(N, g.Q, ck, gy.shape[1])
    ge = _grad_grid(gy, g, groups, cm)
    if cm:
        cols = im2col(x, g, True).reshape(groups, -1, N * g.Q)
        return np.matmul(ge, cols.transpose(0, 2, 1)).reshape(wshape)
    gw = 0
    for s0, s1 in _sample_blocks(N, ck * g.Q * x.itemsize):
        cols = im2col(x[s0:s1], g).reshape(s1 - s0, groups, -1, g.Q)
        gw = gw + np.matmul(ge[s0:s1], cols.transpose(0, 1, 3, 2)).sum(0)
    return gw.reshape(wshape)


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


def max_pool_backward(xp, out, gy, g):
    """Each output's gradient routed to the first maximum of its window, on the padded grid.
    Masks multiply (np.where / masked ufuncs with random masks are several times slower)."""
    gp = np.zeros(xp.shape, gy.dtype)
    disjoint = disjoint_windows(g)
    for _, sl, hit in pool_hits(xp, out, g):
        if disjoint:
            np.multiply(gy, hit, out=gp[sl])
        else:
            gp[sl] += gy * hit
    return gp


def max_pool(xp, g):
    """Window maxima of the (-inf padded) xp: pairwise np.maximum over the strided slices."""
    out = None
    for _, _, window in g.elements:
        v = xp[window]
        out = v.copy() if out is None else np.maximum(out, v, out=out)
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
