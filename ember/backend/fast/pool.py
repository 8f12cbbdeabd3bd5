"""numba kernels of max pooling over (-inf padded) planes; see the package's docstring.
Computed indices are cast to unsigned (`uintp`), as in conv.py, so that loops vectorise."""
import numpy as np
from numba import njit, prange, uintp


# torch's choice of the maximum's index: the first maximum in scan order, or the last nan. Given
# the window's maximum m, that is the element taken last by the rule "take it if it is nan, or
# if it equals m and nothing was taken yet", which needs no data-dependent branch.

@njit(parallel=True, cache=True)
def _max_pool(xp, out, kh, kw, sh, sw, dh, dw):
    """out[p, i, j] = the maximum of window (i, j) of the (-inf padded) plane xp[p]; nan wins.
    The inner loop runs along an output row."""
    planes, oh, ow = out.shape
    for p in prange(planes):
        for i in range(oh):
            row = out[p, i]
            row[:] = -np.inf
            for a in range(kh):
                src = xp[p, i * sh + a * dh]
                for b in range(kw):
                    for j in range(ow):
                        v = src[uintp(j * sw + b * dw)]
                        m = row[j]
                        row[j] = v if (v > m) | (v != v) else m


@njit(parallel=True, cache=True)
def _max_pool_backward(xp, out, gy, gp, kh, kw, sh, sw, dh, dw, h0, h1, w0, w1):
    """gp[p] = each gy[p, i, j] added at its window's maximum out[p, i, j]; only elements
    inside the input ([h0, h1) x [w0, w1) of the padded plane) are candidates."""
    planes, oh, ow = gy.shape
    width = xp.shape[2]
    for p in prange(planes):
        x = xp[p].reshape(-1)
        g = gp[p].reshape(-1)
        g[:] = 0
        for i in range(oh):
            for j in range(ow):
                m = out[p, i, j]
                at = -1
                for a in range(kh):
                    y = i * sh + a * dh
                    for b in range(kw):
                        c = j * sw + b * dw
                        v = x[uintp(y * width + c)]
                        take = (h0 <= y) & (y < h1) & (w0 <= c) & (c < w1) & (
                            (v != v) | ((v == m) & (at < 0)))
                        at = y * width + c if take else at
                if at >= 0:                 # a window all padding has no maximum
                    g[at] += gy[p, i, j]


@njit(parallel=True, cache=True)
def _max_pool_backward_2x2(xp, out, gy, gp):
    """_max_pool_backward for 2x2 windows at stride 2 without padding before the input (the
    common pooling layer): the windows do not overlap, so each is written whole."""
    planes, oh, ow = gy.shape
    for p in prange(planes):
        gp[p, 2 * oh:] = 0
        gp[p, :2 * oh, 2 * ow:] = 0
        for i in range(oh):
            x0, x1 = xp[p, 2 * i], xp[p, 2 * i + 1]
            g0, g1 = gp[p, 2 * i], gp[p, 2 * i + 1]
            for j in range(ow):
                m = out[p, i, j]
                a, b, c, d = x0[2 * j], x0[2 * j + 1], x1[2 * j], x1[2 * j + 1]
                if m == m:      # the first element equal to m
                    ta = a == m
                    tb = (b == m) & ~ta
                    tc = (c == m) & ~(ta | tb)
                    td = ~(ta | tb | tc)
                else:           # the last nan
                    td = d != d
                    tc = (c != c) & ~td
                    tb = (b != b) & ~(tc | td)
                    ta = ~(tb | tc | td)
                v = gy[p, i, j]
                zero = v - v
                g0[2 * j] = v if ta else zero
                g0[2 * j + 1] = v if tb else zero
                g1[2 * j] = v if tc else zero
                g1[2 * j + 1] = v if td else zero
