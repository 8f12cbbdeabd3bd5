"""Array backends: NumPy (CPU, the reference), CuPy (GPU), numba kernels (optional, CPU).

The ops call their window kernels (convolution, pooling, ...) through `kernels`. It answers
with the NumPy kernel of `backend/numpy.py`, or, when numba is installed (the `ember[fast]`
extra) and the environment variable EMBER_FAST is not "0", with the numba kernel of the same
name and signature in `backend/fast/`. numba is imported on the first call of such a kernel,
not at `import ember`; `use_fast(False)` switches back to NumPy (tests run both).
"""
import importlib.util
import os

from . import numpy as _reference
from .heap import keep_freed_memory

# the kernels backend/fast/ provides, with the signatures of backend/numpy.py
FAST_KERNELS = ("conv_forward", "conv_input_grad", "conv_weight_grad", "max_pool",
                "max_pool_backward")


class _KernelTable:
    """Attribute per kernel: a fast kernel once bound on the instance, else the NumPy one."""

    def __getattr__(self, name):
        return getattr(_reference, name)


kernels = _KernelTable()


def fast_available():
    """True when numba can be imported (checked without importing it)."""
    return importlib.util.find_spec("numba") is not None


def use_fast(enabled=True):
    """Route the kernels that have a numba version to it (True) or to NumPy (False);
    returns whether the fast kernels are now in use."""
    for name in FAST_KERNELS:
        kernels.__dict__.pop(name, None)
    if not (enabled and fast_available()):
        return False
    for name in FAST_KERNELS:
        setattr(kernels, name, _on_first_call(name))
    return True


def fast_enabled():
    """True when the fast kernels are (or will be, on first call) in use."""
    return FAST_KERNELS[0] in kernels.__dict__


def _on_first_call(name):
    def load_and_call(*args, **kwargs):
        from . import fast
        for n in FAST_KERNELS:
            setattr(kernels, n, getattr(fast, n))
        return getattr(kernels, name)(*args, **kwargs)
    return load_and_call


use_fast(os.environ.get("EMBER_FAST", "1") != "0")
keep_freed_memory()
