"""ember's numba kernels (ember/backend/fast/, the `ember[fast]` extra) against torch 2.13:
convolution forward, input and weight gradients (F.conv2d, conv1d, conv_transpose2d) on both
of its routes (direct; im2row + GEMM, in one or several blocks of samples), max pooling
forward and backward (ties, nan, -inf windows, padding, dilation, ceil_mode), float32 and
float64, on one thread and on several; the cases handed to the NumPy kernels (float16,
integers, grouped, 3-D); no compilation per shape; numba not imported by `import ember`; a
forked child falling back to NumPy."""
import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import HealthCheck, given, settings, strategies as st

import ember
import ember.nn.functional as F
from ember import backend
from ember.backend import fast

TOL = {np.float32: 2e-4, np.float64: 1e-10}
# the fixtures (route, threads, the numba switch) hold for every example
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def _numba_kernels():
    """Every test here runs on the numba kernels; the previous choice is restored after."""
    enabled = backend.fast_enabled()
    backend.use_fast(True)
    yield
    backend.use_fast(enabled)


def compare(name, arrays, *args, dtype=np.float32, grads=True, **kwargs):
    """F.name(*arrays, *args, **kwargs) in ember and torch: values, dtype, shape and, for a
    random output gradient, the gradient of every float array. Returns ember's output."""
    rng = np.random.default_rng(0)
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    diff = grads and np.dtype(dtype).kind == "f"
    tt = [torch.tensor(a, requires_grad=diff) for a in arrays]
    et = [ember.tensor(a, requires_grad=diff) for a in arrays]
    t_out = getattr(TF, name)(*tt, *args, **kwargs)
    e_out = getattr(F, name)(*et, *args, **kwargs)
    t_first, e_first = (t_out[0], e_out[0]) if isinstance(t_out, tuple) else (t_out, e_out)
    tol = TOL.get(np.dtype(dtype).type, 1e-2)
    assert str(e_first.dtype) == str(t_first.dtype) and e_first.shape == t_first.shape
    np.testing.assert_allclose(e_first.detach().numpy(), t_first.detach().numpy(), rtol=tol,
                               atol=tol, equal_nan=True)
    if diff:
        gy = rng.standard_normal(t_first.shape).astype(dtype)
        t_first.backward(torch.tensor(gy))
        e_first.backward(ember.tensor(gy))
        for e, t in zip(et, tt):
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)
    return e_out


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.fixture(params=["direct", "gemm", "gemm_blocks"])
def route(request, monkeypatch):
    """Force a convolution route: direct (where the stride is 1), im2row + GEMM over the
    whole batch, or over blocks of one sample."""
    monkeypatch.setattr(fast, "_DIRECT_CHANNELS", 1 << 30 if request.param == "direct" else 0)
    if request.param == "gemm_blocks":
        monkeypatch.setattr(fast, "_ROWS_BYTES", 1)
    return request.param


@pytest.fixture(params=["one", "all"])
def threads(request, monkeypatch):
    """Kernels on this thread alone, or on all of numba's threads however small."""
    monkeypatch.setattr(fast, "_SERIAL_NS", 1 << 60 if request.param == "one" else 0)
    return request.param


# -- convolution -----------------------------------------------------------------------------
@settings(max_examples=12, **SETTINGS)
@given(n=st.integers(1, 3), c=st.integers(1, 5), co=st.integers(1, 5), h=st.integers(1, 9),
       w=st.integers(1, 9), k=st.integers(1, 4), stride=st.integers(1, 3),
       padding=st.integers(0, 2), dilation=st.integers(1, 2), bias=st.booleans(),
       f64=st.booleans())
def test_conv2d(route, threads, n, c, co, h, w, k, stride, padding, dilation, bias, f64):
    if (k - 1) * dilation + 1 > min(h, w) + 2 * padding:
        return
    arrays = [rnd(n, c, h, w), rnd(co, c, k, k, seed=1)] + ([rnd(co, seed=2)] if bias else [])
    compare("conv2d", arrays, stride=stride, padding=padding, dilation=dilation,
            dtype=np.float64 if f64 else np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_model_shapes(route, dtype):
    """LeNet's two convs, a ResNet stem (7x7 stride 2), a padded 3x3 with an odd channel
    count and rectangular kernel, odd sizes and asymmetric strides / dilations, ResNet's
    last layers."""
    compare("conv2d", [rnd(3, 3, 32, 32), rnd(6, 3, 5, 5, seed=1), rnd(6)], dtype=dtype)
    compare("conv2d", [rnd(2, 6, 14, 14), rnd(16, 6, 5, 5, seed=1)], dtype=dtype)
    compare("conv2d", [rnd(2, 3, 23, 21), rnd(8, 3, 7, 7, seed=1)], stride=2, padding=3,
            dtype=dtype)
    compare("conv2d", [rnd(2, 7, 9, 8), rnd(5, 7, 3, 2, seed=1)], padding=(1, 2),
            dtype=dtype)
    compare("conv2d", [rnd(2, 4, 11, 10), rnd(3, 4, 3, 3, seed=1)], stride=(2, 1),
            dilation=(1, 2), padding=(2, 1), dtype=dtype)
    # more output channels than output positions: im2row keeps the weight's column order
    compare("conv2d", [rnd(2, 16, 2, 2), rnd(32, 16, 3, 3, seed=1)], padding=1, dtype=dtype)
    compare("conv2d", [rnd(1, 8, 3, 4), rnd(16, 8, 3, 3, seed=1)], padding=2, dilation=2,
            dtype=dtype)


def test_conv1d_and_transposed(route):
    compare("conv1d", [rnd(2, 3, 20), rnd(4, 3, 3, seed=1), rnd(4)], stride=2, padding=1)
    compare("conv1d", [rnd(3, 17), rnd(5, 3, 4, seed=1)], dilation=2, padding="same")
    compare("conv_transpose2d", [rnd(2, 4, 5, 6), rnd(4, 3, 3, 3, seed=1), rnd(3)],
            stride=2, padding=1, output_padding=1)
    compare("conv_transpose2d", [rnd(2, 4, 5, 5), rnd(4, 2, 3, 2, seed=1)], padding=1,
            dilation=2)
    compare("conv_transpose1d", [rnd(2, 4, 7), rnd(4, 3, 3, seed=1)], stride=3,
            dtype=np.float64)


def test_conv_double_backward(route):
    x = ember.tensor(rnd(2, 3, 6, 5), requires_grad=True)
    w = ember.tensor(rnd(4, 3, 3, 3, seed=1), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: F.conv2d(a, b, padding=1), (x, w))
    assert ember.autograd.gradgradcheck(lambda a, b: F.conv2d(a, b, stride=2), (x, w))


def test_conv_special_values():
    """inf and nan in the input reach the outputs that read them, as in torch (padding adds
    no 0 * inf)."""
    x = rnd(1, 2, 6, 6)
    x[0, 0, 0, 0], x[0, 1, 5, 5] = np.inf, np.nan
    for k in (1, 3):
        compare("conv2d", [x, rnd(3, 2, k, k, seed=1)], padding=1, grads=False)


# -- max pooling -----------------------------------------------------------------------------
def _pool_input(n, c, h, w, seed=0):
    x = rnd(n, c, h, w, seed=seed)
    x[..., ::2, 1::3] = 0.5                 # ties: the first maximum takes the gradient
    x[..., 1::4, ::3] = 0.5
    return x


@settings(max_examples=20, **SETTINGS)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(2, 11), w=st.integers(2, 11),
       k=st.integers(1, 4), stride=st.integers(1, 3), dilation=st.integers(1, 2),
       ceil_mode=st.booleans(), f64=st.booleans(), data=st.data())
def test_max_pool2d(threads, n, c, h, w, k, stride, dilation, ceil_mode, f64, data):
    padding = data.draw(st.integers(0, k // 2))
    if (k - 1) * dilation + 1 > min(h, w) + 2 * padding:
        return
    compare("max_pool2d", [_pool_input(n, c, h, w)], k, stride, padding, dilation, ceil_mode,
            True, dtype=np.float64 if f64 else np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_special_values(threads, dtype):
    """nan wins its window and takes the gradient (the last nan, as torch); a window of
    -inf routes it to its first element inside the input; 2x2 / stride 2 (its own kernel)
    and overlapping windows; odd sizes, ceil_mode, 1-D."""
    x = _pool_input(2, 3, 9, 11)
    x[0, 0, 1, 1] = x[0, 0, 2, 3] = x[0, 0, 3, 3] = np.nan
    x[1, 2, :4, :4] = -np.inf
    for args in [(2, 2), (2, 2, 0, 1, True), (3, 2, 1), (3, 1, 1, 2), (2, 1), (3, 3, 1, 1,
                                                                              True)]:
        compare("max_pool2d", [x], *args, dtype=dtype)
    compare("max_pool1d", [x[0]], 3, 2, 1, dtype=dtype)
    compare("max_pool1d", [x[:, :, 0]], 2, dtype=dtype)


def test_max_pool_model_shapes():
    compare("max_pool2d", [_pool_input(4, 6, 28, 28)], 2, 2)           # LeNet
    compare("max_pool2d", [_pool_input(2, 8, 32, 32)], 3, 2, 1)         # ResNet


# -- handed to NumPy -------------------------------------------------------------------------
def test_fallbacks():
    """float16, integer, grouped, 1x1 and 3-D cases go to the NumPy kernels and match
    torch."""
    compare("conv2d", [rnd(2, 4, 6, 6), rnd(6, 2, 3, 3, seed=1)], groups=2)
    compare("conv2d", [rnd(2, 4, 7, 7), rnd(6, 4, 1, 1, seed=1)], stride=2)
    compare("conv3d", [rnd(1, 2, 4, 5, 4), rnd(3, 2, 2, 2, 2, seed=1)], padding=1)
    compare("max_pool3d", [_pool_input(1, 2, 4, 6)[:, :, None].repeat(3, 2)], 2)
    compare("max_pool2d", [(rnd(2, 3, 6, 6) * 10).astype(np.int64)], 2, dtype=np.int64)
    compare("max_pool2d", [rnd(2, 3, 6, 6)], 3, 2, 1, dtype=np.float16, grads=False)
    compare("conv2d", [rnd(1, 2, 5, 5), rnd(3, 2, 3, 3, seed=1)], dtype=np.float16,
            grads=False)


def test_no_compilation_per_shape():
    """Sizes are arguments: every numba kernel holds one compiled version per dtype."""
    for shape, k in [((2, 3, 8, 8), 3), ((1, 4, 9, 7), 2), ((3, 2, 12, 5), 5)]:
        for dtype in (np.float32, np.float64):
            for stride in (1, 2):
                compare("conv2d", [rnd(*shape), rnd(5, shape[1], k, k, seed=1)],
                        stride=stride, dtype=dtype)
            compare("max_pool2d", [rnd(*shape)], 2, dtype=dtype)
            compare("max_pool2d", [rnd(*shape)], 3, 2, 1, dtype=dtype)
    kernels = [v for m in (fast.conv, fast.pool) for v in vars(m).values()
               if hasattr(v, "signatures")]
    assert kernels and all(len(k.signatures) <= 2 for k in kernels), \
        {k.__name__: k.signatures for k in kernels if len(k.signatures) > 2}


def test_numba_loaded_on_first_kernel_call():
    code = ("import sys, ember; assert 'numba' not in sys.modules; "
            "ember.nn.functional.conv2d(ember.ones(1, 1, 3, 3), ember.ones(1, 1, 2, 2)); "
            "print('numba' in sys.modules)")
    for env, loaded in (("1", "True"), ("0", "False")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=dict(os.environ, EMBER_FAST=env), check=True)
        assert out.stdout.strip() == loaded


def _child_conv(queue):
    x, w = ember.ones(2, 3, 6, 6), ember.ones(4, 3, 3, 3)
    queue.put((backend.fast_enabled(), F.conv2d(x, w).sum().item()))


def test_forked_child_uses_numpy():
    """GNU OpenMP aborts a forked child that starts a parallel loop after its parent did:
    the child (a DataLoader worker) computes with the NumPy kernels."""
    F.conv2d(ember.ones(8, 16, 16, 16), ember.ones(16, 16, 3, 3))      # parallel here
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_conv, args=(queue,))
    child.start()
    enabled, total = queue.get(timeout=60)
    child.join()
    assert child.exitcode == 0 and not enabled and total == 2 * 4 * 16 * 27
    assert backend.fast_enabled()


# -- the op harness's conv2d case on both paths ------------------------------------------------
sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "ops"))
from op_cases import OP_CASES  # noqa: E402
from op_harness import check_sample  # noqa: E402

CONV_CASE = next(c for c in OP_CASES if c.name.endswith(".conv2d"))


@pytest.mark.parametrize("path", ["numpy", "numba"])
@settings(max_examples=15, **SETTINGS)
@given(data=st.data())
def test_conv2d_op_case(path, data):
    backend.use_fast(path == "numba")
    check_sample(CONV_CASE, data.draw(CONV_CASE.samples(CONV_CASE.dtypes), label="sample"))
