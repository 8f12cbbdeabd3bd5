"""Type promotion against torch 2.13: every pair of dtypes, as dimensioned tensors, 0-dim
tensors and Python numbers (int, float, bool, complex), through result_type and the actual
results (values and dtype, or the exception type) of the arithmetic, comparison and where."""
import numpy as np
import pytest
import torch

import ember
from op_harness import assert_same, assert_same_error

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]
SCALARS = [3, 2.5, True, 1 + 2j]
VALUES = {"bool": [True, True, True], "complex64": [1 + 1j, 2, 3], "complex128": [1 + 1j, 2, 3]}


def _operand(lib, dtype, kind):
    values = np.array(VALUES.get(dtype, [1, 2, 3])).astype(dtype)
    return lib.tensor(values if kind == "tensor" else values[1])


def _operands(first):
    """(description, ember operands, torch operands) for `first` against every dtype and kind
    and every Python scalar, in both orders."""
    out = []
    for kind in ("tensor", "zero_dim"):
        for second in DTYPES:
            for k2 in ("tensor", "zero_dim"):
                pair = [(lib, _operand(lib, first, kind), _operand(lib, second, k2))
                        for lib in (ember, torch)]
                out.append((f"{first} {kind} vs {second} {k2}", pair))
        for scalar in SCALARS:
            for flip in (False, True):
                pair = [(lib, *((scalar, _operand(lib, first, kind)) if flip else
                                (_operand(lib, first, kind), scalar))) for lib in (ember, torch)]
                out.append((f"{first} {kind} vs {scalar!r} (flipped={flip})", pair))
    return out


def _run(fn, lib, a, b):
    try:
        return fn(lib, a, b), None
    except Exception as exc:            # noqa: BLE001 - the exception type is compared
        return None, exc


def _without_complex32(t):
    """torch's complex32 (float16 with a complex number) has no NumPy dtype: ember gives
    complex64 there (also where torch has no complex32 kernel), the one deviation of these
    tables."""
    if t is torch.complex32:
        return torch.complex64
    if isinstance(t, torch.Tensor) and t.dtype is torch.complex32:
        return t.to(torch.complex64)
    return t


def _check(fn, what, pair):
    (_, ea, eb), (_, ta, tb) = pair
    t_val, t_exc = _run(fn, torch, ta, tb)
    t_val = _without_complex32(t_val)
    e_val, e_exc = _run(fn, ember, ea, eb)
    if t_exc is not None and "ComplexHalf" in str(t_exc) and e_exc is None:
        assert e_val.dtype is ember.complex64, f"{what}: {e_val.dtype} for torch's complex32"
    elif t_exc is not None:
        assert_same_error(e_exc, t_exc, what)
    elif e_exc is not None:
        raise AssertionError(f"{what}: ember raised {type(e_exc).__name__}: {e_exc}")
    else:
        assert_same(e_val, t_val, what)


OPS = {
    "add": lambda lib, a, b: a + b,
    "mul": lambda lib, a, b: a * b,
    "sub": lambda lib, a, b: a - b,
    "div": lambda lib, a, b: a / b,
    "floor_divide": lambda lib, a, b: a // b,
    "eq": lambda lib, a, b: a == b,
    "lt": lambda lib, a, b: a < b,
    "ge": lambda lib, a, b: a >= b,
    "where": lambda lib, a, b: lib.where(lib.tensor([True, False, True]), a, b),
    "add.function": lambda lib, a, b: lib.add(a, b),
    "div.function": lambda lib, a, b: lib.div(a, b),
}


@pytest.mark.parametrize("first", DTYPES)
def test_result_type(first):
    for what, pair in _operands(first):
        _check(lambda lib, a, b: lib.result_type(a, b), what, pair)


@pytest.mark.parametrize("first", DTYPES)
@pytest.mark.parametrize("op", sorted(OPS))
def test_op_promotion(op, first):
    for what, pair in _operands(first):
        _check(OPS[op], f"{op}: {what}", pair)


@pytest.mark.parametrize("first", DTYPES)
def test_promote_types(first):
    for second in DTYPES:
        e = ember.promote_types(getattr(ember, first), getattr(ember, second))
        t = torch.promote_types(getattr(torch, first), getattr(torch, second))
        assert repr(e) == repr(t), f"promote_types({first}, {second})"
