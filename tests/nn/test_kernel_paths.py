"""The NumPy kernels' performance paths against torch 2.13: conv layouts (per sample, channels
last, the input gradient as a conv of the output gradient), the batch cut in halves for two
threads (forced here on small arrays), GEMMs on the worker thread or this one, on ResNet-like
shapes (strided, 1x1, padded 3x3, wide late layers); batch norm and max pooling likewise."""
import contextlib

import numpy as np
import pytest

from ember.backend import numpy as kernels, threads
from functional_helpers import G, rnd, run

KERNEL_PATHS = ("numpy",)      # tests/conftest.py: the NumPy kernels' paths only


@contextlib.contextmanager
def patched(**values):
    """Set module attributes of the kernels (or of their thread helper) for a block."""
    homes = {k: threads if hasattr(threads, k) else kernels for k in values}
    saved = {k: getattr(homes[k], k) for k in values}
    for k, v in values.items():
        setattr(homes[k], k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(homes[k], k, v)


def forced_layout(layout):
    return lambda kernel, n, c, k, o, co, groups: layout if groups == 1 else "samples"


THREADED = [dict(THREADS=1), dict(THREADS=2, SPLIT_BYTES=0, SMALL_GEMM=0),
            dict(THREADS=2, SPLIT_BYTES=0, SMALL_GEMM=1 << 40)]
RESNET_CONVS = [  # n, c, hw, co, k, stride, padding, dilation
    (3, 8, 9, 16, 3, 1, 1, 1), (3, 8, 9, 16, 3, 2, 1, 1), (2, 16, 4, 32, 3, 1, 1, 1),
    (3, 8, 9, 16, 1, 2, 0, 1), (2, 3, 15, 8, 7, 2, 3, 1), (2, 8, 7, 8, 3, 1, 2, 2),
    (4, 32, 2, 16, 3, 1, 1, 1), (2, 6, 14, 16, 5, 1, 0, 1)]


@pytest.mark.parametrize("threads", THREADED, ids=["one", "split", "split_gemm_here"])
@pytest.mark.parametrize("layout", ["samples", "channels_last", "batch", None])
@pytest.mark.parametrize("shape", RESNET_CONVS, ids=str)
def test_conv_paths(threads, layout, shape):
    n, c, hw, co, k, stride, padding, dilation = shape
    chosen = {} if layout is None else {"conv_layout": forced_layout(layout)}
    with patched(**threads, **chosen):
        run("conv2d", G(rnd(n, c, hw, hw)), G(rnd(co, c, k, k)), None, stride, padding,
            dilation, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("threads", THREADED[:2], ids=["one", "split"])
@pytest.mark.parametrize("layout", ["samples", "channels_last", "batch"])
def test_conv_transpose_paths(threads, layout):
    with patched(**threads, conv_layout=forced_layout(layout)):
        run("conv_transpose2d", G(rnd(3, 8, 5, 5)), G(rnd(8, 4, 3, 3)), G(rnd(4)), 2, 1, 1,
            rtol=1e-4, atol=1e-4)
        run("conv_transpose2d", G(rnd(2, 8, 4, 4)), G(rnd(8, 4, 3, 3)), None, 1, 1,
            rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("threads", THREADED[:2], ids=["one", "split"])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_paths(threads, training):
    with patched(**threads):
        for shape in [(4, 3, 6, 6), (3, 5, 2, 2), (5, 4)]:
            run("batch_norm", G(rnd(*shape)), rnd(shape[1]), rnd(shape[1]) ** 2 + 1,
                G(rnd(shape[1])), G(rnd(shape[1])), training, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("threads", THREADED[:2], ids=["one", "split"])
def test_max_pool_paths(threads):
    with patched(**threads):
        run("max_pool2d", G(rnd(3, 4, 9, 9)), 3, 2, 1)
        run("max_pool2d", G(rnd(4, 3, 8, 8)), 2, 2)
        run("max_pool2d", G(rnd(3, 2, 9, 8)), 3, 2, 1, 2, True)
        run("max_pool2d", G(rnd(2, 2, 7, 7)), 3, 1, 1)


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 1)], ids=["disjoint", "overlapping"])
def test_max_pool_nan_windows(kernel, stride):
    """A window holding nan: nan out, its gradient to the window's last nan (torch's index)."""
    x = rnd(2, 3, 6, 6)
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = x[1, 2, 4, 5] = np.nan
    run("max_pool2d", G(x), kernel, stride)
