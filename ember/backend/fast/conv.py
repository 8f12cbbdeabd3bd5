"""numba kernels of convolution: the direct route (`_correlate`, `_correlate_weight`, on
zero-padded planes made by `_pad`) and the im2row + GEMM route (`_im2row`, `_row2im`); see the
package's docstring. Sizes are arguments: one compiled version per dtype, cached on disk."""
import numpy as np
from numba import njit, prange, uintp

# reassociated sums and fused multiply-adds: float rounding only (no nnan / ninf: nan and inf
# propagate as in torch)
_FASTMATH = {"reassoc", "contract"}
# Computed indices are cast to unsigned (`uintp`): numba then skips the wrap-around of negative
# indices, whose per-element check would keep LLVM from vectorising the loop (10-30x slower).


@njit(parallel=True, cache=True)
def _pad(x, out, top, left):
    """out[p] = zeros with the plane x[p] written at (top, left)."""
    planes, h, w = x.shape
    for p in prange(planes):
        o = out[p]
        o[:] = 0
        for i in range(h):
            row = o[top + i]
            for j in range(w):
                row[uintp(left + j)] = x[p, i, j]


# -- direct route ----------------------------------------------------------------------------
@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _correlate(x, sample, offs, wt, out, pitch, r0, c0):
    """out[n, o, r, c] = sum_t wt[o, t] * x[n * sample + offs[t] + (r0 + r) * pitch + c0 + c].

    x is a flat buffer of samples of `sample` elements whose planes are `pitch` wide; `offs[t]`
    is tap t's offset (channel, kernel row and column) in a sample. Each task computes two
    output channels of one sample over whole rows of the plane (the columns past the output's
    are computed and dropped), four taps per pass."""
    n_out, n_ch, rows, cols = out.shape
    taps = offs.shape[0]
    length = (rows - 1) * pitch + cols
    pairs = (n_ch + 1) // 2
    for task in prange(n_out * pairs):
        n = task // pairs
        o0 = 2 * (task % pairs)
        o1 = min(o0 + 1, n_ch - 1)          # odd channel count: the last pair is one channel
        base = n * sample + r0 * pitch + c0
        y0 = np.zeros(length, out.dtype)
        y1 = np.zeros(length, out.dtype)
        t = 0
        while t < taps:
            if t + 4 <= taps:
                xa = x[base + offs[t]:base + offs[t] + length]
                xb = x[base + offs[t + 1]:base + offs[t + 1] + length]
                xc = x[base + offs[t + 2]:base + offs[t + 2] + length]
                xd = x[base + offs[t + 3]:base + offs[t + 3] + length]
                a0, b0, c0_, d0 = wt[o0, t], wt[o0, t + 1], wt[o0, t + 2], wt[o0, t + 3]
                a1, b1, c1, d1 = wt[o1, t], wt[o1, t + 1], wt[o1, t + 2], wt[o1, t + 3]
                for j in range(length):
                    va, vb, vc, vd = xa[j], xb[j], xc[j], xd[j]
                    y0[j] += a0 * va + b0 * vb + c0_ * vc + d0 * vd
                    y1[j] += a1 * va + b1 * vb + c1 * vc + d1 * vd
                t += 4
            else:
                xa = x[base + offs[t]:base + offs[t] + length]
                a0, a1 = wt[o0, t], wt[o1, t]
                for j in range(length):
                    y0[j] += a0 * xa[j]
                    y1[j] += a1 * xa[j]
                t += 1
        for r in range(rows):
            for c in range(cols):
                out[n, o0, r, c] = y0[uintp(r * pitch + c)]
                out[n, o1, r, c] = y1[uintp(r * pitch + c)]


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _correlate_weight(x, sample, offs, gy, pitch, parts):
    """parts[p, o, t] = sum over the samples n of block p and all (r, c) of
    gy[n, o, r, c] * x[n * sample + offs[t] + r * pitch + c]: the adjoint of `_correlate` in
    its weights. Each task sums a block of samples; per sample, gy is laid out on the plane's
    rows (zeros past the output's columns) and each pass takes two output channels and four
    taps (eight running sums, in registers)."""
    n_out, n_ch, rows, cols = gy.shape
    blocks, _, taps = parts.shape
    length = (rows - 1) * pitch + cols
    pairs = (n_ch + 1) // 2
    for p in prange(blocks):
        zero = x.dtype.type(0)
        ge = np.zeros((2 * pairs, length), gy.dtype)     # an odd count gets a zero channel
        for n in range(p * n_out // blocks, (p + 1) * n_out // blocks):
            for o in range(n_ch):
                for r in range(rows):
                    for c in range(cols):
                        ge[o, uintp(r * pitch + c)] = gy[n, o, r, c]
            base = n * sample
            for o in range(0, n_ch, 2):
                g0 = ge[o]
                g1 = ge[o + 1]
                t = 0
                while t < taps:
                    k = min(4, taps - t)
                    # taps t .. t+3; past the last tap, the last one again (sums dropped)
                    xa = x[base + offs[t]:base + offs[t] + length]
                    xb = x[base + offs[t + min(1, k - 1)]:base + offs[t + min(1, k - 1)] + length]
                    xc = x[base + offs[t + min(2, k - 1)]:base + offs[t + min(2, k - 1)] + length]
                    xd = x[base + offs[t + k - 1]:base + offs[t + k - 1] + length]
                    s0a = s0b = s0c = s0d = s1a = s1b = s1c = s1d = zero
                    for j in range(length):
                        va, vb, vc, vd, u0, u1 = xa[j], xb[j], xc[j], xd[j], g0[j], g1[j]
                        s0a += u0 * va
                        s0b += u0 * vb
                        s0c += u0 * vc
                        s0d += u0 * vd
                        s1a += u1 * va
                        s1b += u1 * vb
                        s1c += u1 * vc
                        s1d += u1 * vd
                    sums0 = (s0a, s0b, s0c, s0d)
                    sums1 = (s1a, s1b, s1c, s1d)
                    for i in range(k):
                        parts[p, o, t + i] += sums0[i]
                        if o + 1 < n_ch:
                            parts[p, o + 1, t + i] += sums1[i]
                    t += k


# -- im2row + GEMM route ---------------------------------------------------------------------
# The input is made channels-last (N, H, W * C) first. The rows' columns are ordered (kernel
# row, kernel column, channel): a kernel row's window is then one run of kw * C input elements
# (dilation 1), copied whole, and the weight is reordered to match. Where the weight is larger
# than the rows (ResNet's last layers on small images), the columns keep the weight's order
# (channel, kernel row, kernel column) instead: each channel's element goes to its column.
# A column is c * cs + (a * kw + b) * ks: (cs, ks) = (1, C) or (kh * kw, 1).

@njit(cache=True)
def _inside(v0, span, w):
    """The part [lo, hi) of columns [v0, v0 + span) inside [0, w) (empty: lo == hi)."""
    lo = min(max(v0, 0), v0 + span)
    return lo, max(min(v0 + span, w), lo)


@njit(parallel=True, cache=True)
def _im2row(x, n0, rows, chans, cs, ks, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """rows[(n - n0) * oh * ow + i * ow + j, c * cs + (a * kw + b) * ks] = x[n, y, v * C + c]
    at y = i * sh - ph + a * dh, v = j * sw - pw + b * dw; zero where that is padding.
    (Explicit loops: numba's slice assignments cost more than such short copies.)"""
    _, h, wc = x.shape
    w = wc // chans
    span = kw if dw == 1 and cs == 1 else 1     # kernel columns copied as one run
    for task in prange(rows.shape[0] // ow):
        n = n0 + task // oh
        i = task % oh
        for j in range(ow):
            r = task * ow + j
            for a in range(kh):
                y = i * sh - ph + a * dh
                yc = min(max(y, 0), h - 1)
                for b in range(0, kw, span):
                    v0 = j * sw - pw + b * dw
                    lo, hi = _inside(v0, span, w) if 0 <= y < h else (v0, v0)
                    k = (a * kw + b) * ks
                    if span == 1:
                        for c in range(chans):
                            rows[r, uintp(k + c * cs)] = x[n, yc, uintp(lo * chans + c)] \
                                if hi > lo else 0
                        continue
                    for e in range((lo - v0) * chans):
                        rows[r, uintp(k + e)] = 0
                    for e in range((hi - lo) * chans):
                        rows[r, uintp(k + (lo - v0) * chans + e)] = x[n, yc, uintp(lo * chans + e)]
                    for e in range((hi - v0) * chans, span * chans):
                        rows[r, uintp(k + e)] = 0


@njit(parallel=True, cache=True)
def _row2im(rows, n0, gx, chans, cs, ks, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """The adjoint of _im2row for the block's samples: gx[n, y] (channels-last) = the sum of
    the rows' entries taken from input row y. One task per input row, so that no two tasks
    write the same element."""
    _, h, wc = gx.shape
    w = wc // chans
    span = kw if dw == 1 and cs == 1 else 1
    for task in prange(rows.shape[0] // (oh * ow) * h):
        n = task // h
        y = task % h
        out = gx[n0 + n, y]
        out[:] = 0
        for a in range(kh):
            t = y + ph - a * dh                 # i * sh for the outputs reading row y
            if t < 0 or t % sh != 0 or t // sh >= oh:
                continue
            for j in range(ow):
                r = (n * oh + t // sh) * ow + j
                for b in range(0, kw, span):
                    v0 = j * sw - pw + b * dw
                    lo, hi = _inside(v0, span, w)
                    k = (a * kw + b) * ks
                    if span == 1:
                        if hi > lo:
                            for c in range(chans):
                                out[uintp(lo * chans + c)] += rows[r, uintp(k + c * cs)]
                        continue
                    for e in range((hi - lo) * chans):
                        out[uintp(lo * chans + e)] += rows[r, uintp(k + (lo - v0) * chans + e)]
