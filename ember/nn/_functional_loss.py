"""The loss functions of torch.nn.functional (re-exported by functional.py): reduction
'none' | 'mean' | 'sum' with the legacy size_average / reduce flags mapped as torch maps them.
The fused ones are ops (ember/ops/loss.py); the others are compositions of ember ops, as in
torch (so their grad_fn names match torch's too).
"""
import math
import warnings

import numpy as np

from .. import ops
from ..autograd import no_grad, is_grad_enabled
from .._tensor import wrap
from ..ops import loss as _loss, nn as _nn
from . import _reduction as _Reduction

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "nll_loss",
           "cross_entropy", "kl_div", "poisson_nll_loss", "gaussian_nll_loss",
           "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
           "ctc_loss"]


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return _Reduction.legacy_get_string(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _apply(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _size_warning(input, target):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _weighted(loss, weight, reduction, input, mean_by_weight=True):
    """torch 2.13's optional elementwise weight of mse / l1 / huber."""
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / weight.sum() if mean_by_weight else loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                     "'sum'.")


# -- regression ------------------------------------------------------------------------------
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted(_loss.mse_loss(input, target, "none"), weight, reduction, input)
    return _loss.mse_loss(input, target, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    d = (input - target).abs()
    return _weighted(d, weight, reduction, input) if weight is not None else _apply(d, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return _loss.smooth_l1_loss(input, target, reduction, beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _size_warning(input, target)
    _reduction(None, None, reduction)
    if weight is not None:
        return _weighted(_loss.huber_loss(input, target, "none", delta), weight, reduction,
                         input, mean_by_weight=False)
    return _loss.huber_loss(input, target, reduction, delta)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return _loss.soft_margin_loss(input, target, _reduction(size_average, reduce, reduction))


# -- binary classification -------------------------------------------------------------------
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the "
                         f"input size ({input.shape}) is deprecated. Please ensure they have the "
                         "same size.")
    if weight is not None:
        if weight.requires_grad and is_grad_enabled():
            raise RuntimeError("The function 'binary_cross_entropy' is not differentiable with "
                               "respect to argument 'weight'. This input cannot have "
                               "requires_grad True.")
        if weight.shape != input.shape:
            weight = weight.expand(input.shape)
    return _loss.binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    return _loss.binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * _nn.logsigmoid(input) + (1 - target) * _nn.logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(loss.dim() - 1) / input.shape[-1]
    return _apply(loss, reduction)


# -- classification --------------------------------------------------------------------------
_INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.uint8))


def _check_nll(input, target, weight):
    """torch's shape and dtype checks of nll_loss / cross_entropy on class indices."""
    shape, tshape = input._data.shape, target._data.shape
    n, tn = len(shape), len(tshape)
    if n < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {n})")
    if n <= 2:
        if tn > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if n == 2 and (tn == 0 or shape[0] != tshape[0]):
            raise ValueError(f"Expected input batch_size ({shape[0]}) to match target "
                             f"batch_size ({tshape[0] if tn else 1}).")
        if n == 1 and tn != 0:
            raise ValueError(f"Expected input batch_size (1) to match target batch_size "
                             f"({tshape[0]}).")
    elif tshape != shape[:1] + shape[2:]:
        if shape[0] != tshape[0]:
            raise ValueError(f"Expected input batch_size ({shape[0]}) to match target "
                             f"batch_size ({tshape[0]}).")
        raise RuntimeError(f"Expected target size {list(shape[:1] + shape[2:])}, "
                           f"got {list(tshape)}")
    c = shape[1] if n > 1 else shape[0]
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    if target._data.dtype not in _INDEX_DTYPES:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{target.type()[6:-6]}")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_nll(input, target, weight)
    return _loss._nll_loss(input, target, weight, reduction, ignore_index)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """log_softmax over dim 1 and nll_loss, fused for class-index targets; class-probability
    targets (same shape as input) and label smoothing compose the same pieces as torch."""
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    if label_smoothing == 0 and target._data.dtype.kind != "f":     # class indices: fused
        _check_nll(input, target, weight)
        return _loss._cross_entropy(input, target, weight, reduction, ignore_index)
    class_dim = 1 if input.dim() > 1 else 0
    c = input.shape[class_dim]

    def weighted(logp):
        if weight is None:
            return logp
        shape = [1] * input.dim()
        shape[class_dim] = c
        return logp * weight.view(shape)

    if target.shape == input.shape and target.is_floating_point():
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        loss = -(weighted(_nn.log_softmax(input, class_dim)) * target).sum(class_dim)
        if reduction == "mean":
            return loss.sum() / (input.numel() // c)
        return _apply(loss, reduction)
    _check_nll(input, target, weight)
    logp = _nn.log_softmax(input, class_dim)
    nll = _loss._nll_loss(logp, target, weight, reduction, ignore_index)
    ignored = wrap(target._data == ignore_index)
    smooth = (-weighted(logp).sum(class_dim)).masked_fill(ignored, 0.0)
    if reduction == "mean":
        if weight is not None:
            kept = target._data[~ignored._data]
            smooth = smooth.sum() / weight[wrap(kept)].sum()
        else:
            smooth = smooth.sum() / int((~ignored._data).sum())
    else:
        smooth = _apply(smooth, reduction)
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / c)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """sum over i != y of max(0, margin - x_y + x_i) ** p / C (times weight[y])."""
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    x = input if input.dim() > 1 else input.unsqueeze(0)
    t = target.reshape(-1, 1)
    picked = x[ops.arange(x.shape[0]), target.reshape(-1)].unsqueeze(1)
    m = (x - picked + margin).clamp_min(0)
    if p == 2:
        m = m * m
    if weight is not None:
        m = m * weight[target.reshape(-1)].unsqueeze(1)
    others = wrap(np.arange(x.shape[1]) != t._data)
    loss = (m * others).sum(1) / x.shape[1]
    return _apply(loss if input.dim() > 1 else loss.squeeze(0), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j and non-target classes i of max(0, 1 - (x_j - x_i)) / C; the
    targets of a sample are its leading non-negative entries."""
    reduction = _reduction(size_average, reduce, reduction)
    x = input if input.dim() > 1 else input.unsqueeze(0)
    t = target._data.reshape(x.shape)
    c = x.shape[1]
    valid = np.cumprod(t >= 0, axis=1).astype(bool)
    is_target = np.zeros(x.shape, bool)
    rows = np.nonzero(valid)
    is_target[rows[0], t[rows]] = True
    pair = valid[:, :, None] & ~is_target[:, None, :]                 # (n, j-slot, i)
    xt = x[wrap(np.arange(x.shape[0])[:, None]), wrap(np.where(valid, t, 0))]
    hinge = (1 - (xt.unsqueeze(2) - x.unsqueeze(1))).clamp_min(0)
    loss = (hinge * wrap(pair)).sum((1, 2)) / c
    return _apply(loss if input.dim() > 1 else loss.squeeze(0), reduction)


# -- distributions ---------------------------------------------------------------------------
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target * (log(target) - input), input being log-probabilities."""
    if size_average is not None or reduce is not None:
        reduction = _Reduction.legacy_get_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _loss._xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() else loss.sum()
    return _apply(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-08,
                     reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        t = target._data
        safe = np.where(t > 1, t, 1.0)
        stirling = np.where(t > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe),
                            0.0)
        loss = loss + wrap(stirling.astype(t.dtype if t.dtype.kind == "f" else
                                           input._data.dtype))
    return _apply(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-06, reduction="mean"):
    """0.5 (log(var) + (input - target)^2 / var), var clamped to eps without gradient."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = ops.full_like(input, var)
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.shape[:-1] == var.shape[:-1] and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target).pow(2) / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply(loss, reduction)


# -- ranking and embedding -------------------------------------------------------------------
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same "
                           f"dimension but got sizes: input1: {input1.shape}, input2: "
                           f"{input2.shape}, target: {target.shape} ")
    return _apply((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    zero = ops.zeros_like(input)
    loss = ops.where(target != 1, (margin - input).clamp_min(0), zero) + \
        ops.where(target != -1, input, zero)
    return _apply(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    dim = input1.dim() - 1
    eps = 1e-12
    prod = (input1 * input2).sum(dim)
    denom = (((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)).sqrt()
    cos = prod / denom
    zero = ops.zeros_like(cos)
    loss = ops.where(target == 1, 1 - cos, zero) + \
        ops.where(target == -1, (cos - margin).clamp_min(0), zero)
    return _apply(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    from .functional import pairwise_distance
    reduction = _reduction(size_average, reduce, reduction)
    if not (anchor.dim() == positive.dim() == negative.dim()):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {anchor.dim()}D, "
                           f"positive {positive.dim()}D, and negative {negative.dim()}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ops.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _apply((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    from .functional import pairwise_distance
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = ops.minimum(d_neg, dist(positive, negative))
    return _apply((margin + d_pos - d_neg).clamp_min(0), reduction)


# -- sequences -------------------------------------------------------------------------------
def _lengths(v):
    return tuple(int(x) for x in (v.tolist() if hasattr(v, "tolist") else v))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist temporal classification loss of log_probs (T, N, C) against targets
    (N, S) padded, or concatenated (sum(target_lengths),); 'mean' divides each sample's loss
    by its target length first, as torch."""
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0) if targets.dim() == 1 else targets
    il, tl = _lengths(input_lengths), _lengths(target_lengths)
    t = targets._data.astype(np.int64)
    if t.ndim == 1:                              # concatenated targets
        padded = np.zeros((len(tl), max(tl, default=0)), np.int64)
        starts = np.cumsum((0,) + tl[:-1])
        for i, (s0, n) in enumerate(zip(starts, tl)):
            padded[i, :n] = t[s0:s0 + n]
        t = padded
    nll = _loss._ctc_loss(log_probs, t, il, tl, blank, zero_infinity)
    if zero_infinity:
        nll = ops.where(nll == float("inf"), ops.zeros_like(nll), nll)
    if reduction == "mean":
        return (nll / wrap(np.maximum(np.asarray(tl), 1).astype(nll._data.dtype))).mean()
    if reduction == "sum":
        return nll.sum()
    return nll.squeeze(0) if unbatched else nll
