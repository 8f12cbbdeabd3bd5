"""torch.nn.functional: the public functions, with torch's names, signatures, defaults and
errors. The arithmetic lives in ember/ops (conv, pooling, nn, loss); the functions here
check and normalise arguments, call those ops and compose the rest from existing ember ops.
Pooling, the losses, the sampling / reshaping functions (pad, interpolate, grid_sample,
fold, ...) and attention are in _functional_pooling.py, _functional_loss.py,
_functional_vision.py and _functional_attention.py, re-exported here.
"""
import math
import warnings

import numpy as np

from .. import ops
from .. import random as _random
from ..ops._registry import write_out
from .._tensor import wrap
from ..ops import nn as _nn
from ..ops.conv import convolution as _convolution, _ntuple
from ..ops.pointwise import sigmoid, tanh          # noqa: F401  (F.sigmoid / F.tanh)
from . import _reduction as _Reduction             # noqa: F401  (torch's F._Reduction)


# -- linear and convolution ------------------------------------------------------------------
def linear(input, weight, bias=None, *, out=None):
    """input @ weight.T + bias (addmm for 2-D input with bias, as torch)."""
    if out is not None:
        return write_out(out, linear(input, weight, bias), "linear")
    if input.dim() == 2:
        return ops.addmm(bias, input, weight.t()) if bias is not None else input.mm(weight.t())
    if input.dim() == 1 or weight.dim() != 2:
        out = input.matmul(weight.t())
        return out + bias if bias is not None else out
    lead = input.shape[:-1]
    x = input.reshape(-1, input.shape[-1])
    out = ops.addmm(bias, x, weight.t()) if bias is not None else x.mm(weight.t())
    return out.view(lead + (weight.shape[0],))


def bilinear(input1, input2, weight, bias=None):
    """y_o = x1^T A_o x2 + b_o over the last dim of both inputs."""
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and "
                           f"{input2.dim()}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape)} and {list(input2.shape)}")
    out, in1, in2 = weight.shape
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    t = x1.mm(weight.permute(1, 0, 2).reshape(in1, out * in2)).view(-1, out, in2)
    y = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.view(lead + (out,))


def _same_padding(input, weight, stride, dilation, nd):
    """padding='same': the symmetric part, and the input padded on the high side where the
    total is odd (as torch)."""
    if any(s != 1 for s in _ntuple(stride, nd)):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    total = [d * (k - 1) for d, k in zip(_ntuple(dilation, nd), weight.shape[2:])]
    extra = []
    for t in reversed(total):
        extra += [0, t % 2]
    if any(extra):
        input = pad(input, extra)
    return input, [t // 2 for t in total]


def _conv(input, weight, bias, stride, padding, dilation, groups, nd, transposed=False,
          output_padding=0):
    unbatched = input.dim() == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            input, padding = _same_padding(input, weight, stride, dilation, nd)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    out = _convolution(input, weight, bias, _norm_arg(stride, nd), _norm_arg(padding, nd),
                       _norm_arg(dilation, nd), transposed, _norm_arg(output_padding, nd),
                       groups)
    return out.squeeze(0) if unbatched else out


def _norm_arg(v, nd):
    """Keep a wrong-length sequence as a list so the op raises torch's error about it."""
    return list(v) if isinstance(v, (list, tuple)) and len(v) not in (1, nd) else \
        _ntuple(v, nd)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, True,
                 output_padding)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, True,
                 output_padding)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3, True,
                 output_padding)


# -- activations -----------------------------------------------------------------------------
def relu(input, inplace=False):
    return input.relu_() if inplace else _nn.relu(input)


relu_ = _nn.relu_


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return (_nn.hardtanh_ if inplace else _nn.hardtanh)(input, min_val, max_val)


hardtanh_ = _nn.hardtanh_


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return (_nn.leaky_relu_ if inplace else _nn.leaky_relu)(input, negative_slope)


leaky_relu_ = _nn.leaky_relu_


def threshold(input, threshold, value, inplace=False):
    return (_nn.threshold_ if inplace else _nn.threshold)(input, threshold, value)


threshold_ = _nn.threshold_


def elu(input, alpha=1.0, inplace=False):
    return (_nn.elu_ if inplace else _nn.elu)(input, alpha)


def elu_(input, alpha=1.0):
    return _nn.elu_(input, alpha)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(input, inplace=False):
    return (_nn.elu_ if inplace else _nn.elu)(input, _SELU_ALPHA, _SELU_SCALE)


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    return (_nn.celu_ if inplace else _nn.celu)(input, alpha)


def celu_(input, alpha=1.0):
    return _nn.celu_(input, alpha)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU with a random slope in [lower, upper] per element when training, their mean
    otherwise."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    a = _random.rng().uniform(lower, upper, input.shape).astype(input._data.dtype)
    slope = wrap(np.where(input._data >= 0, np.ones((), a.dtype), a))
    return input.mul_(slope) if inplace else input * slope


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)


def silu(input, inplace=False):
    return (_nn.silu_ if inplace else _nn.silu)(input)


def mish(input, inplace=False):
    return (_nn.mish_ if inplace else _nn.mish)(input)


def hardsigmoid(input, inplace=False):
    return (_nn.hardsigmoid_ if inplace else _nn.hardsigmoid)(input)


def hardswish(input, inplace=False):
    return (_nn.hardswish_ if inplace else _nn.hardswish)(input)


# torch's C functions: the ops themselves (they take out= as torch's do)
gelu, softplus, logsigmoid, softshrink, hardshrink = (_nn.gelu, _nn.softplus, _nn.logsigmoid,
                                                      _nn.softshrink, _nn.hardshrink)


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def prelu(input, weight):
    return _nn.prelu(input, weight)


def glu(input, dim=-1):
    return _nn.glu(input, dim)


def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return _nn.softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    return _nn.softmax(-input if dtype is None else -input.to(dtype), dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _nn.log_softmax(input, dim, dtype)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Softmax of (logits + Gumbel noise) / tau; `hard` returns one-hots with the soft
    sample's gradient (straight-through)."""
    g = -np.log(_random.rng().exponential(size=logits.shape)).astype(logits._data.dtype)
    y = _nn.softmax((logits + wrap(g)) / tau, dim)
    if not hard:
        return y
    index = y.argmax(dim, keepdim=True)
    y_hard = ops.zeros_like(logits).scatter(dim, index, 1.0)
    return y_hard - y.detach() + y


# -- normalization ---------------------------------------------------------------------------
def _check_stat(stat, name, c):
    if stat is not None and stat.numel() != c:
        raise RuntimeError(f"{name} should contain {c} elements not {stat.numel()}")


def _bump(*tensors):
    for t in tensors:
        if t is not None:
            t._vc.value += 1


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Normalise over every dim but the channel dim 1; training uses the batch statistics and
    updates the running ones in place (unbiased variance), eval uses the running ones."""
    if training:
        n = input.numel() // input.shape[1] if input.dim() > 1 else 1
        if n == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")
    elif running_mean is None or running_var is None:
        raise RuntimeError(f"running_{'mean' if running_mean is None else 'var'} must be "
                           "defined in evaluation mode")
    c = input.shape[1]
    _check_stat(running_mean, "running_mean", c)
    _check_stat(running_var, "running_var", c)
    _check_stat(weight, "weight", c)
    _check_stat(bias, "bias", c)
    stats = [None if s is None else s._data for s in (running_mean, running_var)]
    # the running stats are updated in place without a version bump, as in torch
    return _nn._batch_norm(input, weight, bias, *stats, training, momentum, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """batch_norm of each (sample, channel) plane: the input seen as (1, N * C, *)."""
    if use_input_stats and input.numel() // (input.shape[0] * input.shape[1]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{input.shape}")
    n, c = input.shape[:2]
    stats = [None if s is None else np.tile(s._data, n) for s in (running_mean, running_var)]
    out = _nn._batch_norm(input.reshape((1, n * c) + input.shape[2:]),
                          None if weight is None else weight.repeat(n),
                          None if bias is None else bias.repeat(n), *stats, use_input_stats,
                          momentum, eps)
    if use_input_stats:
        for s, tiled in zip((running_mean, running_var), stats):
            if s is not None:
                s._data[...] = tiled.reshape(n, c).mean(0)
                _bump(s)
    return out.view(input.shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalise over the last len(normalized_shape) dims."""
    shape = tuple(normalized_shape) if isinstance(normalized_shape, (list, tuple)) else \
        (int(normalized_shape),)
    if tuple(input.shape[input.dim() - len(shape):]) != shape or input.dim() < len(shape):
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    return _nn._layer_norm(input, shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalise each group of num_groups channels of each sample."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    if input.shape[1] % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    return _nn._group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2 over the last dims) + eps) * weight."""
    shape = tuple(normalized_shape) if isinstance(normalized_shape, (list, tuple)) else \
        (int(normalized_shape),)
    dims = tuple(range(-len(shape), 0))
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    out = input * (input.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    return out * weight if weight is not None else out


def local_response_norm(input, size, alpha=0.0001, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels) ** beta."""
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input "
                         f"(got {input.dim()} dimensions)")
    if input.numel() == 0:
        return input
    sq = input * input
    sq = pad(sq.movedim(1, -1), (size // 2, (size - 1) // 2)).movedim(-1, 1)
    c = input.shape[1]
    total = sq.narrow(1, 0, c)
    for i in range(1, size):
        total = total + sq.narrow(1, i, c)
    return input / (total * (alpha / size) + k).pow(beta)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps)."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is not None:
        return ops.div(input, denom, out=out)
    return input / denom


# -- dropout ---------------------------------------------------------------------------------
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _kept(input, p, shape):
    """Boolean Bernoulli(1 - p) draw of `shape` (one uniform draw in input's float dtype)."""
    dt = input._data.dtype
    return _random.rng().random(shape, dtype=dt if dt in (np.float32, np.float64)
                                else np.float64) >= p


def _keep_mask(input, p, shape):
    """The kept elements scaled by 1 / (1 - p), in input's dtype."""
    dt = input._data.dtype
    if p == 1:
        return np.zeros(shape, dt)
    return _kept(input, p, shape) * np.asarray(1.0 / (1.0 - p), dt)


def _apply_mask(input, mask, inplace):
    m = wrap(mask)
    return input.mul_(m) if inplace else input * m


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p, scale the rest by 1 / (1 - p)."""
    _check_p(p)
    if not training or p == 0:
        return input
    return _apply_mask(input, _keep_mask(input, p, input.shape), inplace)


def _feature_shape(input, batched_dim):
    """Mask shape for channel-wise dropout: one draw per (sample, channel)."""
    lead = 2 if input.dim() == batched_dim else 1
    return input.shape[:lead] + (1,) * (input.dim() - lead)


def _feature_dropout(input, p, training, inplace, nd):
    _check_p(p)
    if not training or p == 0:
        return input
    return _apply_mask(input, _keep_mask(input, p, _feature_shape(input, nd + 2)), inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout on "
                           "inputs with 1 spatial dimension, a channel dimension, and an "
                           "optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    if input.dim() == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape "
                      "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch "
                      "to using dropout1d instead.", stacklevel=2)
        return _feature_dropout(input, p, training, inplace, 1)
    return _feature_dropout(input, p, training, inplace, 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    if input.dim() == 3:
        warnings.warn("dropout3d: Received a 3-D input to dropout3d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and "
                      "silence this warning, please use dropout instead. Note that dropout3d "
                      "exists to provide channel-wise dropout on inputs with 3 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 4D "
                      "or 5D inputs).", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, 3)


_SELU_NEG = _SELU_ALPHA * _SELU_SCALE       # the SELU's negative saturation value (1.7581)


def _alpha_dropout(input, p, training, inplace, shape):
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        return input.mul_(0) if inplace else input * 0
    keep = 1.0 - p
    a = 1.0 / math.sqrt((_SELU_NEG ** 2 * p + 1) * keep)
    dt = input._data.dtype
    kept = _kept(input, p, shape)
    b = wrap(np.where(kept, np.asarray(_SELU_NEG * a * p, dt),
                      np.asarray(_SELU_NEG * a * (p - 1), dt)))
    m = wrap(kept * np.asarray(a, dt))
    return input.mul_(m).add_(b) if inplace else input * m + b


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout keeping SELU's self-normalisation: dropped values set to the negative
    saturation, then an affine map restoring mean and variance."""
    return _alpha_dropout(input, p, training, inplace, input.shape)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha_dropout(input, p, training, inplace, _feature_shape(input, input.dim()))


# -- embeddings ------------------------------------------------------------------------------
def _padding_idx(padding_idx, n):
    if padding_idx is None:
        return -1
    if padding_idx > 0:
        assert padding_idx < n, "Padding_idx must be within num_embeddings"
    elif padding_idx < 0:
        assert padding_idx >= -n, "Padding_idx must be within num_embeddings"
        padding_idx += n
    return padding_idx


def _renorm_(weight, input, max_norm, norm_type):
    """Rescale (in place) the rows of weight that input uses whose norm exceeds max_norm."""
    rows = np.unique(input._data)
    w = weight._data
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] *= scale[:, None].astype(w.dtype)
    _bump(weight)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of weight picked by input; no gradient flows to padding_idx's row."""
    padding_idx = _padding_idx(padding_idx, weight.shape[0])
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    return _nn.embedding(weight, input, padding_idx, scale_grad_by_freq, sparse)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sum / mean / max of the embeddings of each bag (rows of a 2-D input, or the slices of a
    1-D input starting at offsets); empty bags give zeros."""
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.dim()}")
    if per_sample_weights is not None and per_sample_weights.shape != input.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is "
                         f"not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {offsets.type()}")
        idx = input._data
        valid = np.ones(idx.shape, bool)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = offsets._data.astype(np.int64)
        ends = np.append(starts[1:], input.shape[0])
        if include_last_offset:
            starts, ends = starts[:-1], ends[:-1]
        length = int((ends - starts).max()) if starts.size else 0
        pos = starts[:, None] + np.arange(length)
        valid = pos < ends[:, None]
        idx = input._data[np.minimum(pos, max(input.shape[0] - 1, 0))] if input.shape[0] else \
            np.zeros(pos.shape, np.int64)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    pidx = _padding_idx(padding_idx, weight.shape[0])
    if pidx >= 0:
        valid = valid & (idx != pidx)
    if max_norm is not None:
        _renorm_(weight, wrap(idx[valid]), max_norm, norm_type)
    emb = _nn.embedding(weight, wrap(idx), pidx, scale_grad_by_freq, sparse)
    keep = wrap(valid[..., None])
    if per_sample_weights is not None:
        psw = per_sample_weights if input.dim() == 2 else \
            per_sample_weights[wrap(np.minimum(pos, input.shape[0] - 1))]
        emb = emb * psw.unsqueeze(-1)
    if mode == "max":
        out = emb.masked_fill(~keep, float("-inf")).amax(1)
        return out.masked_fill(~keep.any(1), 0.0)
    out = emb.masked_fill(~keep, 0.0).sum(1)
    if mode == "mean":
        out = out / wrap(np.maximum(valid.sum(1, keepdims=True), 1).astype(out._data.dtype))
    return out


def one_hot(tensor, num_classes=-1):
    """(*, num_classes) int64 tensor with a 1 at each index."""
    a = tensor._data
    if a.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(a.shape + (num_classes,), np.int64)
    np.put_along_axis(out, a[..., None], 1, -1)
    return wrap(out)


# -- distances and attention -----------------------------------------------------------------
def pairwise_distance(x1, x2, p=2.0, eps=1e-06, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    return (x1 - x2 + eps).norm(p, -1, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-08):
    """<x1, x2> / (max(||x1||, eps) * max(||x2||, eps)) along dim."""
    x1, x2 = ops.broadcast_tensors(x1, x2)
    n1 = x1.norm(2, dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pdist(input, p=2):
    """Distances between all pairs of rows (upper triangle, row-major)."""
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    return pairwise_distance(input[wrap(i)], input[wrap(j)], p, 0.0)


def channel_shuffle(input, groups):
    n, c = input.shape[:2]
    rest = input.shape[2:]
    return input.reshape((n, groups, c // groups) + rest).transpose(1, 2).reshape(input.shape)


native_channel_shuffle = channel_shuffle

from ._functional_pooling import *     # noqa: E402,F401,F403
from ._functional_loss import *        # noqa: E402,F401,F403
from ._functional_vision import *      # noqa: E402,F401,F403
from ._functional_attention import *   # noqa: E402,F401,F403
