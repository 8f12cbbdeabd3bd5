"""The fused neural-network ops behind torch.nn.functional: activations, softmax / log_softmax,
batch / layer / group norm, embedding and constant padding. Convolution, pooling and the fused
losses are in conv.py, pooling.py and loss.py (imported here, so that importing this module
registers every nn op).

Forward on arrays, backward beside it written with ember ops (double backward works); the
node names are torch's (ReluBackward0, SoftmaxBackward0, NativeBatchNormBackward0, ...).
Piecewise-linear backwards multiply by a constant mask (`_times`): exact for double backward,
and much faster than np.where on an unpredictable condition.
"""
import numpy as np

from .._tensor import wrap
from ..autograd import grad_mode
from ..backend import kernels
from ._registry import op, make_inplace
from ._util import wrap_dim, type_name
from .pointwise import sigmoid, _sigmoid
from . import conv, pooling, loss        # noqa: F401  (their ops register on import)
from .conv import convolution            # noqa: F401
from .loss import log_softmax_array


# -- activations -----------------------------------------------------------------------------
def _floating(x, kernel):
    """torch's refusal of integer inputs by its float-only kernels."""
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(x.dtype)}'")
    return x


@op(saves=False, save_output=True, inplace=True, node="ReluBackward0")
def relu(input):
    """max(input, 0); bool refused as torch."""
    if input.dtype == np.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    return kernels.relu(input)


@relu.backward
def _(ctx, grad, input):
    return threshold_backward(grad, ctx.out, 0)


def _times(grad, factor):
    """grad * a constant array (a mask, or a slope per element). Its derivative is zero almost
    everywhere, so double backward stays exact; and multiplying by a mask is several times
    faster than np.where on an unpredictable condition."""
    return grad * wrap(factor)


@op(saves=False, method=False)
def threshold_backward(grad_output, input, threshold):
    """0 where input <= threshold, else grad_output (nan passes, as in torch)."""
    return kernels.threshold_backward(grad_output, input, threshold)


@threshold_backward.backward
def _(ctx, gg, grad_output, input, threshold):
    return threshold_backward(gg, input, threshold), None


@op(method=False, node="ThresholdBackward0")
def threshold(input, threshold, value):
    """value where input <= threshold, else input (nan passes)."""
    out = input.copy()
    out[input <= threshold] = value
    return out


@threshold.backward
def _(ctx, grad, input, threshold, value):
    return threshold_backward(grad, input, threshold)


@op(method=False, node="HardtanhBackward0")
def hardtanh(input, min_val=-1.0, max_val=1.0):
    """clamp(input, min_val, max_val) (relu6 is hardtanh(0, 6), as in torch)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return np.clip(input, np.asarray(min_val, input.dtype), np.asarray(max_val, input.dtype))


@hardtanh.backward
def _(ctx, grad, input, min_val=-1.0, max_val=1.0):
    x = input._data
    return _times(grad, ~((x <= min_val) | (x >= max_val)))       # nan passes, as torch


@op(method=False, node="LeakyReluBackward0")
def leaky_relu(input, negative_slope=0.01):
    _floating(input, "leaky_relu_cpu")
    return input * _leaky_slope(input, negative_slope)


@leaky_relu.backward
def _(ctx, grad, input, negative_slope=0.01):
    return _times(grad, _leaky_slope(input._data, negative_slope))


def _leaky_slope(x, slope):
    """1 where x > 0, else slope (per element, in x's dtype)."""
    pos = x > 0
    return pos * np.asarray(1 - slope, x.dtype) + np.asarray(slope, x.dtype)


def _elu_forward(x, alpha, scale, input_scale):
    _floating(x, "elu_cpu")
    neg = np.expm1(np.minimum(x, 0) * np.asarray(input_scale, x.dtype))
    return np.maximum(x, 0) * np.asarray(scale, x.dtype) + neg * np.asarray(alpha * scale,
                                                                            x.dtype)


def _elu_backward(grad, input, alpha, scale, input_scale):
    pos = wrap(~(input._data <= 0))                 # nan takes the positive branch, as torch
    neg = (input.masked_fill(pos, 0.0) * input_scale).exp() * (alpha * scale * input_scale)
    return grad * (neg.masked_fill(pos, scale))


@op(method=False, node="EluBackward0")
def elu(input, alpha=1.0, scale=1.0, input_scale=1.0):
    """scale * x for x > 0, else alpha * scale * (exp(x * input_scale) - 1) (torch's elu;
    selu is elu with its two constants)."""
    return _elu_forward(input, alpha, scale, input_scale)


@elu.backward
def _(ctx, grad, input, alpha=1.0, scale=1.0, input_scale=1.0):
    return _elu_backward(grad, input, alpha, scale, input_scale)


@op(method=False, node="CeluBackward0")
def celu(input, alpha=1.0):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _elu_forward(input, alpha, 1.0, 1.0 / alpha)


@celu.backward
def _(ctx, grad, input, alpha=1.0):
    # torch's celu backward takes 1 / alpha of alpha rounded to float32, also for float64
    return _elu_backward(grad, input, alpha, 1.0, 1.0 / float(np.float32(alpha)))


@op(method=False, node="GeluBackward0")
def gelu(input, approximate="none"):
    """x * Phi(x), or its tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _floating(input, "GeluKernelImpl")
    if approximate == "tanh":
        inner = np.asarray(0.7978845608028654, input.dtype) * (input + 0.044715 * input ** 3)
        return 0.5 * input * (1 + np.tanh(inner))
    from ..backend.numpy import erf
    out = np.asarray(0.5 * input * (1 + erf(input * np.asarray(0.7071067811865476,
                                                               input.dtype))))
    out[np.isinf(input)] = np.nan                    # as torch's kernel
    return out


@gelu.backward
def _(ctx, grad, input, approximate="none"):
    if approximate == "tanh":
        inner = (input + 0.044715 * input.pow(3)) * 0.7978845608028654
        t = inner.tanh()
        d_inner = (1 + 0.134145 * input * input) * 0.7978845608028654
        return grad * (0.5 * (1 + t) + 0.5 * input * (1 - t * t) * d_inner)
    cdf = 0.5 * (1 + (input * 0.7071067811865476).erf())
    pdf = (input * input * -0.5).exp() * 0.3989422804014327
    return grad * (cdf + input * pdf)


@op(method=False, node="SiluBackward0")
def silu(input):
    _floating(input, "silu_cpu")
    return input * _sigmoid(input)


@silu.backward
def _(ctx, grad, input):
    s = sigmoid(input)
    return grad * s * (1 + input * (1 - s))


@op(method=False, node="MishBackward0")
def mish(input):
    _floating(input, "mish_cpu")
    return input * np.tanh(_softplus(input, 1.0, 20.0))


@mish.backward
def _(ctx, grad, input):
    t = softplus(input).tanh()
    return grad * (t + input * sigmoid(input) * (1 - t * t))


@op(method=False, node="HardsigmoidBackward0")
def hardsigmoid(input):
    _floating(input, "hardsigmoid_cpu")
    return np.clip(input + np.asarray(3, input.dtype), 0, 6) / np.asarray(6, input.dtype)


@hardsigmoid.backward
def _(ctx, grad, input):
    # torch multiplies by 1/6 rounded to float32, also for float64
    x = input._data
    return _times(grad, ((x > -3) & (x < 3)) * np.asarray(np.float32(1 / 6), x.dtype))


@op(method=False, node="HardswishBackward0")
def hardswish(input):
    _floating(input, "hardswish_cpu")
    return input * np.clip(input + np.asarray(3, input.dtype), 0, 6) / np.asarray(6, input.dtype)


@hardswish.backward
def _(ctx, grad, input):
    # torch: 0 up to -3, x / 3 + 0.5 below 3, else 1 (nan included)
    x = input._data
    low, high = x <= -3, ~(x < 3)
    middle = ~(low | high)
    return grad * (input.masked_fill(wrap(~middle), 0.0) / 3 + wrap(middle * 0.5 + high))


def _softplus(x, beta, threshold):
    bx = x * np.asarray(beta, x.dtype)
    soft = np.log1p(np.exp(np.minimum(bx, threshold))) / np.asarray(beta, x.dtype)
    return np.where(bx > threshold, x, soft)


@op(method=False, node="SoftplusBackward0")
def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear above threshold."""
    _floating(input, "softplus_cpu")
    return _softplus(input, beta, threshold)


@softplus.backward
def _(ctx, grad, input, beta=1.0, threshold=20.0):
    linear = wrap((input._data * np.asarray(beta, input._data.dtype)) > threshold)
    return grad * (linear + (~linear) * sigmoid(input * beta))


@op(method=False, node="LogSigmoidBackward0")
def logsigmoid(input):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))."""
    _floating(input, "log_sigmoid_cpu")
    return np.minimum(input, 0) - np.log1p(np.exp(-np.abs(input)))


@logsigmoid.backward
def _(ctx, grad, input):
    return grad * sigmoid(-input)


def _shrink_mask(input, lambd):
    """False on [-lambd, lambd] (nan is kept, as torch)."""
    return ~((input >= -lambd) & (input <= lambd))


@op(node="HardshrinkBackward0")
def hardshrink(input, lambd=0.5):
    _floating(input, "hardshrink_cpu")
    return input * _shrink_mask(input, lambd)


@hardshrink.backward
def _(ctx, grad, input, lambd=0.5):
    return _times(grad, _shrink_mask(input._data, lambd))


@op(method=False, node="SoftshrinkBackward0")
def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be in range [0, 3.40282e+38] for input dtype "
                           f"{type_name(input.dtype)}, but found {lambd}")
    lam = np.asarray(lambd, input.dtype)
    return input - np.clip(input, -lam, lam)


@softshrink.backward
def _(ctx, grad, input, lambd=0.5):
    return _times(grad, _shrink_mask(input._data, lambd))


def _channel_shape(ndim, count):
    """Shape that broadcasts prelu's weight of `count` values along dim 1 of an ndim input."""
    return (1, -1) + (1,) * (ndim - 2) if ndim >= 2 and count > 1 else (-1,)


@op(node="PreluKernelBackward0")
def prelu(input, weight):
    """x where x > 0, else weight * x (weight: one value or one per channel, dim 1)."""
    if weight.size != 1:
        c = input.shape[1] if input.ndim >= 2 else 1
        if weight.ndim != 1 or weight.size != c:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {weight.size} and channel size = {c}.")
    w = weight.reshape(_channel_shape(input.ndim, weight.size)) if weight.ndim else weight
    pos = input > 0
    return input * (pos + ~pos * w)


@prelu.backward
def _(ctx, grad, input, weight):
    w = weight.reshape(_channel_shape(input.dim(), weight.numel())) if weight.dim() else weight
    neg = wrap(input._data <= 0)
    gi = grad * (~neg + neg * w)
    gw = None
    if ctx.needs_input_grad[1]:
        gw = grad * input * neg
        gw = gw.sum() if weight.numel() == 1 else \
            gw.sum([d for d in range(input.dim()) if d != 1])
        gw = gw.reshape(weight.shape)
    return gi, gw


@op(method=False, node="GluBackward0")
def glu(input, dim=-1):
    """a * sigmoid(b), a and b the two halves of input along dim."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = np.split(input, 2, axis=d)
    return a * _sigmoid(b)


@glu.backward
def _(ctx, grad, input, dim=-1):
    a, b = input.chunk(2, dim)
    s = sigmoid(b)
    from .shape import cat
    return cat([grad * s, grad * a * s * (1 - s)], dim)


# -- softmax ---------------------------------------------------------------------------------
def _softmax_input(x, dim, dtype, name):
    """The input cast to `dtype` and the normalised dim (None for a 0-dim input)."""
    if dtype is not None:
        x = x.astype(dtype.np)
    elif x.dtype.kind != "f":
        raise NotImplementedError(f"\"{name}_lastdim_kernel_impl\" not implemented for "
                           f"'{type_name(x.dtype)}'")
    return x, (wrap_dim(dim, x.ndim) if x.ndim else None)


@op(save_output=True, node="SoftmaxBackward0")
def softmax(input, dim, dtype=None):
    """exp(x - max) / sum(exp(x - max)) along dim (in `dtype` when given)."""
    x, d = _softmax_input(input, dim, dtype, "softmax")
    if not x.size:
        return x.copy()
    m = np.max(x, axis=d, keepdims=True)
    e = np.exp(x - np.where(np.isfinite(m), m, 0))
    e /= e.sum(axis=d, keepdims=True)
    return e


@softmax.backward
def _(ctx, grad, input, dim, dtype=None):
    out = ctx.out
    return out * (grad - (grad * out).sum(dim, keepdim=True))


@op(save_output=True, node="LogSoftmaxBackward0")
def log_softmax(input, dim, dtype=None):
    """x - logsumexp(x) along dim (in `dtype` when given)."""
    x, d = _softmax_input(input, dim, dtype, "log_softmax")
    return log_softmax_array(x, d) if x.size else x.copy()


@log_softmax.backward
def _(ctx, grad, input, dim, dtype=None):
    return grad - ctx.out.exp() * grad.sum(dim, keepdim=True)


# -- normalization ---------------------------------------------------------------------------
def _affine_shape(ndim):
    return (1, -1) + (1,) * (ndim - 2)


def _normalized_grad(gxhat, xhat, rstd, dims):
    """d/dx of xhat = (x - mean) * rstd over `dims`, applied to gxhat."""
    n = 1
    for d in dims:
        n *= xhat.shape[d]
    return rstd * (gxhat - gxhat.mean(dims, keepdim=True)
                   - xhat * (gxhat * xhat).sum(dims, keepdim=True) / n)


def _stats(x, dims, eps):
    """Mean and 1/sqrt(biased var + eps) over dims (ember ops, for double backward)."""
    mean = x.mean(dims, keepdim=True)
    return mean, ((x - mean).pow(2).mean(dims, keepdim=True) + eps).rsqrt()


@op(ctx=True, method=False, node="NativeBatchNormBackward0")
def _batch_norm(ctx, input, weight, bias, running_mean, running_var, training, momentum, eps):
    """Normalise over every dim but 1 with the batch statistics (training: running stats
    updated in place, unbiased variance) or the running ones."""
    centred = None
    if training:
        n = input.size // input.shape[1]
        mean, var, centred = kernels.batch_norm_stats(input)
        if running_mean is not None:
            m = np.asarray(momentum, running_mean.dtype)
            running_mean *= 1 - m
            running_mean += m * mean
        if running_var is not None:
            m = np.asarray(momentum, running_var.dtype)
            running_var *= 1 - m
            running_var += m * var * (n / max(n - 1, 1))
    else:
        mean = running_mean.astype(input.dtype, copy=False)
        var = running_var.astype(input.dtype, copy=False)
    out, ctx.invstd = kernels.batch_norm(input, mean, var, weight, bias, eps, centred)
    ctx.mean = mean
    return out


@_batch_norm.backward
def _(ctx, grad, input, weight, bias, running_mean, running_var, training, momentum, eps):
    gx = gw = gb = None
    if not grad_mode.is_grad_enabled():
        gx, gw, gb = (wrap(a) for a in kernels.batch_norm_backward(
            grad._data, input._data, ctx.mean, ctx.invstd,
            None if weight is None else weight._data, training))
        return gx if input.requires_grad else None, gw if _needs(weight) else None, \
            gb if _needs(bias) else None, None, None
    # double backward: the same formulas with ember ops (the batch statistics depend on x)
    shape = _affine_shape(input.dim())
    dims = [0] + list(range(2, input.dim()))
    if training:
        mean, invstd = _stats(input, dims, eps)
    else:
        mean, invstd = wrap(ctx.mean.reshape(shape)), wrap(ctx.invstd.reshape(shape))
    xhat = (input - mean) * invstd
    w = weight.reshape(shape) if weight is not None else 1
    if input.requires_grad:
        gx = _normalized_grad(grad * w, xhat, invstd, dims) if training else grad * (invstd * w)
    if _needs(weight):
        gw = (grad * xhat).sum(dims)
    if _needs(bias):
        gb = grad.sum(dims)
    return gx, gw, gb, None, None


def _needs(t):
    """Whether an optional tensor argument wants a gradient (ctx ops see their inputs only)."""
    return t is not None and t.requires_grad


@op(ctx=True, method=False, node="NativeLayerNormBackward0")
def _layer_norm(ctx, input, normalized_shape, weight, bias, eps):
    """Normalise over the last len(normalized_shape) dims, then weight and bias."""
    axes = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    mean = input.mean(axis=axes, keepdims=True)
    xc = input - mean
    rstd = 1 / np.sqrt(np.mean(np.square(xc), axis=axes, keepdims=True)
                       + np.asarray(eps, input.dtype))
    ctx.mean, ctx.rstd = mean, rstd
    xc *= rstd
    if weight is not None:
        xc *= weight
    if bias is not None:
        xc += bias
    return xc


@_layer_norm.backward
def _(ctx, grad, input, normalized_shape, weight, bias, eps):
    dims = list(range(input.dim() - len(normalized_shape), input.dim()))
    lead = list(range(input.dim() - len(normalized_shape)))
    if grad_mode.is_grad_enabled():
        mean, rstd = _stats(input, dims, eps)
    else:
        mean, rstd = wrap(ctx.mean), wrap(ctx.rstd)
    xhat = (input - mean) * rstd
    gx = _normalized_grad(grad * weight if weight is not None else grad, xhat, rstd, dims) \
        if input.requires_grad else None
    gw = (grad * xhat).sum(lead) if _needs(weight) else None
    gb = grad.sum(lead) if _needs(bias) else None
    return gx, None, gw, gb


@op(ctx=True, method=False, node="NativeGroupNormBackward0")
def _group_norm(ctx, input, num_groups, weight, bias, eps):
    """Normalise each group of channels of each sample, then per-channel weight and bias."""
    n, c = input.shape[:2]
    x = input.reshape(n, num_groups, -1)
    mean = x.mean(axis=2, keepdims=True)
    xc = x - mean
    rstd = 1 / np.sqrt(np.mean(np.square(xc), axis=2, keepdims=True)
                       + np.asarray(eps, input.dtype))
    ctx.mean, ctx.rstd = mean, rstd
    xc *= rstd
    out = xc.reshape(input.shape)
    shape = _affine_shape(input.ndim)
    if weight is not None:
        out *= weight.reshape(shape)
    if bias is not None:
        out += bias.reshape(shape)
    return out


@_group_norm.backward
def _(ctx, grad, input, num_groups, weight, bias, eps):
    n = input.shape[0]
    shape = _affine_shape(input.dim())
    x = input.reshape(n, num_groups, -1)
    if grad_mode.is_grad_enabled():
        mean, rstd = _stats(x, [2], eps)
    else:
        mean, rstd = wrap(ctx.mean), wrap(ctx.rstd)
    xhat = (x - mean) * rstd
    gxhat = (grad * weight.reshape(shape) if weight is not None else grad).reshape(n, num_groups,
                                                                                   -1)
    gx = _normalized_grad(gxhat, xhat, rstd, [2]).reshape(input.shape) \
        if input.requires_grad else None
    dims = [0] + list(range(2, input.dim()))
    gw = (grad * xhat.reshape(input.shape)).sum(dims) if _needs(weight) else None
    gb = grad.sum(dims) if _needs(bias) else None
    return gx, None, gw, gb


# -- embedding and padding -------------------------------------------------------------------
@op(method=False, node="EmbeddingBackward0")
def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of weight picked by integer indices."""
    if indices.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"{wrap(indices).type()} instead (while checking arguments for "
                           "embedding)")
    if indices.size and (indices.min() < -weight.shape[0] or indices.max() >= weight.shape[0]
                         or indices.min() < 0):
        raise IndexError("index out of range in self")
    return weight[indices]


@embedding.backward
def _(ctx, grad, weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return _embedding_backward(grad, indices, weight.shape[0], padding_idx,
                               scale_grad_by_freq), None


@op(saves=False, method=False, node="EmbeddingBackwardBackward0")
def _embedding_backward(grad, indices, num_weights, padding_idx, scale_grad_by_freq):
    """Rows of grad summed into a (num_weights, dim) zero matrix (the padding row kept 0)."""
    idx = indices.reshape(-1)
    g = grad.reshape(idx.size, grad.shape[-1])
    if scale_grad_by_freq:
        counts = np.bincount(idx, minlength=num_weights)
        g = g / counts[idx][:, None].astype(g.dtype)
    out = np.zeros((num_weights, g.shape[1]), grad.dtype)
    np.add.at(out, idx, g)
    if padding_idx >= 0:
        out[padding_idx] = 0
    return out


@_embedding_backward.backward
def _(ctx, gg, grad, indices, num_weights, padding_idx, scale_grad_by_freq):
    g = embedding(gg, indices)
    if padding_idx >= 0:
        g = g * wrap((indices._data != padding_idx)[..., None].astype(g._data.dtype))
    if scale_grad_by_freq:
        idx = indices._data.reshape(-1)
        counts = np.bincount(idx, minlength=num_weights)[indices._data]
        g = g / wrap(counts[..., None].astype(g._data.dtype))
    return g, None


@op(method=False, node="ConstantPadNdBackward0")
def constant_pad_nd(input, pad, value=0):
    """Pad (or crop, for negative amounts) the last len(pad) // 2 dims, last dim first."""
    n = len(pad) // 2
    if n > input.ndim:
        raise RuntimeError(f"Length of pad should be no more than twice the number of dimensions "
                           f"of the input. Pad length is {len(pad)} while the input has "
                           f"{input.ndim} dimensions.")
    lo = [0] * input.ndim
    hi = [0] * input.ndim
    for i in range(n):
        lo[input.ndim - 1 - i], hi[input.ndim - 1 - i] = pad[2 * i], pad[2 * i + 1]
    shape = tuple(s + a + b for s, a, b in zip(input.shape, lo, hi))
    if any(s < 0 for s in shape):
        raise RuntimeError(f"The input size {input.shape[lo.index(min(lo))]}, plus negative "
                           f"padding {min(lo)} and {min(hi)} resulted in a negative output size, "
                           "which is invalid. Check dimension of your input.")
    out = np.full(shape, value, input.dtype) if value else np.zeros(shape, input.dtype)
    src = tuple(slice(max(-a, 0), s - max(-b, 0)) for s, a, b in zip(input.shape, lo, hi))
    dst = tuple(slice(max(a, 0), max(a, 0) + (sl.stop - sl.start)) for a, sl in zip(lo, src))
    out[dst] = input[src]
    return out


@constant_pad_nd.backward
def _(ctx, grad, input, pad, value=0):
    return constant_pad_nd(grad, [-p for p in pad])


# in-place variants (F.relu_, torch.threshold_, ...): computed out of place, written back
threshold_, hardtanh_, leaky_relu_, elu_, celu_, silu_, mish_, hardsigmoid_, hardswish_ = (
    make_inplace(f, f.__name__) for f in (threshold, hardtanh, leaky_relu, elu, celu, silu, mish,
                                          hardsigmoid, hardswish))
relu_ = make_inplace(relu, "relu")

__all__ = ["relu", "relu_", "threshold", "threshold_", "celu", "celu_", "softmax",
           "log_softmax", "hardshrink", "prelu", "embedding", "constant_pad_nd", "convolution"]
