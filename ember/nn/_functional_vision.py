"""Padding, resampling and re-layout functions of torch.nn.functional (re-exported by
functional.py): pad, interpolate / upsample, pixel_shuffle, unfold / fold, affine_grid and
grid_sample. Built from ember ops (index_select, matmul, gather), so all are differentiable.
"""
import math
import warnings

import numpy as np

from .._tensor import wrap
from ..ops import nn as _nn
from ..ops.conv import _im2col, _col2im
from ..ops.pooling import _plane_gather

__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
           "pixel_shuffle", "pixel_unshuffle", "unfold", "fold", "affine_grid", "grid_sample"]


# -- padding ---------------------------------------------------------------------------------
def _index_pad(input, pad, index_of):
    """Pad the last len(pad) // 2 dims by gathering with index_of(length, lo, hi)."""
    out = input
    for i in range(len(pad) // 2):
        dim = input.dim() - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        n = input.shape[dim]
        out = out.index_select(dim, wrap(index_of(n, lo, hi)))
    return out


def _reflect_index(n, lo, hi):
    i = np.arange(-lo, n + hi)
    period = 2 * (n - 1)
    i = np.abs(i) % period if period else np.zeros_like(i)
    return np.where(i >= n, period - i, i)


def _replicate_index(n, lo, hi):
    return np.clip(np.arange(-lo, n + hi), 0, n - 1)


def _circular_index(n, lo, hi):
    return np.arange(-lo, n + hi) % n


_PAD_INDEX = {"reflect": _reflect_index, "replicate": _replicate_index,
              "circular": _circular_index}


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) // 2 dims (last dim first): constant (negative pads crop),
    reflect, replicate or circular."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    pad = [int(p) for p in pad]
    if mode == "constant":
        return _nn.constant_pad_nd(input, pad, 0 if value is None else value)
    if mode not in _PAD_INDEX:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value:
        raise NotImplementedError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    n = len(pad) // 2
    if not (n <= 3 and input.dim() in (n + 1, n + 2)):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.dim()}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode == "reflect":
        for i in range(n):
            dim = input.dim() - 1 - i
            if max(pad[2 * i], pad[2 * i + 1]) >= input.shape[dim]:
                raise RuntimeError(f"Argument #4: Padding size should be less than the "
                                   f"corresponding input dimension, but got: padding "
                                   f"({pad[2 * i]}, {pad[2 * i + 1]}) at dimension {dim} of "
                                   f"input {list(input.shape)}")
    return _index_pad(input, pad, _PAD_INDEX[mode])


# -- interpolation ---------------------------------------------------------------------------
_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}


def _output_sizes(input, size, scale_factor, recompute_scale_factor):
    """Output spatial sizes and the scales torch maps output to input coordinates with."""
    nd = input.dim() - 2
    spatial = input.shape[2:]
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * nd
        if len(sizes) != nd:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(spatial)} and output size of {size}. Please provide input "
                             "tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, "
                             "o2, ...,oK) format.")
        return [int(s) for s in sizes], [None] * nd
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    scales = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else \
        [scale_factor] * nd
    if len(scales) != nd:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of "
                         f"{list(spatial)} and scale_factor of shape {scale_factor}. Please "
                         "provide input tensor in (N, C, d1, d2, ...,dK) format and "
                         "scale_factor in (s1, s2, ...,sK) format.")
    sizes = [int(math.floor(n * float(s))) for n, s in zip(spatial, scales)]
    return sizes, [None if recompute_scale_factor else float(s) for s in scales]


def _source(n_in, n_out, scale, align_corners, kind):
    """Source coordinate of each output position (torch's rules: 'nearest' floor(o * ratio),
    'nearest-exact' (o + 0.5) * ratio, 'linear' / 'cubic' pixel centres, linear clamped at 0;
    align_corners maps the corner pixels onto each other)."""
    o = np.arange(n_out, dtype=np.float64)
    if align_corners and kind in ("linear", "cubic"):
        return o * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    ratio = 1.0 / scale if scale is not None else n_in / n_out
    if kind == "nearest":
        return ratio * o
    if kind == "nearest-exact":
        return ratio * (o + 0.5)
    src = ratio * (o + 0.5) - 0.5
    return np.maximum(src, 0.0) if kind == "linear" else src


def _interp_matrix(n_in, n_out, scale, align_corners, cubic, dtype):
    """(n_out, n_in) matrix of linear or cubic (torch's A = -0.75, borders clamped)
    interpolation weights: resizing is one small matmul per spatial dim."""
    src = _source(n_in, n_out, scale, align_corners, "cubic" if cubic else "linear")
    if cubic:
        i0 = np.floor(src).astype(np.int64)
        t = src - i0
        a = -0.75
        taps = [((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
                ((a + 2) * t - (a + 3)) * t * t + 1,
                ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
                ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a]
        cols = [np.clip(i0 + k - 1, 0, n_in - 1) for k in range(4)]
    else:
        i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        lam = src - i0
        taps, cols = [1 - lam, lam], [i0, np.minimum(i0 + 1, n_in - 1)]
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    for w, c in zip(taps, cols):
        np.add.at(m, (rows, c), w)
    return wrap(m.astype(dtype))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims: nearest, nearest-exact, (bi/tri)linear, bicubic or area."""
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    nd = input.dim() - 2
    sizes, scales = _output_sizes(input, size, scale_factor, recompute_scale_factor)
    if mode in _LINEAR and _LINEAR[mode] != nd:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                  f"{_LINEAR[mode] + 2}D input")
    out = input
    if mode in ("nearest", "nearest-exact"):
        for i, (n_out, scale) in enumerate(zip(sizes, scales)):
            n_in = input.shape[2 + i]
            src = _source(n_in, n_out, scale, False, mode)
            idx = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
            out = out.index_select(2 + i, wrap(idx))
        return out
    if mode == "area":
        from .functional import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1](input,
                                                                                       sizes)
    if mode not in _LINEAR and mode != "bicubic":
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.dim()}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact (got "
                                  f"{mode})")
    for i, (n_out, scale) in enumerate(zip(sizes, scales)):
        m = _interp_matrix(input.shape[2 + i], n_out, scale, bool(align_corners),
                           mode == "bicubic", input._data.dtype)
        out = out.movedim(2 + i, -1).matmul(m.t()).movedim(-1, 2 + i)
    return out.contiguous()


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- re-layout -------------------------------------------------------------------------------
def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    r = upscale_factor
    c, h, w = input.shape[-3:]
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    lead = input.shape[:-3]
    n = len(lead)
    x = input.reshape(lead + (c // (r * r), r, r, h, w))
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    r = downscale_factor
    c, h, w = input.shape[-3:]
    if h % r or w % r:
        which, size = ("height", h) if h % r else ("width", w)
        raise RuntimeError(f"pixel_unshuffle expects {which} to be divisible by "
                           f"downscale_factor, but input.size({-2 if which == 'height' else -1})"
                           f"={size} is not divisible by {r}")
    lead = input.shape[:-3]
    n = len(lead)
    x = input.reshape(lead + (c, h // r, r, w // r, r))
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(lead + (c * r * r, h // r, w // r))


def _pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks: (N, C, H, W) -> (N, C * kh * kw, L) (im2col)."""
    if input.dim() not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                                  f"{input.dim()}D)")
    x = input if input.dim() == 4 else input.unsqueeze(0)
    out = _im2col(x, _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride))
    return out if input.dim() == 4 else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The sum of sliding local blocks (N, C * kh * kw, L) into (N, C, *output_size)."""
    if input.dim() not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {input.dim()}D)")
    x = input if input.dim() == 3 else input.unsqueeze(0)
    k, d, p, s, o = (_pair(v) for v in (kernel_size, dilation, padding, stride, output_size))
    if x.shape[1] % (k[0] * k[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size=({k[0]}, {k[1]})")
    blocks = [(o[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2)]
    if blocks[0] * blocks[1] != x.shape[2]:
        raise RuntimeError(f"Given output_size=({o[0]}, {o[1]}), kernel_size=({k[0]}, {k[1]}), "
                           f"dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), stride=({s[0]},"
                           f" {s[1]}), expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size(2)={x.shape[2]}.")
    out = _col2im(x, o, k, d, p, s)
    return out if input.dim() == 3 else out.squeeze(0)


# -- sampling grids --------------------------------------------------------------------------
def _align_warning(align_corners):
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to "
                      "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                      "old behavior is desired. See the documentation of grid_sample for "
                      "details.", stacklevel=3)
    return bool(align_corners)


def _base_coords(n, align_corners, dtype):
    if align_corners:
        return np.linspace(-1, 1, n).astype(dtype) if n > 1 else np.zeros(1, dtype)
    return ((np.arange(n) * 2 + 1) / n - 1).astype(dtype)


def affine_grid(theta, size, align_corners=None):
    """Sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine maps theta."""
    align_corners = _align_warning(align_corners)
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(v) for v in size)
    nd = len(size) - 2
    if nd not in (2, 3):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if theta.dim() != 3 or tuple(theta.shape[1:]) != (nd, nd + 1):
        raise ValueError(f"Expected a batch of {nd}D affine matrices of shape Nx{nd}x{nd + 1} "
                         f"for size {size}. Got {theta.shape}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    dt = theta._data.dtype
    axes = [_base_coords(n, align_corners, dt) for n in reversed(size[2:])]   # x, y(, z)
    mesh = list(np.meshgrid(*axes[::-1], indexing="ij"))[::-1]
    base = np.stack(mesh + [np.ones_like(mesh[0])], -1).reshape(-1, nd + 1)
    grid = wrap(base).matmul(theta.transpose(1, 2))
    return grid.view((size[0],) + tuple(size[2:]) + (nd,))


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample input (N, C, H, W) at grid (N, Ho, Wo, 2) locations in [-1, 1]: bilinear or
    nearest, zeros or border padding."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if mode == "bicubic" or padding_mode == "reflection" or input.dim() != 4:
        raise NotImplementedError("ember's grid_sample supports 4-D input with bilinear or "
                                  "nearest sampling and zeros or border padding")
    align_corners = _align_warning(align_corners)
    n, c, h, w = input.shape
    ho, wo = grid.shape[1:3]
    flat = input.reshape(n, c, h * w)

    def unnormalize(coord, size):
        if align_corners:
            pos = (coord + 1) * ((size - 1) / 2)
        else:
            pos = ((coord + 1) * size - 1) / 2
        return pos.clamp(0, size - 1) if padding_mode == "border" else pos

    x = unnormalize(grid[..., 0], w)
    y = unnormalize(grid[..., 1], h)

    def corner(xi, yi):
        """input at integer positions (xi, yi), zero outside."""
        xa, ya = xi._data.astype(np.int64), yi._data.astype(np.int64)
        inside = (xa >= 0) & (xa < w) & (ya >= 0) & (ya < h)
        idx = np.where(inside, ya * w + xa, 0).reshape(n, 1, ho * wo)
        got = _plane_gather(flat, np.broadcast_to(idx, (n, c, ho * wo)), 1)
        return got.view(n, c, ho, wo) * wrap(inside[:, None].astype(input._data.dtype))

    if mode == "nearest":
        return corner(x.round(), y.round())
    x0, y0 = x.floor(), y.floor()
    wx1, wy1 = (x - x0).unsqueeze(1), (y - y0).unsqueeze(1)
    wx0, wy0 = 1 - wx1, 1 - wy1
    return (corner(x0, y0) * (wx0 * wy0) + corner(x0 + 1, y0) * (wx1 * wy0)
            + corner(x0, y0 + 1) * (wx0 * wy1) + corner(x0 + 1, y0 + 1) * (wx1 * wy1))
