"""ember.nn.functional against torch.nn.functional 2.13: values, dtypes, shapes, the gradient
of every differentiable input, grad_fn names, error types, gradcheck / gradgradcheck in
float64, hypothesis-generated conv / pool geometries."""
import contextlib

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings, strategies as st

import ember
import ember.nn.functional as F
from ember.backend import numpy as kernels
from functional_helpers import G, rnd, run, close, both_raise, check_grads, _to, f64


# -- linear ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias):
    b = G(rnd(3)) if bias else None
    node = {True: "AddmmBackward0", False: "MmBackward0"}[bias] if len(shape) == 2 else None
    run("linear", G(rnd(*shape)), G(rnd(3, 5)), b, node=node)


def test_linear_errors_and_grads():
    both_raise("linear", rnd(4, 5), rnd(3, 4))
    check_grads("linear", G(rnd(3, 4, dtype=f64)), G(rnd(2, 4, dtype=f64)),
                G(rnd(2, dtype=f64)), double=True)


def test_bilinear():
    run("bilinear", G(rnd(4, 3)), G(rnd(4, 5)), G(rnd(2, 3, 5)), G(rnd(2)))
    run("bilinear", G(rnd(2, 4, 3)), G(rnd(2, 4, 5)), G(rnd(2, 3, 5)))
    check_grads("bilinear", G(rnd(2, 3, dtype=f64)), G(rnd(2, 2, dtype=f64)),
                G(rnd(2, 3, 2, dtype=f64)), G(rnd(2, dtype=f64)), double=True)


# -- convolution -----------------------------------------------------------------------------
@contextlib.contextmanager
def conv_layout(layout):
    """Force the conv kernels' GEMM layout (per sample, or channels-last over the batch; the
    latter for ungrouped convs only)."""
    saved = kernels.conv_layout
    kernels.conv_layout = lambda kernel, n, c, k, o, co, groups: \
        layout if groups == 1 else "samples"
    try:
        yield
    finally:
        kernels.conv_layout = saved


LAYOUTS = ["samples", "channels_last", "batch"]


@pytest.mark.parametrize("layout", LAYOUTS)
@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3), groups=st.sampled_from([1, 2]), cpg=st.integers(1, 2),
       out_pg=st.integers(1, 2), h=st.integers(3, 10), w=st.integers(3, 10),
       k=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 2),
       dilation=st.integers(1, 2), bias=st.booleans())
def test_conv2d_hypothesis(layout, n, groups, cpg, out_pg, h, w, k, stride, padding,
                           dilation, bias):
    if (k - 1) * dilation + 1 > min(h, w) + 2 * padding:
        return
    x = G(rnd(n, groups * cpg, h, w))
    wt = G(rnd(groups * out_pg, cpg, k, k))
    b = G(rnd(groups * out_pg)) if bias else None
    with conv_layout(layout):
        run("conv2d", x, wt, b, stride, padding, dilation, groups, node="ConvolutionBackward0")


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3), cin=st.integers(1, 4), cout=st.integers(1, 4), h=st.integers(1, 6),
       w=st.integers(1, 6), k=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.integers(0, 2), dilation=st.integers(1, 2), data=st.data())
def test_conv_transpose2d_hypothesis(n, cin, cout, h, w, k, stride, padding, dilation, data):
    output_padding = data.draw(st.integers(0, max(stride, dilation) - 1))
    out = [(s - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
           for s in (h, w)]
    if min(out) < 1:
        return
    with conv_layout(data.draw(st.sampled_from(LAYOUTS))):
        run("conv_transpose2d", G(rnd(n, cin, h, w)), G(rnd(cin, cout, k, k)), G(rnd(cout)),
            stride, padding, output_padding, 1, dilation, node="ConvolutionBackward0")


@pytest.mark.parametrize("args", [
    dict(stride=2, padding=1), dict(padding="same", dilation=2), dict(padding="valid"),
    dict(groups=2, dilation=(1, 2), padding=(1, 0)), dict(padding="same")])
def test_conv2d_options(args):
    w = rnd(4, 2, 3, 2) if args.get("groups") else rnd(4, 4, 3, 2)
    run("conv2d", G(rnd(2, 4, 7, 8)), G(w), G(rnd(4)), **args)


def test_conv_lenet_shapes():
    """Several sample blocks (the columns are made block by block) and wide late layers."""
    run("conv2d", G(rnd(9, 3, 32, 32)), G(rnd(6, 3, 5, 5)), G(rnd(6)), rtol=1e-4, atol=1e-4)
    run("conv2d", G(rnd(5, 6, 14, 14)), G(rnd(16, 6, 5, 5)), G(rnd(16)), rtol=1e-4, atol=1e-4)
    run("conv2d", G(rnd(2, 64, 4, 4)), G(rnd(8, 64, 3, 3)), None, 1, 1, rtol=1e-4, atol=1e-4)


def test_conv_1d_3d_transposed_unbatched():
    run("conv1d", G(rnd(2, 4, 9)), G(rnd(6, 2, 3)), G(rnd(6)), stride=2, padding=1, groups=2)
    run("conv1d", G(rnd(4, 9)), G(rnd(6, 4, 3)), padding="same")
    run("conv3d", G(rnd(2, 2, 5, 4, 6)), G(rnd(3, 2, 2, 3, 2)), G(rnd(3)), stride=(1, 2, 1),
        padding=1)
    run("conv2d", G(rnd(3, 6, 6)), G(rnd(2, 3, 3, 3)))
    run("conv_transpose1d", G(rnd(2, 4, 5)), G(rnd(4, 3, 3)), G(rnd(6)), stride=2,
        output_padding=1, groups=2)
    run("conv_transpose2d", G(rnd(2, 4, 3, 4)), G(rnd(4, 1, 3, 3)), stride=(2, 1),
        padding=1, groups=2, dilation=(1, 2))


def test_conv_float64_and_gradchecks():
    run("conv2d", G(rnd(2, 3, 6, 5, dtype=f64)), G(rnd(4, 3, 3, 3, dtype=f64)),
        G(rnd(4, dtype=f64)), padding=1)
    check_grads("conv2d", G(rnd(1, 2, 4, 4, dtype=f64)), G(rnd(2, 2, 2, 2, dtype=f64)),
                G(rnd(2, dtype=f64)), stride=2, padding=1, double=True)
    check_grads("conv_transpose2d", G(rnd(1, 2, 3, 3, dtype=f64)),
                G(rnd(2, 1, 2, 2, dtype=f64)), stride=2, double=True)
    check_grads("conv1d", G(rnd(2, 2, 5, dtype=f64)), G(rnd(2, 1, 3, dtype=f64)), groups=2,
                dilation=2, double=True)


def test_conv_errors():
    x = rnd(2, 3, 8, 8)
    for w, kw in [(rnd(4, 2, 3, 3), {}), (rnd(4, 3, 3), {}), (rnd(4, 3, 3, 3), {"groups": 2}),
                  (rnd(4, 3, 9, 9), {}), (rnd(4, 3, 3, 3), {"stride": 0}),
                  (rnd(4, 3, 3, 3), {"padding": -1}), (rnd(4, 3, 3, 3), {"padding": "foo"}),
                  (rnd(4, 3, 3, 3), {"padding": "same", "stride": 2}),
                  (rnd(4, 3, 3, 3), {"stride": (1, 2, 3)}),
                  (rnd(4, 3, 3, 3, dtype=f64), {})]:
        both_raise("conv2d", x, w, **kw)
    both_raise("conv2d", x, rnd(4, 3, 3, 3), rnd(3))
    both_raise("conv2d", rnd(8, 8), rnd(4, 3, 3, 3))
    both_raise("conv_transpose2d", x, rnd(3, 4, 3, 3), stride=2, output_padding=2)
    both_raise("conv_transpose2d", x, rnd(2, 4, 3, 3))


# -- pooling ---------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 4), h=st.integers(2, 10), w=st.integers(2, 10),
       k=st.integers(1, 3), stride=st.integers(1, 3), dilation=st.integers(1, 2),
       ceil_mode=st.booleans(), data=st.data())
def test_max_pool2d_hypothesis(n, c, h, w, k, stride, dilation, ceil_mode, data):
    padding = data.draw(st.integers(0, k // 2))
    if (k - 1) * dilation + 1 > min(h, w) + 2 * padding:
        return
    x = rnd(n, c, h, w)
    x[..., ::2, 1::3] = 0.5              # ties: the first maximum wins, as in torch
    out = run("max_pool2d", G(x), k, stride, padding, dilation, ceil_mode, True,
              node="MaxPool2DWithIndicesBackward0")
    assert out[1].dtype == ember.int64


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 4), h=st.integers(2, 10), w=st.integers(2, 10),
       k=st.integers(1, 3), stride=st.integers(1, 3), ceil_mode=st.booleans(),
       count_include_pad=st.booleans(), divisor=st.sampled_from([None, 3]), data=st.data())
def test_avg_pool2d_hypothesis(n, c, h, w, k, stride, ceil_mode, count_include_pad, divisor,
                               data):
    padding = data.draw(st.integers(0, k // 2))
    if k > min(h, w) + 2 * padding:
        return
    run("avg_pool2d", G(rnd(n, c, h, w)), k, stride, padding, ceil_mode, count_include_pad,
        divisor, node="AvgPool2DBackward0")


def test_pool_1d_3d_unbatched_and_options():
    run("max_pool1d", G(rnd(2, 3, 9)), 3, 2, 1, ceil_mode=True, return_indices=True)
    run("max_pool1d", G(rnd(3, 9)), 2)
    run("max_pool2d", G(rnd(3, 6, 7)), (2, 3), (1, 2), (1, 0), (2, 1))
    run("max_pool2d", G(rnd(2, 3, 8, 8)), 2, node="MaxPool2DWithIndicesBackward0")
    run("max_pool3d", G(rnd(1, 2, 5, 4, 6)), 2, padding=1, return_indices=True)
    run("avg_pool1d", G(rnd(2, 3, 9)), 3, 2, 1, True, False)
    run("avg_pool3d", G(rnd(1, 2, 5, 4, 6)), (2, 3, 2), 2, 1, divisor_override=5)
    run("max_pool2d", G(rnd(2, 3, 8, 8, dtype=f64)), 3, 2, 1)


def test_adaptive_pools():
    for size in [(3, 3), (2, 4), 1, (None, 3), (8, 5)]:
        run("adaptive_avg_pool2d", G(rnd(2, 3, 7, 9)), size)
        run("adaptive_max_pool2d", G(rnd(2, 3, 7, 9)), size, True)
    run("adaptive_avg_pool2d", G(rnd(2, 3, 7, 9)), (3, 2), node="AdaptiveAvgPool2DBackward0")
    run("adaptive_avg_pool2d", G(rnd(2, 3, 7, 9)), 1, node="MeanBackward1")
    run("adaptive_avg_pool1d", G(rnd(2, 3, 7)), 3)
    run("adaptive_max_pool1d", G(rnd(3, 7)), 4, True)
    run("adaptive_avg_pool3d", G(rnd(1, 2, 5, 4, 3)), (2, 3, 2))
    run("adaptive_max_pool3d", G(rnd(1, 2, 5, 4, 3)), (2, 3, 2), True)


def test_max_unpool_and_lp_pool():
    x = rnd(2, 3, 8, 8)
    out, idx = TF.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
    run("max_unpool2d", G(out.numpy()), idx.numpy(), 2)
    run("max_unpool2d", G(out.numpy()), idx.numpy(), 2, output_size=(9, 9))
    o1, i1 = TF.max_pool1d(torch.from_numpy(x[0]), 2, return_indices=True)
    run("max_unpool1d", G(o1.numpy()), i1.numpy(), 2)
    both_raise("max_unpool2d", out.numpy(), idx.numpy(), 2, output_size=(6, 6))
    both_raise("max_unpool2d", out.numpy(), idx.numpy(), 2, output_size=(1, 9, 9))
    run("lp_pool2d", G(rnd(2, 3, 6, 6)), 2, 3, 2)
    run("lp_pool1d", G(rnd(2, 3, 7)), 3, 2)


def test_pool_gradchecks():
    x = G(rnd(1, 2, 5, 5, dtype=f64))
    check_grads("max_pool2d", x, 3, 2, 1, double=True)
    check_grads("avg_pool2d", x, 3, 2, 1, True, False, double=True)
    check_grads("adaptive_avg_pool2d", x, (2, 3), double=True)
    check_grads("adaptive_max_pool2d", x, (2, 3), double=True)


def test_pool_errors():
    x = rnd(2, 3, 8, 8)
    both_raise("max_pool2d", x, 2, padding=2)
    both_raise("max_pool2d", x, 9)
    both_raise("avg_pool2d", x, 9)
    both_raise("max_pool2d", x, 2, stride=0)
    both_raise("max_pool2d", x, (2, 2, 2))
    both_raise("max_pool2d", x, 2, dilation=0)
    both_raise("avg_pool2d", x, 2, divisor_override=0)
    both_raise("adaptive_avg_pool2d", rnd(8, 8), 2)


# -- activations -----------------------------------------------------------------------------
ACTIVATIONS = [
    ("relu", {}, "ReluBackward0"), ("relu6", {}, "HardtanhBackward0"),
    ("leaky_relu", {"negative_slope": 0.2}, "LeakyReluBackward0"), ("elu", {"alpha": 0.7}, None),
    ("selu", {}, "EluBackward0"), ("celu", {"alpha": 1.3}, "CeluBackward0"),
    ("gelu", {}, "GeluBackward0"), ("gelu", {"approximate": "tanh"}, None),
    ("silu", {}, "SiluBackward0"), ("mish", {}, "MishBackward0"),
    ("sigmoid", {}, "SigmoidBackward0"), ("tanh", {}, "TanhBackward0"),
    ("hardtanh", {"min_val": -0.5, "max_val": 2.0}, "HardtanhBackward0"),
    ("hardsigmoid", {}, "HardsigmoidBackward0"), ("hardswish", {}, "HardswishBackward0"),
    ("softplus", {"beta": 2.0, "threshold": 3.0}, "SoftplusBackward0"), ("softplus", {}, None),
    ("softsign", {}, "DivBackward0"), ("logsigmoid", {}, "LogSigmoidBackward0"),
    ("tanhshrink", {}, "SubBackward0"), ("softshrink", {"lambd": 0.7}, "SoftshrinkBackward0"),
    ("hardshrink", {}, "HardshrinkBackward0"), ("threshold", {"threshold": 0.3, "value": -2.0},
                                                "ThresholdBackward0"),
    ("glu", {}, "GluBackward0"), ("glu", {"dim": 0}, None), ("rrelu", {}, None)]


@pytest.mark.parametrize("name,kw,node", ACTIVATIONS, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation(name, kw, node, dtype):
    x = rnd(4, 6, dtype=dtype) * 3
    x[0, :3] = [0.0, 3.0, -3.0]          # boundaries of the piecewise functions
    run(name, G(x), node=node, **kw)


@pytest.mark.parametrize("name,kw,node", [a for a in ACTIVATIONS
                                          if a[0] not in ("rrelu",)][::2] + [ACTIVATIONS[7]],
                         ids=lambda v: str(v))
def test_activation_gradcheck(name, kw, node):
    x = rnd(2, 4, dtype=f64, seed=3) * 2 + 0.05        # away from the kinks
    check_grads(name, G(x), double=True, **kw)


def test_inplace_activations():
    for name in ["relu", "relu6", "elu", "selu", "celu", "leaky_relu", "hardtanh", "silu",
                 "mish", "hardsigmoid", "hardswish", "rrelu"]:
        x = rnd(3, 4)
        te, tt = ember.from_numpy(x.copy()), torch.from_numpy(x.copy())
        assert getattr(F, name)(te, inplace=True) is te
        getattr(TF, name)(tt, inplace=True)
        close(te, tt, 1e-6, 1e-6, name)
    for name in ["relu_", "elu_", "selu_", "celu_", "leaky_relu_", "hardtanh_", "threshold_"]:
        x = rnd(3, 4)
        args = (0.1, 2.0) if name == "threshold_" else ()
        te, tt = ember.from_numpy(x.copy()), torch.from_numpy(x.copy())
        getattr(F, name)(te, *args)
        getattr(TF, name)(tt, *args)
        close(te, tt, 1e-6, 1e-6, name)
    a = G(rnd(3, 4))
    t, e = _to(torch, a), _to(ember, a)
    (TF.relu(t * 1, inplace=True) * 2).sum().backward()
    (F.relu(e * 1, inplace=True) * 2).sum().backward()
    close(e.grad, t.grad, 1e-6, 1e-6)


def test_prelu_and_activation_errors():
    run("prelu", G(rnd(2, 3, 4)), G(np.array([0.25, 0.1, -0.2], np.float32)),
        node="PreluKernelBackward0")
    run("prelu", G(rnd(5, 3)), G(np.array([0.25], np.float32)))
    check_grads("prelu", G(rnd(2, 3, dtype=f64)), G(rnd(3, dtype=f64)))
    both_raise("prelu", rnd(2, 3), rnd(2))
    both_raise("glu", rnd(3, 5))
    both_raise("gelu", rnd(3), approximate="foo")
    for name in ["elu", "silu", "softplus", "gelu", "logsigmoid", "hardswish"]:
        both_raise(name, np.array([1, -2]))
    both_raise("relu", np.array([True]))
    run("relu", np.array([1, -2, 3]), grad=False)


# -- softmax ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name,node", [("softmax", "SoftmaxBackward0"),
                                       ("log_softmax", "LogSoftmaxBackward0"),
                                       ("softmin", "SoftmaxBackward0")])
def test_softmax_family(name, node):
    x = rnd(3, 4, 5) * 4
    for dim in (0, 1, -1):
        run(name, G(x), dim, node=node)
    run(name, G(rnd(4, 5, dtype=f64)), -1)
    e = getattr(F, name)(ember.from_numpy(np.array([1, 2])), 0, dtype=ember.float64)
    t = getattr(TF, name)(torch.tensor([1, 2]), 0, dtype=torch.float64)
    close(e, t, 1e-12, 1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        out = getattr(F, name)(ember.from_numpy(x[0]))
    close(out, getattr(TF, name)(torch.from_numpy(x[0]), 1), 1e-5, 1e-6)
    check_grads(name, G(rnd(3, 4, dtype=f64)), 1, double=True)


def test_softmax_edge_cases():
    x = np.array([[0.0, -np.inf, 1.0], [-np.inf] * 3, [1e4, 0, -1e4]], np.float32)
    run("softmax", x, 1, grad=False)
    run("log_softmax", x[[0, 2]], 1, grad=False)
    run("softmax", np.array(2.0, np.float32), 0, grad=False)
    both_raise("softmax", np.array([1, 2]), 0)
    both_raise("softmax", rnd(3), 2)


# -- normalization ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 4)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm(shape, training, affine):
    rm, rv = rnd(3), rnd(3, low=0.5, high=2.0)
    t_rm, t_rv = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
    e_rm, e_rv = ember.from_numpy(rm.copy()), ember.from_numpy(rv.copy())
    x = rnd(*shape) * 2 + 1
    w, b = (G(rnd(3)), G(rnd(3))) if affine else (None, None)
    t_in = [_to(torch, a) for a in (G(x), w, b)]
    e_in = [_to(ember, a) for a in (G(x), w, b)]
    t = TF.batch_norm(t_in[0], t_rm, t_rv, t_in[1], t_in[2], training, 0.3, 1e-3)
    e = F.batch_norm(e_in[0], e_rm, e_rv, e_in[1], e_in[2], training, 0.3, 1e-3)
    close(e, t, 1e-5, 1e-5)
    assert type(e.grad_fn).__name__ == "NativeBatchNormBackward0"
    close(e_rm, t_rm, 1e-6, 1e-6, "running_mean")
    close(e_rv, t_rv, 1e-6, 1e-6, "running_var")
    assert e_rm._version == t_rm._version      # torch does not bump it
    g = rnd(*shape, seed=1)
    t.backward(torch.from_numpy(g))
    e.backward(ember.from_numpy(g))
    for ei, ti in zip(e_in, t_in):
        if ti is not None:
            close(ei.grad, ti.grad, 1e-4, 1e-4)


def test_batch_norm_no_stats_gradcheck_and_errors():
    run("batch_norm", G(rnd(4, 3, 2)), None, None, G(rnd(3)), G(rnd(3)), True)
    x = G(rnd(3, 2, 3, dtype=f64))
    check_grads("batch_norm", x, None, None, G(rnd(2, dtype=f64)), G(rnd(2, dtype=f64)), True,
                double=True)
    both_raise("batch_norm", rnd(1, 3), None, None, training=True)
    both_raise("batch_norm", rnd(2, 3), None, None, training=False)
    both_raise("batch_norm", rnd(2, 3), rnd(4), rnd(4), training=False)


def test_layer_group_instance_norm():
    run("layer_norm", G(rnd(2, 3, 4)), (4,), G(rnd(4)), G(rnd(4)),
        node="NativeLayerNormBackward0")
    run("layer_norm", G(rnd(2, 3, 4)), [3, 4], eps=1e-3)
    run("group_norm", G(rnd(2, 6, 5)), 3, G(rnd(6)), G(rnd(6)),
        node="NativeGroupNormBackward0")
    run("group_norm", G(rnd(2, 4, 3, 3)), 2)
    run("instance_norm", G(rnd(2, 3, 5)), None, None, G(rnd(3)), G(rnd(3)))
    run("rms_norm", G(rnd(2, 3, 4)), (4,), G(rnd(4)))
    run("rms_norm", G(rnd(2, 3, 4)), [3, 4], eps=1e-3)
    run("local_response_norm", G(rnd(2, 5, 4)), 3)
    run("local_response_norm", G(rnd(2, 6, 3, 3)), 2, 1e-2, 0.5, 2.0)
    for p, dim in ((2.0, 1), (1.0, 0), (3.0, -1)):
        run("normalize", G(rnd(3, 4)), p, dim, node="DivBackward0")
    both_raise("layer_norm", rnd(2, 3), (4,))
    both_raise("group_norm", rnd(2, 3, 4), 2)
    x = G(rnd(2, 4, 3, dtype=f64))
    check_grads("layer_norm", x, (3,), G(rnd(3, dtype=f64)), G(rnd(3, dtype=f64)), double=True)
    check_grads("group_norm", x, 2, G(rnd(4, dtype=f64)), G(rnd(4, dtype=f64)), double=True)


def test_instance_norm_running_stats():
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    tr, tv = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
    er, ev = ember.from_numpy(rm.copy()), ember.from_numpy(rv.copy())
    x = rnd(2, 3, 6)
    close(F.instance_norm(ember.from_numpy(x), er, ev),
          TF.instance_norm(torch.from_numpy(x), tr, tv), 1e-5, 1e-5)
    close(er, tr, 1e-6, 1e-6)
    close(ev, tv, 1e-6, 1e-6)


# -- dropout ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name,shape", [("dropout", (200, 50)), ("dropout1d", (50, 40, 3)),
                                        ("dropout2d", (40, 50, 2, 2)),
                                        ("dropout3d", (40, 50, 1, 2, 2)),
                                        ("alpha_dropout", (200, 50)),
                                        ("feature_alpha_dropout", (40, 50, 3))])
def test_dropout(name, shape):
    fn = getattr(F, name)
    x = ember.ones(*shape, requires_grad=True)
    y = fn(x, 0.3, True)
    kept = y._data != y._data.min() if "alpha" in name else y._data != 0
    assert abs(kept.mean() - 0.7) < 0.05
    if "alpha" not in name:
        np.testing.assert_allclose(y._data[kept], 1 / 0.7, rtol=1e-6)
        if name != "dropout":             # whole channels dropped together
            per_channel = kept.reshape(shape[0], shape[1], -1)
            assert (per_channel.all(-1) | ~per_channel.any(-1)).all()
        assert type(y.grad_fn).__name__ == "MulBackward0"
    else:
        # mean and variance of a unit normal input are kept
        z = fn(ember.randn(*shape), 0.3, True)._data
        assert abs(z.mean()) < 0.1 and abs(z.std() - 1) < 0.1
    y.sum().backward()
    np.testing.assert_allclose(x.grad._data, y._data if "alpha" not in name else x.grad._data)
    assert fn(x, 0.3, False) is x
    assert fn(x, 0.0, True) is x
    assert (fn(x, 1.0, True)._data == 0).all()
    z = ember.ones(4, 5, 6)
    assert fn(z, 0.5, True, True) is z
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        fn(x, 1.5)


def test_dropout_warnings_errors():
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
        F.dropout2d(ember.ones(2, 3, 4))
    both_raise("dropout1d", rnd(2, 3, 4, 4))


# -- embeddings ------------------------------------------------------------------------------
def test_embedding():
    idx = np.array([[1, 2, 4], [4, 3, 0]])
    run("embedding", idx, G(rnd(5, 3)), node="EmbeddingBackward0")
    run("embedding", idx, G(rnd(5, 3)), padding_idx=4)
    run("embedding", idx, G(rnd(5, 3)), padding_idx=-1, scale_grad_by_freq=True)
    w = rnd(5, 3) * 3
    te, tt = ember.from_numpy(w.copy()), torch.from_numpy(w.copy())
    close(F.embedding(ember.from_numpy(idx), te, max_norm=1.0),
          TF.embedding(torch.from_numpy(idx), tt, max_norm=1.0), 1e-5, 1e-6)
    close(te, tt, 1e-5, 1e-6, "renormalised weight")
    both_raise("embedding", np.array([5]), rnd(3, 2))
    both_raise("embedding", np.array([1.0]), rnd(3, 2))
    e = ember.from_numpy(rnd(4, 3, dtype=f64)).requires_grad_()
    assert ember.autograd.gradgradcheck(lambda w: F.embedding(ember.from_numpy(idx[:, :2] % 4),
                                                               w), (e,))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag(mode):
    w = rnd(6, 3)
    run("embedding_bag", np.array([[1, 2, 4], [4, 3, 0]]), G(w), mode=mode)
    run("embedding_bag", np.array([1, 2, 4, 5, 4, 3, 2]), G(w), np.array([0, 2, 2, 5]),
        mode=mode)
    run("embedding_bag", np.array([1, 2, 4, 5, 4, 3, 2]), G(w), np.array([0, 2, 5, 7]),
        mode=mode, include_last_offset=True)
    run("embedding_bag", np.array([1, 2, 4, 5]), G(w), np.array([0, 2]), mode=mode,
        padding_idx=2)
    if mode == "sum":
        run("embedding_bag", np.array([1, 2, 4, 5]), G(w), np.array([0, 2]), mode=mode,
            per_sample_weights=G(rnd(4)))


def test_one_hot():
    e = F.one_hot(ember.tensor([1, 0, 3]))
    t = TF.one_hot(torch.tensor([1, 0, 3]))
    assert e.dtype == ember.int64 and e.tolist() == t.tolist()
    assert F.one_hot(ember.tensor([[1], [2]]), 5).tolist() == \
        TF.one_hot(torch.tensor([[1], [2]]), 5).tolist()
    assert tuple(F.one_hot(ember.zeros(0, dtype=ember.int64), 3).shape) == (0, 3)
    for a, kw in [([1, 2, -1], {}), ([1, 2, 3], {"num_classes": 2})]:
        both_raise("one_hot", np.array(a), **kw)
    both_raise("one_hot", np.array([1.0]))
    both_raise("one_hot", np.zeros(0, np.int64))


# -- distances, attention, misc --------------------------------------------------------------
def test_distances():
    a, b = rnd(4, 5), rnd(4, 5, seed=2)
    run("cosine_similarity", G(a), G(b))
    run("cosine_similarity", G(a), G(b[:1]), dim=-1, eps=1e-3)
    run("pairwise_distance", G(a), G(b))
    run("pairwise_distance", G(a), G(b), 1.0, 1e-3, True)
    run("pdist", G(a))
    check_grads("cosine_similarity", G(a.astype(f64)[:2]), G(b.astype(f64)[:2]), double=True)
    check_grads("pairwise_distance", G(a.astype(f64)[:2]), G(b.astype(f64)[:2]), double=True)


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}, {"enable_gqa": True}])
def test_scaled_dot_product_attention(kw):
    q = rnd(2, 4, 3, 5)
    k = rnd(2, 2 if kw.get("enable_gqa") else 4, 6, 5, seed=1)
    v = rnd(2, k.shape[1], 6, 4, seed=2)
    run("scaled_dot_product_attention", G(q), G(k), G(v), **kw)


def test_sdpa_masks_and_dropout():
    q, k, v = rnd(2, 3, 5), rnd(2, 4, 5, seed=1), rnd(2, 4, 2, seed=2)
    mask = np.tri(3, 4, 1, dtype=bool)
    run("scaled_dot_product_attention", G(q), G(k), G(v), attn_mask=mask)
    run("scaled_dot_product_attention", G(q), G(k), G(v), attn_mask=G(rnd(3, 4, seed=3)))
    out = F.scaled_dot_product_attention(*(ember.from_numpy(a) for a in (q, k, v)),
                                         dropout_p=0.5)
    assert tuple(out.shape) == (2, 3, 2)


def test_pad():
    x = rnd(2, 3, 4, 5)
    for p in [(1, 2), (1, 0, 2, 1), (0, 1, 1, 0, 1, 1), (-1, 2, 1, -2)]:
        run("pad", G(x), p, node="ConstantPadNdBackward0")
        run("pad", G(x), p, value=2.5)
    for mode in ["reflect", "replicate", "circular"]:
        run("pad", G(x[0]), (1, 2), mode=mode)
        run("pad", G(x), (2, 1, 3, 0), mode=mode)
        run("pad", G(x[0]), (1, 1, 2, 2), mode=mode)
    run("pad", G(rnd(1, 2, 3, 4, 4)), (1, 1, 2, 0, 1, 2), mode="replicate")
    both_raise("pad", x, (1, 2, 3))
    both_raise("pad", x, (1, 1), mode="foo")
    both_raise("pad", x, (5, 5), mode="reflect", match_message=False)
    check_grads("pad", G(rnd(1, 2, 3, dtype=f64)), (1, 2), mode="reflect", double=True)


@pytest.mark.parametrize("mode,kw", [
    ("nearest", {"scale_factor": 2}), ("nearest", {"size": (5, 7)}),
    ("nearest", {"scale_factor": 0.6}), ("nearest-exact", {"size": (5, 3)}),
    ("bilinear", {"scale_factor": 2}), ("bilinear", {"size": (5, 7), "align_corners": True}),
    ("bilinear", {"size": (3, 2), "align_corners": False}),
    ("bilinear", {"scale_factor": 1.7, "recompute_scale_factor": True}),
    ("area", {"size": (2, 3)}), ("bicubic", {"scale_factor": 2}),
    ("bicubic", {"size": (7, 3), "align_corners": True}), ("bicubic", {"size": (3, 4)})])
def test_interpolate_2d(mode, kw):
    run("interpolate", G(rnd(2, 3, 4, 5)), mode=mode, **kw)


def test_interpolate_1d_3d_and_errors():
    run("interpolate", G(rnd(2, 3, 5)), scale_factor=1.5, mode="linear")
    run("interpolate", G(rnd(2, 3, 5)), size=8, mode="nearest")
    run("interpolate", G(rnd(1, 2, 3, 4, 2)), scale_factor=2, mode="trilinear",
        align_corners=True)
    run("interpolate", G(rnd(1, 2, 3, 4, 2)), size=(2, 5, 3), mode="nearest")
    x = rnd(1, 2, 4, 4)
    both_raise("interpolate", x, size=3, scale_factor=2)
    both_raise("interpolate", x)
    both_raise("interpolate", x, scale_factor=2, align_corners=True)
    both_raise("interpolate", x, scale_factor=2, mode="linear", match_message=False)
    with pytest.warns(UserWarning, match="deprecated"):
        out = F.upsample(ember.from_numpy(x), scale_factor=2, mode="bilinear")
    close(out, TF.interpolate(torch.from_numpy(x), scale_factor=2, mode="bilinear"), 1e-5, 1e-5)
    with pytest.warns(UserWarning):
        out = F.upsample_bilinear(ember.from_numpy(x), size=(5, 6))
    close(out, TF.interpolate(torch.from_numpy(x), size=(5, 6), mode="bilinear",
                              align_corners=True), 1e-5, 1e-5)


def test_pixel_shuffle_unfold_fold():
    run("pixel_shuffle", G(rnd(2, 8, 3, 4)), 2)
    run("pixel_shuffle", G(rnd(9, 2, 2)), 3)
    run("pixel_unshuffle", G(rnd(2, 2, 4, 6)), 2)
    both_raise("pixel_shuffle", rnd(2, 3, 4, 4), 2)
    run("unfold", G(rnd(2, 3, 5, 6)), (2, 3), node="Im2ColBackward0")
    run("unfold", G(rnd(3, 5, 6)), 3, dilation=(1, 2), padding=1, stride=2)
    run("fold", G(rnd(2, 12, 12)), (4, 5), 2, node="Col2ImBackward0")
    run("fold", G(rnd(12, 6)), (5, 6), (2, 3), dilation=(2, 1), padding=1, stride=(2, 3))
    both_raise("fold", rnd(2, 12, 11), (4, 5), 2)
    check_grads("unfold", G(rnd(1, 2, 3, 3, dtype=f64)), 2, double=True)
    check_grads("fold", G(rnd(1, 8, 4, dtype=f64)), (3, 3), 2, double=True)
    check_grads("pixel_shuffle", G(rnd(1, 4, 2, 2, dtype=f64)), 2)


@pytest.mark.parametrize("align_corners", [True, False])
def test_affine_grid_and_grid_sample(align_corners):
    theta = rnd(2, 2, 3) * 0.5 + np.eye(2, 3, dtype=np.float32)
    run("affine_grid", G(theta), (2, 3, 4, 5), align_corners=align_corners)
    run("affine_grid", G(rnd(1, 3, 4)), (1, 1, 2, 3, 4), align_corners=align_corners)
    grid = rnd(2, 3, 4, 2, low=-1.2, high=1.2)
    for mode in ("bilinear", "nearest"):
        for padding_mode in ("zeros", "border"):
            run("grid_sample", G(rnd(2, 3, 5, 6)), G(grid) if mode == "bilinear" else grid,
                mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    check_grads("grid_sample", G(rnd(1, 2, 3, 3, dtype=f64)),
                G(rnd(1, 2, 2, 2, dtype=f64, low=-0.9, high=0.9)), align_corners=align_corners)


def test_grid_errors_and_warning():
    both_raise("affine_grid", rnd(2, 3, 3), (2, 3, 4, 5), align_corners=False)
    both_raise("grid_sample", rnd(1, 1, 2, 2), rnd(1, 2, 2, 2), mode="foo", align_corners=False)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(ember.from_numpy(rnd(1, 2, 3)), (1, 1, 2, 2))


def test_channel_shuffle_gumbel():
    run("channel_shuffle", G(rnd(2, 6, 2)), 3)
    y = F.gumbel_softmax(ember.from_numpy(rnd(4, 5)), hard=True)
    assert (y._data.sum(-1) == 1).all() and set(np.unique(y._data)) <= {0.0, 1.0}


def test_sigmoid_tanh_aliases():
    x = rnd(3, 4)
    close(F.sigmoid(ember.from_numpy(x)), torch.sigmoid(torch.from_numpy(x)), 1e-6, 1e-6)
    close(F.tanh(ember.from_numpy(x)), torch.tanh(torch.from_numpy(x)), 1e-6, 1e-6)


@pytest.mark.parametrize("kw", [
    {}, {"need_weights": False}, {"average_attn_weights": False},
    {"key_padding_mask": np.array([[False, False, True, False, True]] * 2)},
    {"attn_mask": np.tri(3, 5, 1, dtype=bool) == 0},
    {"attn_mask": rnd(3, 5, seed=4), "bias": True, "zero_attn": True}])
def test_multi_head_attention_forward(kw):
    kw = dict(kw)
    bias, zero_attn = kw.pop("bias", False), kw.pop("zero_attn", False)
    E, H = 4, 2
    args = [G(rnd(3, 2, E)), G(rnd(5, 2, E, seed=1)), G(rnd(5, 2, E, seed=2)), E, H,
            G(rnd(3 * E, E, seed=3)), G(rnd(3 * E, seed=4)),
            G(rnd(1, 1, E, seed=5)) if bias else None, G(rnd(1, 1, E, seed=6)) if bias else None,
            zero_attn, 0.0, G(rnd(E, E, seed=7)), G(rnd(E, seed=8))]
    run("multi_head_attention_forward", *args, **kw)
    unbatched = [G(a.a[:, 0]) if isinstance(a, G) and i < 3 else a for i, a in enumerate(args)]
    run("multi_head_attention_forward", *unbatched, need_weights=True)
