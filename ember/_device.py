"""device("cpu" | "cuda[:N]") and the lookup of the array module (NumPy or CuPy) for a device."""
import numpy as np


class device:
    """torch.device: `device('cuda:0')`, `device('cuda', 0)`, `device('cpu')`; equality by
    type and index (never equal to a str); str() is 'cpu' / 'cuda:0'."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            from . import cuda
            if not cuda.is_available():
                raise RuntimeError("Cannot access accelerator device when none is available.")
            type, index = "cuda", type
        elif isinstance(type, str) and ":" in type:
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        if type not in ("cpu", "cuda", "meta"):
            raise RuntimeError("Expected one of cpu, cuda, meta device type at start of device "
                               f"string: {type}")
        self.type = type
        self.index = index

    def __eq__(self, other):
        # as torch: a device never equals a string (device('cpu') == 'cpu' is False)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")


def _cupy():
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def array_module(dev):
    """NumPy for the CPU, CuPy for CUDA (a clear error when CuPy or a GPU is missing)."""
    if dev.type == "cpu":
        return np
    cupy = _cupy()
    if cupy is None:
        raise AssertionError("Torch not compiled with CUDA enabled (ember: install the 'cuda' "
                             "extra, `pip install ember[cuda]`, to use CuPy on NVIDIA GPUs)")
    return cupy


def device_of(array):
    """The device an array lives on."""
    if isinstance(array, np.ndarray):
        return CPU
    return device("cuda", array.device.id)


def as_device(d):
    """Normalise a device argument (str, int, device, None -> cpu)."""
    if d is None:
        return CPU
    if isinstance(d, device):
        return d
    return device(d)
