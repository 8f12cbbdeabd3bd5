"""Convolution (1-3 spatial dims, strided, padded, dilated, grouped, transposed) and im2col /
col2im (F.unfold / F.fold), as im2col + one batched GEMM (ember/backend/numpy.py).

Every gradient is itself an op of this file, so double backward works: the input gradient of a
convolution is a transposed convolution (`_conv_input_grad`), the weight gradient is
`_conv_weight_grad`, and each of these has the other two as its derivatives.
"""
import functools

import numpy as np

from ..backend import kernels
from ._registry import op
from ._util import type_name


def _geometry(spatial, kernel, stride, padding, dilation, out=None, flat=True):
    n = len(spatial)
    pad = _ntuple(padding, n)
    return _cached_geometry(tuple(spatial), _ntuple(kernel, n), _ntuple(stride, n), pad, pad,
                            _ntuple(dilation, n), out and tuple(out), flat)


# a training loop asks for the same few geometries over and over
_cached_geometry = functools.lru_cache(maxsize=512)(kernels.ConvGeometry)


def _ntuple(v, n):
    """An int or a sequence (of one or n) as an n-tuple of ints."""
    if isinstance(v, (list, tuple)):
        return tuple(int(x) for x in (v * n if len(v) == 1 else v))
    return (int(v),) * n


def _check(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """torch's argument checks, with its messages."""
    n = weight.ndim - 2
    for name, v in (("stride", stride), ("padding", padding), ("dilation", dilation),
                    ("output_padding", output_padding)):
        if isinstance(v, (list, tuple)) and len(v) not in (1, n):
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                               f"values to match the convolution dimensions, but got "
                               f"{name}={list(v)}")
    if input.ndim != weight.ndim:
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
                           f"conv{n}d, but got input of size: {list(input.shape)}")
    if any(s <= 0 for s in _ntuple(stride, n)):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in _ntuple(padding, n)):
        raise RuntimeError("negative padding is not supported")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"Input type (torch.{type_name(input.dtype)}Tensor) and weight type "
                           f"(torch.{type_name(weight.dtype)}Tensor) should be the same or input "
                           "should be a MKLDNN tensor and weight is a dense tensor")
    channels = weight.shape[0] if transposed else weight.shape[1] * groups
    if input.shape[1] != channels:
        what = "transposed=1" if transposed else f"groups={groups}"
        raise RuntimeError(f"Given {what}, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {channels} channels, but got "
                           f"{input.shape[1]} channels instead")
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {out_channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    if not transposed:
        pad, dil = _ntuple(padding, n), _ntuple(dilation, n)
        padded = [s + 2 * p for s, p in zip(input.shape[2:], pad)]
        eff = [d * (k - 1) + 1 for k, d in zip(weight.shape[2:], dil)]
        if any(p < k for p, k in zip(padded, eff)):
            raise RuntimeError("Calculated padded input size per channel: ("
                               + " x ".join(map(str, padded)) + "). Kernel size: ("
                               + " x ".join(map(str, eff)) + "). Kernel size can't be greater "
                               "than actual input size")
    else:
        op_, s, dil = (_ntuple(output_padding, n), _ntuple(stride, n), _ntuple(dilation, n))
        if any(o >= a and o >= b for o, a, b in zip(op_, s, dil)):
            dims = ("depth", "height", "width")[3 - n:]
            raise RuntimeError("output padding must be smaller than either stride or dilation, "
                               "but got " + " ".join(
                                   f"{w}_{d}: {v}" for w, vals in (("output_padding", op_),
                                                                  ("stride", s),
                                                                  ("dilation", dil))
                                   for d, v in zip(dims, vals)))


def _transposed_shape(input, weight, stride, padding, dilation, output_padding, groups):
    n = weight.ndim - 2
    s, p, d, o = (_ntuple(v, n) for v in (stride, padding, dilation, output_padding))
    spatial = tuple((i - 1) * s_ - 2 * p_ + d_ * (k - 1) + o_ + 1 for i, k, s_, p_, d_, o_ in
                    zip(input.shape[2:], weight.shape[2:], s, p, d, o))
    return (input.shape[0], weight.shape[1] * groups) + spatial


@op(node="ConvolutionBackward0")
def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    """torch.convolution on batched input (N, C, *spatial): cross-correlation, or its
    transpose (conv_transpose) when `transposed`."""
    _check(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)
    if transposed:
        shape = _transposed_shape(input, weight, stride, padding, dilation, output_padding,
                                  groups)
        g = _geometry(shape[2:], weight.shape[2:], stride, padding, dilation, input.shape[2:])
        out = np.ascontiguousarray(kernels.conv_input_grad(input, weight, shape, g, groups))
    else:
        g = _geometry(input.shape[2:], weight.shape[2:], stride, padding, dilation)
        out = kernels.conv_forward(input, weight, g, groups)
    if bias is not None:
        out += bias.reshape((-1,) + (1,) * (out.ndim - 2))
    return out


@convolution.backward
def _(ctx, grad, input, weight, bias, stride, padding, dilation, transposed, output_padding,
      groups):
    need = ctx.needs_input_grad
    gi = gw = gb = None
    if transposed:
        if need[0]:
            gi = convolution(grad, weight, None, stride, padding, dilation, False, 0, groups)
            if gi.shape != input.shape:     # output_padding >= stride left extra positions
                gi = gi[(Ellipsis,) + tuple(slice(0, n) for n in input.shape[2:])]
        if need[1]:
            gw = _conv_weight_grad(grad, input, weight.shape, stride, padding, dilation, groups)
    else:
        if need[0]:
            gi = _conv_input_grad(grad, weight, input.shape, stride, padding, dilation, groups)
        if need[1]:
            gw = _conv_weight_grad(input, grad, weight.shape, stride, padding, dilation, groups)
    if need[2]:
        gb = grad.sum([0] + list(range(2, grad.dim())))
    return gi, gw, gb


@op(method=False, node="ConvolutionBackwardBackward0")
def _conv_input_grad(grad, weight, shape, stride, padding, dilation, groups):
    """Gradient of a convolution with respect to its input of `shape` (a transposed conv)."""
    g = _geometry(shape[2:], weight.shape[2:], stride, padding, dilation, grad.shape[2:])
    return kernels.conv_input_grad(grad, weight, tuple(shape), g, groups)


@_conv_input_grad.backward
def _(ctx, gg, grad, weight, shape, stride, padding, dilation, groups):
    need = ctx.needs_input_grad
    gd = convolution(gg, weight, None, stride, padding, dilation, False, 0, groups) \
        if need[0] else None
    gw = _conv_weight_grad(gg, grad, weight.shape, stride, padding, dilation, groups) \
        if need[1] else None
    return gd, gw


@op(method=False, node="ConvolutionBackwardBackward0")
def _conv_weight_grad(input, grad, wshape, stride, padding, dilation, groups):
    """Gradient of a convolution with respect to its weight of `wshape`."""
    g = _geometry(input.shape[2:], wshape[2:], stride, padding, dilation, grad.shape[2:])
    return kernels.conv_weight_grad(input, grad, tuple(wshape), g, groups)


@_conv_weight_grad.backward
def _(ctx, gg, input, grad, wshape, stride, padding, dilation, groups):
    need = ctx.needs_input_grad
    gi = _conv_input_grad(grad, gg, input.shape, stride, padding, dilation, groups) \
        if need[0] else None
    gd = convolution(input, gg, None, stride, padding, dilation, False, 0, groups) \
        if need[1] else None
    return gi, gd


# -- F.unfold / F.fold -----------------------------------------------------------------------
@op(method=False, saves=False, node="Im2ColBackward0")
def _im2col(input, kernel_size, dilation, padding, stride):
    """Sliding local blocks of a batched (N, C, H, W) input: (N, C * kh * kw, L)."""
    return kernels.im2col(input, _geometry(input.shape[2:], kernel_size, stride, padding,
                                           dilation, flat=False))


@_im2col.backward
def _(ctx, grad, input, kernel_size, dilation, padding, stride):
    return _col2im(grad, ctx._meta[0][0][2:], kernel_size, dilation, padding, stride)


@op(method=False, saves=False, node="Col2ImBackward0")
def _col2im(input, output_size, kernel_size, dilation, padding, stride):
    """The sum of sliding local blocks (N, C * kh * kw, L) into (N, C, *output_size)."""
    g = _geometry(output_size, kernel_size, stride, padding, dilation, flat=False)
    n = input.shape[0]
    c = input.shape[1] // (g.K[0] * g.K[1])
    return kernels.col2im(input, (n, c) + tuple(output_size), g)


@_col2im.backward
def _(ctx, grad, input, output_size, kernel_size, dilation, padding, stride):
    return _im2col(grad, kernel_size, dilation, padding, stride)


__all__ = ["convolution"]
