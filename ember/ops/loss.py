"""Fused losses with torch's node names: nll_loss (NllLossBackward0 / NllLoss2DBackward0),
cross_entropy on class indices (log_softmax + nll in one forward, still NllLossBackward0 as
torch's graph ends there), mse, smooth L1, Huber, soft margin and the binary cross entropies.

`reduction` is 'none' | 'mean' | 'sum'; backward scales the incoming gradient by 1/n for
'mean'. Backward formulas are ember ops, so double backward works.
"""
import numpy as np

from .._tensor import wrap
from ._registry import op
from .pointwise import sigmoid


def _reduce(loss, reduction):
    if reduction == "mean":
        if not loss.size:
            return np.asarray(np.nan, loss.dtype)
        # what mean() computes for 32 and 64-bit floats, without its wrapper's cost on small
        # arrays; float16 keeps mean()'s float32 accumulation
        return loss.sum() / loss.size if loss.dtype.itemsize >= 4 else loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _per_element(grad, reduction, n):
    """The incoming gradient as a factor of each element's loss gradient."""
    return grad / n if reduction == "mean" else grad


def log_softmax_array(x, axis):
    """Stable log_softmax of an array along axis: the max is subtracted first, so that a row
    holding inf, or only -inf, gives nan as in torch."""
    z = x - x.max(axis=axis, keepdims=True)
    z -= np.log(np.exp(z).sum(axis=axis, keepdims=True))
    return z


# -- pointwise regression losses -------------------------------------------------------------
@op(promote=(0, 1), method=False, node="MseLossBackward0")
def mse_loss(input, target, reduction="mean"):
    """(input - target) ** 2, reduced."""
    d = np.subtract(input, target)
    return _reduce(d * d, reduction)


@mse_loss.backward
def _(ctx, grad, input, target, reduction="mean"):
    d = input - target
    g = d * (_per_element(grad, reduction, d.numel()) * 2)
    return g, (-g if ctx.needs_input_grad[1] else None)


@op(promote=(0, 1), method=False, node="SmoothL1LossBackward0")
def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta."""
    z = np.abs(input - target)
    if beta == 0:
        return _reduce(z, reduction)
    return _reduce(np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta).astype(z.dtype),
                   reduction)


@smooth_l1_loss.backward
def _(ctx, grad, input, target, reduction="mean", beta=1.0):
    d = input - target
    g = d.sign() if beta == 0 else (d / beta).clamp(-1, 1)
    g = g * _per_element(grad, reduction, d.numel())
    return g, (-g if ctx.needs_input_grad[1] else None)


@op(promote=(0, 1), method=False, node="HuberLossBackward0")
def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    z = np.abs(input - target)
    return _reduce(np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta)).astype(z.dtype),
                   reduction)


@huber_loss.backward
def _(ctx, grad, input, target, reduction="mean", delta=1.0):
    d = input - target
    g = d.clamp(-delta, delta) * _per_element(grad, reduction, d.numel())
    return g, (-g if ctx.needs_input_grad[1] else None)


@op(promote=(0, 1), method=False, node="SoftMarginLossBackward0")
def soft_margin_loss(input, target, reduction="mean"):
    """log(1 + exp(-target * input))."""
    with np.errstate(over="ignore"):
        return _reduce(np.log1p(np.exp(-input * target)), reduction)


@soft_margin_loss.backward
def _(ctx, grad, input, target, reduction="mean"):
    g = -target * sigmoid(-input * target) * _per_element(grad, reduction, input.numel())
    return g, None


@op(promote=(0, 1), float_out=True, method=False, node="XlogyBackward0")
def _xlogy(input, other):
    """input * log(other), 0 where input is 0 (torch.xlogy; kl_div's target * log(target))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = input * np.log(other)
    return np.where((input == 0) & ~np.isnan(other), np.zeros((), out.dtype), out)


@_xlogy.backward
def _(ctx, grad, input, other):
    need = ctx.needs_input_grad
    gi = grad * _xlogy(input != 0, other) if need[0] else None
    go = grad * input / other if need[1] else None
    return gi, go


# -- binary cross entropy --------------------------------------------------------------------
def _clamped_logs(x):
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(x), -100), np.maximum(np.log1p(-x), -100)


@op(promote=(0, 1, 2), method=False, node="BinaryCrossEntropyBackward0")
def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-(t log x + (1 - t) log(1 - x)), logs clamped to >= -100 as torch."""
    if input.size and ((input < 0) | (input > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    lx, l1x = _clamped_logs(input)
    loss = -(target * lx + (1 - target) * l1x)
    if weight is not None:
        loss *= weight
    return _reduce(loss, reduction)


@binary_cross_entropy.backward
def _(ctx, grad, input, target, weight=None, reduction="mean"):
    g = _per_element(grad, reduction, input.numel())
    if weight is not None:
        g = g * weight
    gi = g * (input - target) / ((1 - input) * input).clamp(min=1e-12)
    gt = None
    if ctx.needs_input_grad[1]:
        gt = g * ((1 - input).log().clamp(min=-100) - input.log().clamp(min=-100))
    return gi, gt, None


@op(promote=(0, 1, 2, 3), method=False, node="BinaryCrossEntropyWithLogitsBackward0")
def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,
                                     reduction="mean"):
    """BCE of sigmoid(input), computed stably; pos_weight scales the positive term."""
    softplus_neg = np.log1p(np.exp(-np.abs(input))) + np.maximum(-input, 0)   # -log sigmoid(x)
    if pos_weight is not None:
        softplus_neg = softplus_neg * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@binary_cross_entropy_with_logits.backward
def _(ctx, grad, input, target, weight=None, pos_weight=None, reduction="mean"):
    g = _per_element(grad, reduction, input.numel())
    if weight is not None:
        g = g * weight
    s = sigmoid(input)
    if pos_weight is None:
        gi = g * (s - target)
    else:
        gi = g * (s * ((pos_weight - 1) * target + 1) - pos_weight * target)
    gt = None
    if ctx.needs_input_grad[1]:
        from .nn import logsigmoid
        gt = -input if pos_weight is None else -input - (pos_weight - 1) * logsigmoid(input)
        gt = g * gt
    return gi, gt, None, None


# -- negative log likelihood and cross entropy -----------------------------------------------
def _nll_node(args):
    return "NllLoss2DBackward0" if args[0].dim() >= 3 else "NllLossBackward0"


def _targets(input, target, weight, ignore_index):
    """Per sample: the class index (0 where ignored) and its weight (0 where ignored), with
    torch's checks. input is (N, C, *d) or (C,), target (N, *d) or ()."""
    valid = target != ignore_index
    t = target.astype(np.int64, copy=False) if valid.all() else \
        np.where(valid, target, 0).astype(np.int64, copy=False)
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    if t.size and (t.min() < 0 or t.max() >= c):
        bad = (t < 0) | (t >= c)
        raise IndexError(f"Target {int(target[bad].flat[0])} is out of bounds.")
    w = valid.astype(input.dtype)
    if weight is not None:
        w *= weight[t]
    return t, w, valid


def _nll_reduce(picked, w, reduction):
    loss = -picked * w
    if reduction == "mean":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(loss.sum() / w.sum(), loss.dtype)
    return _reduce(loss, reduction)


def _pick(a, t):
    """a[n, t[n, ...], ...]: the class dim is 1 (0 for a single (C,) sample)."""
    if a.ndim == 1:
        return a[t]
    if a.ndim == 2:
        return a[np.arange(a.shape[0]), t]
    return np.take_along_axis(a, t[:, None], 1)[:, 0]


def _plain_targets(input, target, weight, ignore_index):
    """The common case of the class-index losses: a (N, C) batch of N >= 1 samples, no class
    weight, every target in range and none ignored (so every sample counts once). Returns the
    targets as int64, else None for the general path (which also raises torch's errors)."""
    if weight is not None or input.ndim != 2 or not target.size:
        return None
    t = target.astype(np.int64, copy=False)
    c = input.shape[1]
    # one reduction checks both bounds: negative targets read as unsigned are huge
    if t.view(np.uint64).max() >= c or 0 <= ignore_index < c and (t == ignore_index).any():
        return None
    return t


def _plain_share(grad, n, reduction):
    """Each sample's factor of the incoming gradient when every sample counts once: grad / n
    for 'mean', grad for 'sum' (0-dim), one per sample for 'none'."""
    return grad / n if reduction == "mean" else grad


def _shares(input, target, weight, reduction, ignore_index):
    """Each sample's class index and its share of the loss: its class weight (0 if ignored),
    divided by the total weight for 'mean' (ignored samples stay 0 even if all are)."""
    t, w, valid = _targets(input, target, weight, ignore_index)
    if reduction == "mean":
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(valid, w / w.sum(), np.zeros((), w.dtype))
    return t, w


def _class_axis(a):
    return 1 if a.ndim > 1 else 0


def _onehot(a, t):
    """A zero array like `a` with a 1 at each sample's class."""
    out = np.zeros(a.shape, a.dtype)
    if a.ndim == 1:
        out[t] = 1
    elif a.ndim == 2:
        out[np.arange(t.shape[0]), t] = 1
    else:
        np.put_along_axis(out, t[:, None], 1, 1)
    return out


def _per_sample(a, coef):
    """coef (one value per sample) broadcast along a's class axis."""
    return np.expand_dims(coef, 1) if a.ndim > 1 else coef


def _arrays(*tensors):
    return [None if t is None else t._data for t in tensors]


@op(method=False, node=_nll_node)
def _nll_loss(input, target, weight, reduction, ignore_index):
    """-input[n, target[n]] * weight[target[n]], ignored targets left out of the mean."""
    t = _plain_targets(input, target, weight, ignore_index)
    if t is not None:
        return _reduce(-input[np.arange(t.shape[0]), t], reduction)
    t, w, _ = _targets(input, target, weight, ignore_index)
    return _nll_reduce(_pick(input, t), w, reduction)


@_nll_loss.backward
def _(ctx, grad, input, target, weight, reduction, ignore_index):
    return _nll_loss_backward(grad, input, target, weight, reduction, ignore_index), None, None


@op(method=False, node="NllLossBackwardBackward0")
def _nll_loss_backward(grad, input, target, weight, reduction, ignore_index):
    """-grad * share at each sample's class, 0 elsewhere (input gives only shape and dtype)."""
    t = _plain_targets(input, target, weight, ignore_index)
    if t is not None:
        out = np.zeros(input.shape, input.dtype)
        out[np.arange(t.shape[0]), t] = -_plain_share(grad, t.shape[0], reduction)
        return out
    t, k = _shares(input, target, weight, reduction, ignore_index)
    return _onehot(input, t) * _per_sample(input, -(grad * k).astype(input.dtype, copy=False))


@_nll_loss_backward.backward
def _(ctx, gg, grad, input, target, weight, reduction, ignore_index):
    t, k = _shares(*_arrays(input, target, weight), reduction, ignore_index)
    picked = (gg * wrap(_onehot(input._data, t))).sum(_class_axis(input._data))
    return -picked * wrap(k), None, None, None


@op(method=False, node=_nll_node)
def _cross_entropy(input, target, weight, reduction, ignore_index):
    """nll_loss(log_softmax(input, 1), target) in one pass over the logits."""
    t = _plain_targets(input, target, weight, ignore_index)
    if t is not None:          # only the picked log-probabilities: log(sum(exp(z))) - z[t]
        z = input - input.max(axis=1, keepdims=True)
        return _reduce(np.log(np.exp(z).sum(axis=1)) - z[np.arange(t.shape[0]), t], reduction)
    logp = log_softmax_array(input, _class_axis(input))
    t, w, _ = _targets(input, target, weight, ignore_index)
    return _nll_reduce(_pick(logp, t), w, reduction)


@_cross_entropy.backward
def _(ctx, grad, input, target, weight, reduction, ignore_index):
    return _cross_entropy_backward(grad, input, target, weight, reduction, ignore_index), \
        None, None


@op(method=False, node="NllLossBackwardBackward0")
def _cross_entropy_backward(grad, input, target, weight, reduction, ignore_index):
    """(softmax(input) - onehot(target)) * grad * share, in one pass over the logits."""
    p = np.exp(log_softmax_array(input, _class_axis(input)))
    t = _plain_targets(input, target, weight, ignore_index)
    if t is not None:
        p[np.arange(t.shape[0]), t] -= 1
        share = _plain_share(grad, t.shape[0], reduction)
        p *= share[:, None] if share.ndim else share
        return p
    t, k = _shares(input, target, weight, reduction, ignore_index)
    p -= _onehot(input, t)
    p *= _per_sample(input, (grad * k).astype(input.dtype, copy=False))
    return p


@_cross_entropy_backward.backward
def _(ctx, gg, grad, input, target, weight, reduction, ignore_index):
    from .nn import softmax
    t, k = _shares(*_arrays(input, target, weight), reduction, ignore_index)
    axis = _class_axis(input._data)
    s = softmax(input, axis)
    share = wrap(k)
    g_grad = (gg * (s - wrap(_onehot(input._data, t)))).sum(axis) * share
    gc = gg * (grad * share if input.dim() < 2 else (grad * share).unsqueeze(1))
    g_input = s * (gc - (gc * s).sum(axis, keepdim=True))
    return g_grad, g_input, None, None


__all__ = []


# -- connectionist temporal classification ---------------------------------------------------
def _logsumexp(*arrays):
    m = np.maximum.reduce(arrays)
    safe = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        return np.log(sum(np.exp(a - safe) for a in arrays)) + safe


def _shift(a, k):
    """a moved k positions right along its last dim, -inf filling in."""
    out = np.full_like(a, -np.inf)
    out[..., k:] = a[..., :a.shape[-1] - k]
    return out


@op(ctx=True, method=False, node="CtcLossBackward0")
def _ctc_loss(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    """Negative log likelihood of each target under CTC (forward-backward in log space over
    the blank-extended targets, vectorised over the batch, a loop over time). targets: (N, S)
    padded; the lengths are tuples of ints."""
    T, N, C = log_probs.shape
    il, tl = np.asarray(input_lengths), np.asarray(target_lengths)
    S = targets.shape[1]
    ext = np.full((N, 2 * S + 1), blank, np.int64)
    ext[:, 1::2] = targets
    L = 2 * tl + 1                                          # extended length per sample
    pos = np.arange(2 * S + 1)
    alive = pos < L[:, None]
    skip = np.zeros(ext.shape, bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    emit = np.take_along_axis(log_probs, np.broadcast_to(ext, (T, N, 2 * S + 1)), 2)
    emit = np.where(alive, emit, -np.inf)
    neg = np.full(ext.shape, -np.inf, log_probs.dtype)
    alpha = np.empty(emit.shape, log_probs.dtype)
    alpha[0] = np.where(pos < 2, emit[0], -np.inf)
    for t in range(1, T):
        a = alpha[t - 1]
        alpha[t] = _logsumexp(a, _shift(a, 1), np.where(skip, _shift(a, 2), neg)) + emit[t]
    beta = np.full(emit.shape, -np.inf, log_probs.dtype)
    rows = np.arange(N)
    last = il - 1
    for t in range(T - 1, -1, -1):
        b = beta[t + 1] if t + 1 < T else neg
        nxt = np.where(np.roll(skip, -2, 1) & (pos < 2 * S - 1), _shift(b[:, ::-1], 2)[:, ::-1],
                       neg)
        beta[t] = _logsumexp(b, _shift(b[:, ::-1], 1)[:, ::-1], nxt) + emit[t]
        start = last == t                                    # the sequence's last frame
        beta[t, start] = np.where(pos >= L[start, None] - 2, emit[t, start], -np.inf)
        beta[t, last < t] = -np.inf
    end = alpha[last, rows]
    nll = -_logsumexp(end[rows, L - 1], np.where(L > 1, end[rows, np.maximum(L - 2, 0)], -np.inf))
    # d nll / d log_probs, as torch computes it: exp(lp) - exp(log(sum alpha beta) + nll - lp)
    with np.errstate(invalid="ignore"):
        ab = np.exp(alpha + beta + nll[None, :, None])
    acc = np.zeros(log_probs.shape, log_probs.dtype)
    t_idx = np.broadcast_to(np.arange(T)[:, None, None], ab.shape)
    n_idx = np.broadcast_to(rows[None, :, None], ab.shape)
    np.add.at(acc, (t_idx, n_idx, np.broadcast_to(ext, ab.shape)), ab)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = np.exp(log_probs) - np.exp(np.log(acc) - log_probs)
    grad[:, ~np.isfinite(nll)] = 0 if zero_infinity else np.nan   # impossible targets
    grad[np.arange(T)[:, None] >= il[None, :]] = 0
    ctx.grad = grad.astype(log_probs.dtype, copy=False)
    return nll.astype(log_probs.dtype, copy=False)


@_ctc_loss.backward
def _(ctx, grad, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    return grad.view(1, -1, 1) * wrap(ctx.grad), None
