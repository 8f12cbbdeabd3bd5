"""ember.cuda: torch.cuda's queries over CuPy. Without CuPy or a GPU, is_available() is False,
device_count() is 0, and the calls that need a device raise torch's AssertionError."""
from .._device import _cupy

_NOT_COMPILED = "Torch not compiled with CUDA enabled"


def _runtime():
    cupy = _cupy()
    if cupy is None:
        return None
    try:
        if cupy.cuda.runtime.getDeviceCount() > 0:
            return cupy
    except Exception:        # CuPy installed but no driver or no device
        pass
    return None


def _require():
    cupy = _runtime()
    if cupy is None:
        raise AssertionError(_NOT_COMPILED)
    return cupy


def is_available():
    """True only when CuPy imports and sees at least one GPU."""
    return _runtime() is not None


def is_initialized():
    return is_available()


def device_count():
    cupy = _runtime()
    return 0 if cupy is None else cupy.cuda.runtime.getDeviceCount()


def current_device():
    return _require().cuda.runtime.getDevice()


def set_device(device):
    _require().cuda.Device(_index(device)).use()


def synchronize(device=None):
    _require().cuda.Device().synchronize()


def _index(device):
    if device is None:
        return current_device()
    if isinstance(device, int):
        return device
    from .._device import as_device
    return as_device(device).index or 0


def get_device_name(device=None):
    cupy = _require()
    name = cupy.cuda.runtime.getDeviceProperties(_index(device))["name"]
    return name.decode() if isinstance(name, bytes) else name


def get_device_capability(device=None):
    props = _require().cuda.runtime.getDeviceProperties(_index(device))
    return props["major"], props["minor"]


def manual_seed(seed):
    """Seed CuPy's generator when a GPU is present; silently ignored otherwise (as torch)."""
    cupy = _runtime()
    if cupy is not None:
        cupy.random.seed(int(seed) % (1 << 32))


manual_seed_all = manual_seed


def _pool_bytes(attr):
    cupy = _runtime()
    return 0 if cupy is None else getattr(cupy.get_default_memory_pool(), attr)()


def memory_allocated(device=None):
    return _pool_bytes("used_bytes")


def memory_reserved(device=None):
    return _pool_bytes("total_bytes")


max_memory_allocated = memory_allocated
max_memory_reserved = memory_reserved
memory_cached = memory_reserved


def reset_peak_memory_stats(device=None):
    """Peaks are not tracked separately: the max_* queries report current usage."""


def empty_cache():
    cupy = _runtime()
    if cupy is not None:
        cupy.get_default_memory_pool().free_all_blocks()
