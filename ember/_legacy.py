"""The legacy tensor types: FloatTensor, LongTensor, ... usable as constructors, with
isinstance (checks the dtype) and with Tensor.type()."""
from . import _dtype
from ._tensor import Tensor


class _LegacyMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.is_cpu == cls._cpu

    def __call__(cls, *args, **kwargs):
        from .ops.creation import _legacy_new
        t = _legacy_new(Tensor, args, kwargs, dtype=cls.dtype)
        return t if cls._cpu else t.cuda()

    def __repr__(cls):
        return f"<class '{cls.__module__}.{cls.__name__}'>"


def _legacy(name, dtype, cpu=True):
    return _LegacyMeta(name, (), {"dtype": dtype, "_cpu": cpu,
                                  "__module__": "torch" if cpu else "torch.cuda"})


FloatTensor = _legacy("FloatTensor", _dtype.float32)
DoubleTensor = _legacy("DoubleTensor", _dtype.float64)
HalfTensor = _legacy("HalfTensor", _dtype.float16)
BFloat16Tensor = _legacy("BFloat16Tensor", _dtype.bfloat16)
ByteTensor = _legacy("ByteTensor", _dtype.uint8)
CharTensor = _legacy("CharTensor", _dtype.int8)
ShortTensor = _legacy("ShortTensor", _dtype.int16)
IntTensor = _legacy("IntTensor", _dtype.int32)
LongTensor = _legacy("LongTensor", _dtype.int64)
BoolTensor = _legacy("BoolTensor", _dtype.bool)

_ALL = (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, ByteTensor, CharTensor,
        ShortTensor, IntTensor, LongTensor, BoolTensor)
_CUDA = {c.__name__: _legacy(c.__name__, c.dtype, cpu=False) for c in _ALL}


def type_from_string(name):
    """'torch.FloatTensor' / 'torch.cuda.LongTensor' / 'torch.float32' -> dtype."""
    short = name.rsplit(".", 1)[-1]
    for c in _ALL:
        if c.__name__ == short:
            return c.dtype
    if short in _dtype._BY_NAME:
        return _dtype._BY_NAME[short]
    raise ValueError(f"invalid type: '{name}'")
