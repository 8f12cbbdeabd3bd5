"""Tests of the window kernels run on both of ember's kernel paths: a test of tests/nn or
tests/ops whose name names a convolution or a pooling runs once on the NumPy kernels and once
on the numba kernels (the `ember[fast]` extra, when numba is installed). A test module can pin
its paths with a module-level KERNEL_PATHS tuple."""
import re

import pytest

from ember import backend

_WINDOW_TEST = re.compile(r"_conv(?!er)|pool")


def pytest_generate_tests(metafunc):
    paths = getattr(metafunc.module, "KERNEL_PATHS", None)
    if paths is None:
        in_scope = metafunc.definition.path.parent.name in ("nn", "ops")
        window = _WINDOW_TEST.search(metafunc.function.__name__)
        paths = ("numpy", "numba") if in_scope and window else ()
    if not backend.fast_available():
        paths = tuple(p for p in paths if p != "numba")
    if paths:
        metafunc.fixturenames.append("kernel_path")
        metafunc.parametrize("kernel_path", paths)


@pytest.fixture(autouse=True)
def _kernel_path(request):
    """Runs a test parametrised with kernel_path on the NumPy ("numpy") or numba ("numba")
    kernels, then restores the switch."""
    callspec = getattr(request.node, "callspec", None)
    path = callspec.params.get("kernel_path") if callspec else None
    if path is None:
        yield
        return
    enabled = backend.fast_enabled()
    backend.use_fast(path == "numba")
    yield
    backend.use_fast(enabled)
