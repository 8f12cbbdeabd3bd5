"""OP_CASES of the registry ops behind torch.nn.functional (activations, softmax, padding,
conv, embedding, losses): the same generic checks as every other op (tests/nn holds the
module-level and option-by-option tests)."""
import numpy as np
from hypothesis import strategies as st

from op_harness import Case
from op_strategies import FLOATS, Arr, Sample, custom, dims, unary, with_kwargs

F = "nn.functional."
SPECIAL = Arr(np.array([0.0, -0.0, 1.5, -2.5, np.nan, np.inf, -np.inf, 0.5, -0.5], np.float32))


def activation(name, samples=None, **kw):
    """An elementwise activation of torch.nn.functional, with special values as edge case."""
    return Case(F + name, samples or unary(-4, 4), FLOATS, edges=[Sample(SPECIAL)], **kw)


def _softmax(draw, arr):
    x = draw(arr(min_dims=1))
    return Sample(x, draw(dims(x.array.ndim)))


def _glu(draw, arr):
    x = draw(arr(min_dims=1, min_side=1))
    nd = x.array.ndim
    d = draw(dims(nd))
    shape = list(x.array.shape)
    shape[d] = 2 * shape[d]
    return Sample(draw(arr(tuple(shape))), d)


def _prelu(draw, arr):
    x = draw(arr(min_dims=1, min_side=1))
    channels = x.array.shape[1] if x.array.ndim > 1 else 1
    return Sample(x, draw(arr((draw(st.sampled_from([1, channels])),), (x.array.dtype.name,))))


def _pad(draw, arr):
    x = draw(arr(min_dims=1))
    pad = [draw(st.integers(0, 2)) for _ in range(2 * draw(st.integers(1, x.array.ndim)))]
    return Sample(x, tuple(pad), value=draw(st.sampled_from([0.0, 1.5])))


def _conv2d(draw, arr):
    n, cin, cout = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = draw(st.integers(1, 2))
    h, w = draw(st.integers(k, 4)), draw(st.integers(k, 4))
    x = draw(arr((n, cin, h, w)))
    weight = draw(arr((cout, cin, k, k), (x.array.dtype.name,)))
    bias = draw(arr((cout,), (x.array.dtype.name,))) if draw(st.booleans()) else None
    return Sample(x, weight, bias, stride=draw(st.integers(1, 2)),
                  padding=draw(st.integers(0, 1)))


def _embedding(draw, arr):
    n = draw(st.integers(1, 5))
    weight = draw(arr((n, draw(st.integers(1, 3)))))
    idx = np.array(draw(st.lists(st.integers(0, n - 1), max_size=4)), np.int64)
    return Sample(Arr(idx), weight)


def _pair(lo=-3.0, hi=3.0, target_lo=None, target_hi=None, target_grad=True):
    """(input, target, reduction=...) of one shape; `target_grad`: torch differentiates the
    loss with respect to the target."""
    def build(draw, arr):
        x = draw(arr(lo=lo, hi=hi))
        t = draw(arr(x.array.shape, (x.array.dtype.name,),
                     lo=lo if target_lo is None else target_lo,
                     hi=hi if target_hi is None else target_hi))
        t.grad = target_grad
        return Sample(x, t, reduction=draw(st.sampled_from(["mean", "sum", "none"])))
    return build


def _with_weight(base):
    def build(draw, arr):
        s = base(draw, arr)
        if draw(st.booleans()):         # torch has no derivative for the weight
            w = draw(arr(s.args[0].array.shape[-1:] if s.args[0].array.ndim else (),
                         (s.args[0].array.dtype.name,), lo=0, hi=2))
            s.kwargs["weight"] = Arr(w.array, w.layout, grad=False)
        return s
    return build


CASES = [
    activation("relu"),
    activation("elu", with_kwargs(unary(-4, 4), alpha=st.sampled_from([1.0, 0.5]))),
    activation("celu", with_kwargs(unary(-4, 4), alpha=st.sampled_from([1.0, 2.0]))),
    activation("gelu", with_kwargs(unary(-4, 4), approximate=st.sampled_from(["none",
                                                                              "tanh"]))),
    activation("silu"), activation("mish"), activation("logsigmoid"),
    activation("hardsigmoid"), activation("hardswish"),
    activation("hardtanh", with_kwargs(unary(-4, 4), min_val=st.sampled_from([-1.0, -0.5]),
                                       max_val=st.sampled_from([1.0, 2.0]))),
    activation("leaky_relu", with_kwargs(unary(-4, 4), negative_slope=st.sampled_from(
        [0.01, 0.2]))),
    activation("softplus", with_kwargs(unary(-4, 4), beta=st.sampled_from([1.0, 2.0]),
                                       threshold=st.sampled_from([20.0, 1.0]))),
    activation("softshrink", with_kwargs(unary(-4, 4), lambd=st.sampled_from([0.5, 1.0]))),
    activation("hardshrink", with_kwargs(unary(-4, 4), lambd=st.sampled_from([0.5, 1.0]))),
    activation("threshold", custom(lambda d, arr: Sample(d(arr(lo=-4, hi=4)), 0.5, -1.0))),
    Case(F + "glu", custom(_glu), FLOATS),
    Case(F + "prelu", custom(_prelu), FLOATS),
    Case(F + "softmax", custom(_softmax), FLOATS, gradgrad=True),
    Case(F + "log_softmax", custom(_softmax), FLOATS),
    Case(F + "pad", custom(_pad), FLOATS),
    Case(F + "conv2d", custom(_conv2d), FLOATS, tol=10),
    Case(F + "embedding", custom(_embedding), FLOATS),
    Case(F + "mse_loss", custom(_pair()), FLOATS),
    Case(F + "huber_loss", custom(_pair()), FLOATS),
    Case(F + "smooth_l1_loss", custom(_pair()), FLOATS),
    Case(F + "soft_margin_loss", custom(_pair(target_grad=False)), FLOATS),
    Case(F + "binary_cross_entropy", custom(_with_weight(_pair(0.05, 0.95, 0, 1, False))),
         FLOATS),
    Case(F + "binary_cross_entropy_with_logits",
         custom(_with_weight(_pair(target_lo=0, target_hi=1, target_grad=False))), FLOATS),
]
