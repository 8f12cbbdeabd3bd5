"""ember: PyTorch's eager API on NumPy (CPU) and CuPy (GPU). `import ember as torch`."""
__version__ = "0.1.0"

from . import _dtype
from ._dtype import (dtype, float16, half, float32, float64, double, bfloat16, int8, int16,  # noqa
                     short, int32, int64, long, uint8, bool, complex64, cfloat, complex128,
                     cdouble, get_default_dtype, set_default_dtype, promote_types, result_type,
                     can_cast)
from ._dtype import float, int  # noqa: F401  (torch.float / torch.int are dtypes)
from ._size import Size
from ._device import device
from ._tensor import Tensor
from ._legacy import (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, ByteTensor,  # noqa
                      CharTensor, ShortTensor, IntTensor, LongTensor, BoolTensor)
from . import autograd
from .autograd import (no_grad, enable_grad, set_grad_enabled, inference_mode,  # noqa: F401
                       is_grad_enabled, is_inference_mode_enabled)
from .random import (Generator, manual_seed, seed, initial_seed, get_rng_state,  # noqa: F401
                     set_rng_state, default_generator)
from . import random
from .ops import *            # noqa: F401,F403
from .ops import (sum, max, min, all, any, abs, round, pow, range, div, mean, prod, std,  # noqa
                  var, norm, where)
from . import linalg
from . import cuda
from . import optim
from ._printing import set_printoptions, get_printoptions  # noqa: F401

autograd.Variable = Tensor
strided = "torch.strided"
contiguous_format = preserve_format = channels_last = "torch.contiguous_format"

__all__ = []


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def numel(input):
    return input.numel()


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def typename(obj):
    return obj.type() if isinstance(obj, Tensor) else type(obj).__name__


def set_num_threads(n):
    """Threads of ember's NumPy kernels (they split big batches in two halves, so 1 or 2);
    NumPy's BLAS keeps its own thread count."""
    from .backend import threads
    threads.set_count(n)


def get_num_threads():
    from .backend import threads
    return threads.REQUESTED


from . import serialization  # noqa: E402
from .serialization import save, load, add_safe_globals  # noqa: E402,F401
from . import hub  # noqa: E402,F401
from . import utils  # noqa: E402,F401
from . import nn  # noqa: E402  (after ops: torch.nn, not the ops.nn kernels file)
from . import optim  # noqa: E402,F401
