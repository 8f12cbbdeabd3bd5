"""NumPy kernels that NumPy itself lacks: erf and erfinv (NumPy has no special functions)."""
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
            (p - d * (k - 1) - 1) // s + 1 for p, k, s, d in zip(self.P, kernel, stride, dilation))
        self.flat = flat and all(s == 1 for s in stride)
        pitch = [1] * len(self.P)
        for i in range(len(self.P) - 2, -1, -1):
            pitch[i] = pitch[i + 1] * self.P[i + 1]
        self.pitch = tuple(pitch)
        if self.flat:
            self.E = (self.O[0],) + self.P[1:]
            self.slack = sum((k - 1) * d * p for k, d, p in zip(kernel[1:], dilation[1:], pitch[1:]))
        else:
            self.E = self.O
            self.slack = 0
        self.Q = _prod(self.E)
        self.crop_out = (Ellipsis,) + tuple(slice(0, o) for o in self.O)
        self.crop_in = (Ellipsis,) + tuple(slice(a, a + n) for a, n in zip(lo, spatial))

    def offsets(self):
        """(kernel index, flat offset in the padded plane) of each kernel element."""
        for idx in np.ndindex(*self.K):
            yield idx, sum(i * d * p for i, d, p in zip(idx, self.d, self.pitch))

    def window(self, idx):
        """The slice of the padded input that kernel element idx sees at every output."""
        return (Ellipsis,) + tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                                   for i, d, s, o in zip(idx, self.d, self.s, self.O))


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


def im2col(x, g):
    """Columns (N, C * prod(K), Q) of x for geometry g (C-major, then kernel elements)."""
    N, C = x.shape[:2]
    buf, xp = padded(x, g.lo, g.hi, g.slack)
    it = x.itemsize
    if g.flat:
        plane = _prod(g.P)
        win = as_strided(buf, (N, C) + g.K + (g.Q,),
                         (C * plane * it, plane * it) +
                         tuple(d * p * it for d, p in zip(g.d, g.pitch)) + (it,), writeable=False)
    else:
        st = xp.strides
        win = as_strided(xp, (N, C) + g.K + g.O,
                         st[:2] + tuple(a * d for a, d in zip(st[2:], g.d)) +
                         tuple(a * s for a, s in zip(st[2:], g.s)), writeable=False)
    return win.reshape(N, C * _prod(g.K), g.Q)


def col2im(cols, shape, g):
    """The adjoint of im2col: add the columns (N, C * prod(K), Q) back into an input of
    `shape`, one strided slice per kernel element."""
    N, C = shape[:2]
    cols = cols.reshape((N, C) + g.K + (g.Q,))
    if g.flat:
        plane = _prod(g.P)
        buf = np.zeros(N * C * plane + g.slack, cols.dtype)
        it = buf.itemsize
        rows = as_strided(buf, (N, C, plane + g.slack), (C * plane * it, plane * it, it))
        Q = g.Q
        for idx, off in g.offsets():
            rows[:, :, off:off + Q] += cols[(slice(None), slice(None)) + idx]
        gp = buf[:N * C * plane].reshape((N, C) + g.P)
    else:
        gp = np.zeros((N, C) + g.P, cols.dtype)
        cols = cols.reshape((N, C) + g.K + g.O)
        for idx in np.ndindex(*g.K):
            gp[g.window(idx)] += cols[(slice(None), slice(None)) + idx]
    return gp[g.crop_in]


def _extend(y, g):
    """y (N, C, *O) laid out on the columns' grid E (zeros off the true output), as (N, C, Q)."""
    if g.E == g.O:
        return np.ascontiguousarray(y).reshape(y.shape[0], y.shape[1], g.Q)
    ye = np.zeros(y.shape[:2] + g.E, y.dtype)
    ye[g.crop_out] = y
    return ye.reshape(y.shape[0], y.shape[1], g.Q)


def conv_forward(x, w, g, groups):
    """Cross-correlation of x (N, C, *S) with w (Co, C/groups, *K): (N, Co, *O)."""
    N, Co = x.shape[0], w.shape[0]
    cols = im2col(x, g)
    y = np.matmul(w.reshape(groups, Co // groups, -1), cols.reshape(N, groups, -1, g.Q))
    y = y.reshape((N, Co) + g.E)
    return y if g.E == g.O else np.ascontiguousarray(y[g.crop_out])


def conv_input_grad(gy, w, shape, g, groups):
    """Gradient of conv_forward with respect to x (of `shape`); also the transposed conv."""
    N, Co = gy.shape[:2]
    ge = _extend(gy, g).reshape(N, groups, Co // groups, g.Q)
    wt = w.reshape(groups, Co // groups, -1).transpose(0, 2, 1)
    return col2im(np.matmul(wt, ge), shape, g)


def conv_weight_grad(x, gy, wshape, g, groups):
    """Gradient of conv_forward with respect to w (of `wshape`)."""
    N, Co = gy.shape[:2]
    cols = im2col(x, g).reshape(N, groups, -1, g.Q)
    ge = _extend(gy, g).reshape(N, groups, Co // groups, g.Q)
    return np.matmul(ge, cols.transpose(0, 1, 3, 2)).sum(0).reshape(wshape)


# -- pooling ---------------------------------------------------------------------------------
def pool_hits(xp, out, g):
    """For max pooling: (kernel index, window slice, mask) per kernel element, the mask marking
    the outputs whose maximum that element holds (the first one in scan order on ties, as
    torch)."""
    taken = None
    for idx in np.ndindex(*g.K):
        sl = g.window(idx)
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
    for idx in np.ndindex(*g.K):
        v = xp[g.window(idx)]
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
