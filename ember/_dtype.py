"""dtype objects with torch's names, the legacy tensor types, and torch's type promotion.

Promotion follows torch (not NumPy): operands are ranked dimensioned tensor > 0-dim tensor >
Python scalar, and a lower rank only changes the result when it is of a higher category
(bool < integer < floating < complex).
"""
import numpy as np

__all__ = ["dtype", "float16", "half", "float32", "float", "float64", "double", "bfloat16",
           "int8", "int16", "short", "int32", "int", "int64", "long", "uint8", "bool",
           "complex64", "cfloat", "complex128", "cdouble", "get_default_dtype",
           "set_default_dtype", "promote_types", "result_type", "can_cast"]


class dtype:
    """A torch dtype: `ember.float32`, `ember.int64`, ... (repr `torch.float32`)."""

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize",
                 "_category", "_legacy")

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = np.dtype(np_dtype) if np_dtype is not None else None
        self._category = category            # 0 bool, 1 integer, 2 floating, 3 complex
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.is_signed = name not in ("uint8", "bool")
        self.itemsize = self.np.itemsize if self.np is not None else 2

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self):
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self):
        return {"float32": complex64, "float64": complex128, "float16": complex64}.get(self.name, self)


def _dtype_by_name(name):
    return _BY_NAME[name]


float16 = half = dtype("float16", np.float16, 2)
float32 = float = dtype("float32", np.float32, 2)
float64 = double = dtype("float64", np.float64, 2)
bfloat16 = dtype("bfloat16", None, 2)        # NumPy has no bfloat16: creating one raises
int8 = dtype("int8", np.int8, 1)
int16 = short = dtype("int16", np.int16, 1)
int32 = int = dtype("int32", np.int32, 1)
int64 = long = dtype("int64", np.int64, 1)
uint8 = dtype("uint8", np.uint8, 1)
bool = dtype("bool", np.bool_, 0)
complex64 = cfloat = dtype("complex64", np.complex64, 3)
complex128 = cdouble = dtype("complex128", np.complex128, 3)

_SCALAR_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "bfloat16": "BFloat16",
                 "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte",
                 "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def scalar_name(d):
    """torch's ScalarType name of a dtype, as error messages spell it ('Float', 'Long')."""
    return _SCALAR_NAMES[d.name]


_ALL = (float16, float32, float64, bfloat16, int8, int16, int32, int64, uint8, bool,
        complex64, complex128)
_BY_NAME = {d.name: d for d in _ALL}
_BY_NP = {d.np: d for d in _ALL if d.np is not None}


def from_numpy_dtype(np_dtype):
    """The ember dtype of a NumPy dtype; TypeError for types torch has no tensor of."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        name = np.dtype(np_dtype).type.__name__
        raise TypeError(f"can't convert np.ndarray of type numpy.{name}. The only "
                        "supported types are: float64, float32, float16, complex64, complex128, "
                        "int64, int32, int16, int8, uint8, and bool.") from None


def to_numpy_dtype(d):
    if d.np is None:
        raise TypeError(f"{d} is not supported by ember's NumPy backend (NumPy has no bfloat16)")
    return d.np


_default = [float32]


def get_default_dtype():
    """torch.get_default_dtype(): float32 unless set_default_dtype changed it."""
    return _default[0]


def set_default_dtype(d):
    """torch.set_default_dtype(d): only floating point dtypes are allowed."""
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default[0] = d


def promote_types(a, b):
    """torch.promote_types: the smallest dtype both a and b convert to safely. Across
    categories the higher one wins as is (int64 with float16 is float16), unlike NumPy."""
    if a is b:
        return a
    if a._category != b._category:
        high, low = (a, b) if a._category > b._category else (b, a)
        if high.is_complex and low.is_floating_point:
            return promote_types(high.to_real(), low).to_complex()
        return high
    if a is bfloat16 or b is bfloat16:
        other = b if a is bfloat16 else a
        return float32 if other is float16 else other
    return _BY_NP[np.promote_types(a.np, b.np)]


def _scalar_category(x):
    t = type(x)
    if t is builtins_bool or t is np.bool_:
        return 0
    if t is builtins_int or isinstance(x, np.integer):
        return 1
    if t is builtins_complex or isinstance(x, np.complexfloating):
        return 3
    return 2


import builtins  # noqa: E402  (after the dtype names that shadow the builtins)
builtins_bool, builtins_int, builtins_complex = builtins.bool, builtins.int, builtins.complex


def _scalar_dtype(category):
    return (bool, int64, get_default_dtype(), get_default_dtype().to_complex())[category]


def _combine(higher, lower):
    """Merge a higher-priority group's dtype with a lower one's, as torch does: the lower
    group only matters when it is of a higher category, and then its own dtype is kept
    (int tensor * 0-dim float64 tensor is float64); float with complex keeps the float's
    precision (float32 tensor * 0-dim complex128 tensor is complex64)."""
    if higher is None:
        return lower
    if lower is None or lower._category <= higher._category:
        return higher
    if lower.is_complex and higher.is_floating_point:
        return higher.to_complex()
    return lower


def _promote_all(dtypes):
    result = None
    for d in dtypes:
        result = d if result is None else promote_types(result, d)
    return result


def result_type_of(dims, zero_dims, scalars):
    """torch's result dtype from the dtypes of dimensioned tensors, of 0-dim tensors and the
    categories of Python scalars (each may be empty)."""
    wrapped = _scalar_dtype(max(scalars)) if scalars else None
    return _combine(_promote_all(dims), _combine(_promote_all(zero_dims), wrapped))


def result_type(tensor, other):
    """torch.result_type(tensor, other) for tensors and Python numbers."""
    from ._tensor import Tensor
    dims, zeros, scalars = [], [], []
    for x in (tensor, other):
        if isinstance(x, Tensor):
            (dims if x._data.ndim else zeros).append(x.dtype)
        else:
            scalars.append(_scalar_category(x))
    return result_type_of(dims, zeros, scalars)


def can_cast(from_, to):
    """torch.can_cast: False when casting would lower the category (float -> int, ... -> bool)."""
    return from_._category <= to._category
