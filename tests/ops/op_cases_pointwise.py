"""OP_CASES of the elementwise ops: arithmetic, operators (also reflected and in-place),
comparison, bitwise/logical, math functions, clamp, where, lerp."""
import operator

import numpy as np
from hypothesis import strategies as st

from op_harness import Case, Err
from op_strategies import (ALL, ALL_HALF, FLOATS, INTS, NUMERIC, Arr, Sample, binary, custom,
                           reflected, ternary, unary, with_kwargs)

INTS_BOOL = INTS + ("bool",)
nan, inf = float("nan"), float("inf")
SPECIAL = Arr(np.array([0.0, -0.0, 1.5, -2.5, nan, inf, -inf, 0.5, -0.5], np.float32))
SPECIAL64 = Arr(np.array([0.0, -0.0, 2.5, -1.5, nan, inf, -inf, 3.5, -3.5]))
INT_EDGE = Arr(np.array([[-7, -1, 0], [1, 5, 7]], np.int64))


def _broadcast_error(f, dtype, sizes=(3, 4)):
    return Err(lambda lib: f(lib, lib.ones(2, 3, dtype=getattr(lib, dtype)),
                             lib.ones(2, 4, dtype=getattr(lib, dtype))), RuntimeError,
               f"The size of tensor a ({sizes[0]}) must match the size of tensor b ({sizes[1]}) "
               "at non-singleton dimension 1")


def arith(name, dtypes=ALL_HALF, samples=None, scalar=True, reflected=False, **kw):
    """A binary function with its edge cases (special floats, ints, bools, a 0-dim tensor
    against a tensor; Python numbers unless `scalar` is False) and the broadcasting error
    (whose operands a and b are swapped for a `reflected` op)."""
    edges = [Sample(SPECIAL, Arr(np.float32(2.0))), Sample(SPECIAL64, SPECIAL64),
             Sample(Arr(np.array(3, np.int64)), Arr(np.array([1.5, 2.5], np.float32))),
             Sample(INT_EDGE, Arr(np.array([[2], [-3]])))]
    if scalar:
        edges += [Sample(INT_EDGE, 2), Sample(INT_EDGE, 2.5),
                  Sample(Arr(np.array([True, False])), True)]
    f = kw.pop("call", None)
    errors = [_broadcast_error(f or (lambda lib, a, b: getattr(lib, name)(a, b)), dtypes[0],
                               (4, 3) if reflected else (3, 4))]
    return Case(name, samples or binary(scalar=scalar), dtypes, edges=edges + kw.pop("edges", []),
                errors=errors + kw.pop("errors", []), call=f, **kw)


def _op(fn):
    return lambda lib, *a: fn(*a)


def _inplace_op(fn):
    def call(lib, a, b):
        r = fn(a, b)
        assert r is a
        return r
    return call


DIVISOR = dict(away=0.5)
OPERATORS = [
    ("__add__", operator.add, ALL, {}), ("__sub__", operator.sub, ALL, {}),
    ("__mul__", operator.mul, ALL, {}), ("__truediv__", operator.truediv, ALL, DIVISOR),
    ("__floordiv__", operator.floordiv, NUMERIC, dict(away=0.5, gradcheck=False)),
    ("__mod__", operator.mod, NUMERIC, DIVISOR), ("__pow__", operator.pow, FLOATS, dict(lo=0.5)),
]
PREDICATE_OPERATORS = [
    ("__and__", operator.and_, INTS_BOOL, {}), ("__or__", operator.or_, INTS_BOOL, {}),
    ("__xor__", operator.xor, INTS_BOOL, {}), ("__lshift__", operator.lshift, INTS, dict(lo=0)),
    ("__rshift__", operator.rshift, INTS, dict(lo=0)),
    ("__eq__", operator.eq, ALL, {}), ("__ne__", operator.ne, ALL, {}),
    ("__lt__", operator.lt, NUMERIC, {}), ("__le__", operator.le, NUMERIC, {}),
    ("__gt__", operator.gt, NUMERIC, {}), ("__ge__", operator.ge, NUMERIC, {}),
]
INPLACE_OPERATORS = [
    ("__iadd__", operator.iadd, ALL, {}), ("__isub__", operator.isub, NUMERIC, {}),
    ("__imul__", operator.imul, ALL, {}), ("__itruediv__", operator.itruediv, FLOATS, DIVISOR),
    ("__ifloordiv__", operator.ifloordiv, NUMERIC, DIVISOR),
    ("__imod__", operator.imod, NUMERIC, DIVISOR), ("__ipow__", operator.ipow, FLOATS,
                                                    dict(lo=0.5)),
]
INPLACE_PREDICATES = [
    ("__iand__", operator.iand, INTS_BOOL, {}), ("__ior__", operator.ior, INTS_BOOL, {}),
    ("__ixor__", operator.ixor, INTS_BOOL, {}),
]
REFLECTED = [
    ("__radd__", operator.add, ALL, {}), ("__rsub__", operator.sub, NUMERIC, {}),
    ("__rmul__", operator.mul, ALL, {}), ("__rtruediv__", operator.truediv, ALL, DIVISOR),
    ("__rfloordiv__", operator.floordiv, NUMERIC, dict(away=0.5, gradcheck=False)),
    ("__rmod__", operator.mod, NUMERIC, dict(away=0.5, gradcheck=False)),
    ("__rpow__", operator.pow, FLOATS, dict(lo=0.5)),
    ("__rand__", operator.and_, INTS_BOOL, dict(grad=False)),
    ("__ror__", operator.or_, INTS_BOOL, dict(grad=False)),
    ("__rxor__", operator.xor, INTS_BOOL, dict(grad=False)),
]


def operator_cases():
    """Operators (also reflected and in-place); the in-place ones write into a clone of a
    leaf, whose grad_fn torch names after the view it may be (AsStridedBackward0), so node
    names are not compared there."""
    cases = []
    for table, grad in ((OPERATORS, True), (PREDICATE_OPERATORS, False)):
        for name, fn, dtypes, kw in table:
            kw = dict(kw)
            gc = kw.pop("gradcheck", True)
            cases.append(arith(name, dtypes, binary(**kw), call=_op(fn), method=False,
                               inplace=False, out=False, grad=grad, gradcheck=gc))
    for table, grad in ((INPLACE_OPERATORS, True), (INPLACE_PREDICATES, False)):
        for name, fn, dtypes, kw in table:
            cases.append(Case(name, binary(scalar=True, **kw), dtypes, call=_inplace_op(fn),
                              method=False, inplace=False, out=False, clone_self=True,
                              gradcheck=False, grad_fn=False, grad=grad))
    for name, fn, dtypes, kw in REFLECTED:
        kw = dict(kw)
        grad, gc = kw.pop("grad", True), kw.pop("gradcheck", True)
        cases.append(Case(name, reflected(**kw), dtypes, call=_op(fn), method=False,
                          inplace=False, out=False, grad=grad, gradcheck=gc))
    unary_ops = [("__neg__", operator.neg, NUMERIC), ("__pos__", operator.pos, ALL),
                 ("__abs__", operator.abs, ALL), ("__invert__", operator.invert, INTS_BOOL)]
    for name, fn, dtypes in unary_ops:
        cases.append(Case(name, unary(), dtypes, call=_op(fn), method=False, inplace=False,
                          out=False, grad=name != "__invert__"))
    return cases


def _div_modes(draw, arr):
    s = draw(binary(away=0.5)(arr.dtypes))
    mode = draw(st.sampled_from(["trunc", "floor"]))
    return Sample(*s.args, rounding_mode=mode)


def _where(draw, arr):
    s = draw(binary()(arr.dtypes))
    a, b = s.args
    shape = a.array.shape if isinstance(a, Arr) else ()
    cond = draw(arr(shape, ("bool",)))
    return Sample(cond, a, b)


def _clamp(draw, arr):
    x = draw(arr())
    form = draw(st.sampled_from(["both", "min", "max", "tensors", "pos"]))
    lo = draw(st.floats(-2, 0).map(lambda v: round(v, 2)))
    hi = draw(st.floats(0, 2).map(lambda v: round(v, 2)))
    if form == "both":
        return Sample(x, min=lo, max=hi)
    if form == "min":
        return Sample(x, min=lo)
    if form == "max":
        return Sample(x, max=hi)
    if form == "pos":
        return Sample(x, lo, hi)
    shape = x.array.shape
    return Sample(x, min=draw(arr(shape, lo=-2, hi=0)), max=draw(arr(shape, lo=0, hi=2)))


def _lerp(draw, arr):
    s = draw(ternary()(arr.dtypes))
    a, b, w = s.args
    if draw(st.booleans()):
        w = draw(st.floats(0, 1).map(lambda v: round(v, 2)))
    else:
        w = Arr(w.array.astype(a.array.dtype), w.layout)
    b = Arr(b.array.astype(a.array.dtype), b.layout)
    return Sample(a, b, w)


def _addc(draw, arr):
    s = draw(ternary()(arr.dtypes))
    if draw(st.booleans()):
        return Sample(*s.args, value=draw(st.sampled_from([0.5, 2, -1])))
    return Sample(*s.args)


UNARY_FLOAT = [  # name, domain (lo, hi), dtypes
    ("exp", -3, 3), ("exp2", -3, 3), ("expm1", -3, 3), ("log", 0.1, 4), ("log2", 0.1, 4),
    ("log10", 0.1, 4), ("log1p", -0.9, 3), ("sqrt", 0.1, 4), ("rsqrt", 0.1, 4),
    ("sin", -3, 3), ("cos", -3, 3), ("tan", -1.2, 1.2), ("tanh", -3, 3), ("sigmoid", -5, 5),
    ("asin", -0.9, 0.9), ("acos", -0.9, 0.9), ("atan", -3, 3), ("sinh", -3, 3),
    ("cosh", -3, 3), ("asinh", -3, 3), ("acosh", 1.1, 4), ("atanh", -0.9, 0.9),
    ("erf", -3, 3), ("erfc", -3, 3), ("erfinv", -0.9, 0.9), ("reciprocal", 0.3, 3),
]
ZERO_GRAD = ["floor", "ceil", "trunc", "frac", "sign", "sgn"]


def unary_cases():
    cases = []
    for name, lo, hi in UNARY_FLOAT:
        cases.append(Case(name, unary(lo, hi), ALL_HALF if name != "erfinv" else ALL,
                          edges=[Sample(SPECIAL), Sample(SPECIAL64), Sample(INT_EDGE),
                                 Sample(Arr(np.array(True)))],
                          gradgrad=name in ("exp", "log", "tanh", "sigmoid", "sin", "sqrt")))
    for name in ZERO_GRAD:
        cases.append(Case(name, unary(), ALL if name not in ("sign", "sgn", "frac") else NUMERIC,
                          edges=[Sample(SPECIAL), Sample(INT_EDGE)]))
    cases += [
        Case("abs", unary(), ALL_HALF,
             edges=[Sample(SPECIAL), Sample(INT_EDGE)], gradgrad=True),
        Case("neg", unary(), NUMERIC + ("float16",), edges=[Sample(SPECIAL), Sample(INT_EDGE)],
             errors=[Err(lambda lib: -lib.tensor([True]), RuntimeError,
                         "Negation, the `-` operator, on a bool tensor is not supported")]),
        Case("relu", unary(), NUMERIC, edges=[Sample(SPECIAL), Sample(INT_EDGE)], gradgrad=True,
             errors=[Err(lambda lib: lib.relu(lib.tensor([True])), RuntimeError,
                         "Boolean inputs not supported for relu")]),
        Case("round", with_kwargs(unary(), decimals=st.sampled_from([0, 1, 2])), FLOATS,
             id="round.decimals", edges=[Sample(Arr(np.array([0.5, 1.5, 2.5, -0.5, 1.25])))]),
        Case("round", unary(), NUMERIC, edges=[Sample(SPECIAL), Sample(INT_EDGE)]),
        Case("logit", unary(0.05, 0.95), FLOATS),
        Case("logit", with_kwargs(unary(0.05, 0.95), eps=st.sampled_from([0.1, 0.2])), FLOATS,
             id="logit.eps"),
        Case("isnan", unary(), ALL, edges=[Sample(SPECIAL)], grad=False),
        Case("isinf", unary(), ALL, edges=[Sample(SPECIAL)], grad=False),
        Case("isfinite", unary(), ALL, edges=[Sample(SPECIAL)], grad=False),
        Case("isposinf", unary(), NUMERIC, edges=[Sample(SPECIAL)], grad=False),
        Case("isneginf", unary(), NUMERIC, edges=[Sample(SPECIAL)], grad=False),
        Case("signbit", unary(), NUMERIC, edges=[Sample(SPECIAL)], grad=False),
        Case("nan_to_num", unary(), ALL, edges=[
            Sample(SPECIAL), Sample(SPECIAL64, nan=1.0, posinf=9.0, neginf=-9.0),
            Sample(SPECIAL, posinf=5.0)]),
        Case("bitwise_not", unary(), INTS_BOOL, grad=False),
        Case("logical_not", unary(), ALL, grad=False),
    ]
    return cases


def binary_cases():
    return [
        arith("add", samples=binary(), edges=[Sample(INT_EDGE, 2, alpha=3)]),
        arith("add", id="add.alpha", samples=with_kwargs(binary(), alpha=st.sampled_from(
            [2, -1])), dtypes=NUMERIC),
        arith("sub", edges=[Sample(INT_EDGE, 2, alpha=3)],
              errors=[Err(lambda lib: lib.tensor([True]) - lib.tensor([False]), RuntimeError,
                          "Subtraction, the `-` operator, with two bool tensors is not "
                          "supported"),
                      Err(lambda lib: lib.tensor([True]) - 1, RuntimeError,
                          "Subtraction, the `-` operator, with a bool tensor is not supported")]),
        arith("rsub", NUMERIC, reflected=True),
        arith("rsub", NUMERIC, with_kwargs(binary(), alpha=st.sampled_from([2, -1])),
              id="rsub.alpha", reflected=True),
        arith("mul"),
        arith("div", samples=binary(away=0.5),
              edges=[Sample(INT_EDGE, 0), Sample(Arr(np.array([1.0, -1.0, 0.0])), 0.0)]),
        Case("div", custom(_div_modes), NUMERIC, id="div.rounding_mode",
             edges=[Sample(INT_EDGE, -2, rounding_mode="trunc"),
                    Sample(INT_EDGE, -2, rounding_mode="floor"),
                    Sample(SPECIAL, 2.0, rounding_mode="floor")],
             errors=[Err(lambda lib: lib.div(lib.ones(2), 2, rounding_mode="x"), RuntimeError,
                         "div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         "found 'x'")]),
        arith("true_divide", samples=binary(away=0.5)),
        arith("floor_divide", NUMERIC, binary(away=0.5), gradcheck=False,
              edges=[Sample(SPECIAL, 2.0)],
              errors=[Err(lambda lib: lib.tensor([1, 2]) // 0, RuntimeError,
                          "ZeroDivisionError")]),
        arith("remainder", NUMERIC, binary(away=0.5), edges=[Sample(INT_EDGE, -3),
                                                          Sample(SPECIAL, 2.0)]),
        arith("fmod", NUMERIC, binary(away=0.5), edges=[Sample(INT_EDGE, -3),
                                                     Sample(SPECIAL, 2.0)]),
        arith("pow", FLOATS, binary(lo=0.5), gradgrad=True,
              edges=[Sample(INT_EDGE, 2), Sample(Arr(np.array([0.0, 1.0, 2.0])), 0.5),
                     Sample(Arr(np.array([0.0, 1.0, 2.0])), 0),
                     Sample(Arr(np.array([0.0, 1.0, 2.0])), Arr(np.array([0.0, 1.0, 2.0])))],
              errors=[Err(lambda lib: lib.tensor([2, 3]) ** -1, RuntimeError,
                          "Integers to negative integer powers are not allowed.")]),
        Case("pow", binary(lo=0, hi=3), INTS, id="pow.int", grad=False),
        Case("float_power", binary(lo=0.5), FLOATS + INTS),
        arith("atan2", FLOATS + ("int64", "int32"), scalar=False),  # torch negates uint8 wrongly
        arith("hypot", FLOATS, scalar=False),
        arith("maximum", NUMERIC, scalar=False, edges=[Sample(SPECIAL, Arr(np.float32(0.5)))]),
        arith("minimum", NUMERIC, scalar=False, edges=[Sample(SPECIAL, Arr(np.float32(0.5)))]),
        arith("fmax", NUMERIC, scalar=False, edges=[Sample(SPECIAL, SPECIAL)]),
        arith("fmin", NUMERIC, scalar=False, edges=[Sample(SPECIAL, SPECIAL)]),
        Case("where", custom(_where), ALL,
             edges=[Sample(Arr(np.array([True, False])), 1.0, 0),
                    Sample(Arr(np.array([True, False])), Arr(np.array([1, 2])), 2.5)],
             errors=[Err(lambda lib: lib.where(lib.tensor([1, 0]), lib.ones(2), lib.zeros(2)),
                         RuntimeError, "where expected condition to be a boolean tensor")],
             method=False),
        Case("Tensor.where", custom(_where), ALL, id="Tensor.where",
             call=lambda lib, c, a, b: a.where(c, b) if isinstance(a, lib.Tensor) else
             lib.where(c, a, b), method=False, inplace=False, out=False),
        Case("clamp", custom(_clamp), NUMERIC, edges=[
            Sample(SPECIAL, min=-1.0, max=1.0), Sample(INT_EDGE, min=-2, max=3),
            Sample(INT_EDGE, min=1.5), Sample(Arr(np.array([1.0, 2.0, 3.0])), min=2.5, max=1.5)],
             errors=[Err(lambda lib: lib.clamp(lib.ones(2)), RuntimeError,
                         "At least one of 'min' or 'max' must not be None")], gradgrad=True),
        Case("clip", custom(_clamp), NUMERIC),
        Case("clamp_min", binary(scalar=True), FLOATS, out=True),
        Case("clamp_max", binary(scalar=True), FLOATS, out=True),
        Case("lerp", custom(_lerp), FLOATS, gradgrad=True),
        Case("addcmul", custom(_addc), FLOATS),
        Case("addcdiv", custom(_addc), FLOATS, gc_samples=ternary(lo=0.5)),
        arith("isclose", ALL, scalar=False, grad=False),
    ]


def compare_cases():
    cases = []
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        cases.append(arith(name, NUMERIC if name not in ("eq", "ne") else ALL, grad=False,
                           edges=[Sample(SPECIAL, SPECIAL), Sample(SPECIAL, 0.5)]))
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        cases.append(arith(name, INTS_BOOL, grad=False))
    for name in ("logical_and", "logical_or", "logical_xor"):
        cases.append(arith(name, ALL, scalar=False, grad=False))
    for name in ("bitwise_left_shift", "bitwise_right_shift"):
        cases.append(arith(name, INTS, binary(lo=0, hi=3), grad=False))
    return cases


CASES = operator_cases() + unary_cases() + binary_cases() + compare_cases()
