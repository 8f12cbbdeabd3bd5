"""Elementwise ops: arithmetic, comparison, logic and math functions, with torch's promotion.

Each forward works on arrays (NumPy or CuPy through NumPy's dispatch); each backward is written
with ember ops so that it is itself differentiable.
"""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, wrap
from ._registry import op, make_inplace, wrap_int, broadcast_error
from ._util import not_implemented, type_name

BINARY = (0, 1)


def _is_int(x):
    return isinstance(x, np.ndarray) and x.dtype.kind in "iub"


def _times(alpha, x, other):
    """alpha * x in the dtype of the op whose operands are x and other (one of them an array):
    for integer dtypes the product wraps around as in torch, and a float alpha is refused."""
    dt = x.dtype if isinstance(x, np.ndarray) else other.dtype
    if dt.kind not in "iu":
        if dt.kind == "b" and isinstance(alpha, float):
            raise RuntimeError("For integral input tensors, argument alpha must not be a "
                               "floating point number.")
        return alpha * x
    if isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if isinstance(x, np.ndarray):
        return wrap_int(int(alpha), dt) * x
    return wrap_int(int(alpha) * int(x), dt)


def _op_dtype(input, other):
    """The dtype a promoted binary op computes in: its array operand's (the registry cast the
    arrays to it; at most one operand is a Python number)."""
    return input.dtype if isinstance(input, np.ndarray) else other.dtype


def _no_complex(kernel, input, other):
    """torch has no complex loop for this kernel (the promoted dtype is named)."""
    dt = _op_dtype(input, other)
    if dt.kind == "c":
        raise not_implemented(kernel, dt)


def _no_bool(kernel, input, other=None):
    """torch has no bool loop for this kernel (the promoted dtype is bool)."""
    if _op_dtype(input, other) == np.bool_:
        raise not_implemented(kernel, np.bool_)


def _by_arg(pos, tensor_node, scalar_node):
    """node=: torch names the node after the overload called, which depends on whether the
    argument at `pos` is a tensor (RemainderBackward1) or a number (RemainderBackward0)."""
    return lambda args: tensor_node if len(args) > pos and isinstance(args[pos], Tensor) \
        else scalar_node


def _not_differentiable(name):
    raise RuntimeError(f"derivative for aten::{name} is not implemented")


# -- arithmetic ------------------------------------------------------------------------------
@op(promote=BINARY, saves=False, inplace=True, ufunc=np.add)
def add(input, other, alpha=1):
    """input + alpha * other, torch's promotion; bool + bool is logical or."""
    return input + other if alpha == 1 else input + _times(alpha, other, input)


@add.backward
def _(ctx, grad, input, other, alpha=1):
    return grad, (grad if alpha == 1 else grad * alpha)


@op(promote=BINARY, saves=False, method=False, name="sub", ufunc=np.subtract)
def _sub(input, other, alpha=1):
    return input - other if alpha == 1 else input - _times(alpha, other, input)


@_sub.backward
def _(ctx, grad, input, other, alpha=1):
    return grad, (-grad if alpha == 1 else grad * -alpha)


def _check_sub(input, other):
    """torch refuses bool operands (Python bools too) in subtraction; the check sees the
    arguments before promotion casts them."""
    a = input.dtype is _dtype.bool if isinstance(input, Tensor) else isinstance(input, bool)
    b = other.dtype is _dtype.bool if isinstance(other, Tensor) else isinstance(other, bool)
    if a and b:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if a or b:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other with torch's promotion; bool operands are refused."""
    _check_sub(input, other)
    if alpha == 1 and out is None:
        return _sub(input, other)           # the registry's fast path
    return _sub(input, other, alpha, out=out)


sub.spec = _sub.spec
Tensor.sub = Tensor.subtract = sub
Tensor.sub_ = Tensor.subtract_ = make_inplace(sub, "sub")
subtract = sub


@op(promote=BINARY, saves=False, method=False, name="rsub",
    node=_by_arg(1, "RsubBackward0", "RsubBackward1"))
def _rsub(input, other, alpha=1):
    try:
        return other - input if alpha == 1 else other - _times(alpha, input, other)
    except ValueError as e:     # torch names the operands in the order of the subtraction
        raise broadcast_error((other, input)) or e from None


@_rsub.backward
def _(ctx, grad, input, other, alpha=1):
    return (-grad if alpha == 1 else grad * -alpha), grad


def rsub(input, other, *, alpha=1):
    """other - alpha * input (the reflected `scalar - tensor`); bool operands are refused."""
    _check_sub(input, other)
    return _rsub(input, other, alpha)


@op(promote=BINARY, inplace=True, ufunc=np.multiply)
def mul(input, other):
    """Elementwise product (bool * bool is logical and)."""
    return input * other


@mul.backward
def _(ctx, grad, input, other):
    need = ctx.needs_input_grad
    return (grad * other if need[0] else None), (grad * input if need[1] else None)


multiply = mul


@op(promote=BINARY, float_out=True, inplace=True, ufunc=np.true_divide)
def div(input, other, rounding_mode=None):
    """True division (ints give the default float dtype); rounding_mode 'trunc' or 'floor'
    keeps the promoted dtype."""
    if rounding_mode is None:
        return np.true_divide(input, other)
    raise AssertionError("rounding modes are handled by _div_round")


@div.backward
def _(ctx, grad, input, other, rounding_mode=None):
    need = ctx.needs_input_grad
    gi = grad / other if need[0] else None
    go = -grad * input / (other * other) if need[1] else None
    return gi, go


_plain_div = div


def _int_div_check(input, other):
    """torch raises for an integer division by zero (NumPy gives 0)."""
    if _op_dtype(input, other).kind in "iub" and not np.all(other):
        raise RuntimeError("ZeroDivisionError")


def _floor_div(input, other):
    _no_complex("div_floor_cpu", input, other)
    _int_div_check(input, other)
    return np.floor_divide(input, other)


def _trunc_div(input, other):
    if _op_dtype(input, other).kind in "iub":
        _int_div_check(input, other)
        q = np.floor_divide(input, other)
        return q + ((q < 0) & (q * other != input))
    return np.trunc(np.true_divide(input, other)).astype(_op_dtype(input, other))


@op(promote=BINARY, saves=False, name="_div_rounded", method=False, node="DivBackward2")
def _div_rounded(input, other, rounding_mode):
    """div with rounding_mode 'trunc' or 'floor': the promoted dtype, zero gradient."""
    _no_bool("div_" + rounding_mode + "_cpu", input, other)
    return (_floor_div if rounding_mode == "floor" else _trunc_div)(input, other)


@_div_rounded.backward
def _(ctx, grad, input, other, rounding_mode):
    return grad * 0, grad * 0


def div(input, other, *, rounding_mode=None, out=None):
    """torch.div: true division, or rounded with rounding_mode='trunc'/'floor'."""
    if rounding_mode is None:
        return _plain_div(input, other) if out is None else _plain_div(input, other, out=out)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")
    return _div_rounded(input, other, rounding_mode, out=out)


div.spec = _plain_div.spec
Tensor.div = Tensor.divide = Tensor.true_divide = div
Tensor.div_ = Tensor.divide_ = Tensor.true_divide_ = make_inplace(div, "div")
divide = true_divide = div


@op(promote=BINARY, inplace=True, node="NotImplemented")
def floor_divide(input, other):
    """Division rounded down (Python's //), torch's promotion; int division by zero raises;
    torch has no derivative for it."""
    _no_bool("div_floor_cpu", input, other)
    return _floor_div(input, other)


@floor_divide.backward
def _(ctx, grad, input, other):
    _not_differentiable("floor_divide")


@op(promote=BINARY, inplace=True,
    node=lambda args: "NotImplemented" if not isinstance(args[0], Tensor) else
    "RemainderBackward1" if isinstance(args[1], Tensor) else "RemainderBackward0")
def remainder(input, other):
    """Python-style modulus (sign of the divisor), as `%`."""
    _no_bool("remainder_cpu", input, other)
    _no_complex("remainder_cpu", input, other)
    _int_div_check(input, other)
    return np.mod(input, other)


@remainder.backward
def _(ctx, grad, input, other):
    if not isinstance(input, Tensor):
        _not_differentiable("remainder")
    need = ctx.needs_input_grad
    return grad, (-grad * div(input, other, rounding_mode="floor") if need[1] else None)


@op(promote=BINARY, inplace=True, node=_by_arg(1, "FmodBackward1", "FmodBackward0"))
def fmod(input, other):
    """C-style modulus (sign of the dividend)."""
    _no_bool("fmod_cpu", input, other)
    _int_div_check(input, other)
    return np.fmod(input, other)


@fmod.backward
def _(ctx, grad, input, other):
    need = ctx.needs_input_grad
    return grad, (-grad * div(input, other, rounding_mode="trunc") if need[1] else None)


@op(promote=BINARY, inplace=True,
    node=lambda args: "PowBackward2" if not isinstance(args[0], Tensor) else
    "PowBackward1" if isinstance(args[1], Tensor) else "PowBackward0")
def pow(input, exponent):
    """input ** exponent with torch's promotion; integer tensors to negative integer powers
    raise as in torch; a bool tensor to a bool power stays bool."""
    if getattr(input, "dtype", None) == np.bool_:
        if getattr(exponent, "dtype", None) == np.bool_:
            raise not_implemented("pow", np.bool_)
        if isinstance(exponent, (bool, np.bool_)):
            return input | (not exponent)
    if _is_int(input) and isinstance(exponent, int) and not isinstance(exponent, bool) \
            and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if _is_int(input) and _is_int(exponent) and (exponent < 0).any():
        return _int_pow(input, exponent)
    return np.power(input, exponent)


def _int_pow(input, exponent):
    """Integer powers with negative integer exponents, as torch computes them: 1 and -1 keep
    their magnitude, every other base gives 0."""
    neg = exponent < 0
    r = np.power(input, np.where(neg, 0, exponent))
    unit = np.where((input == -1) & (exponent % 2 == 1), -1, np.where(input == 1, 1, 0))
    return np.where(neg, unit, r).astype(r.dtype)


@pow.backward
def _(ctx, grad, input, exponent):
    need = ctx.needs_input_grad
    gi = go = None
    if need[0]:
        if isinstance(exponent, Tensor):
            gi = where(exponent == 0, 0.0, grad * exponent * input.pow(exponent - 1))
        else:
            gi = grad * 0 if exponent == 0 else grad * exponent * input.pow(exponent - 1)
    if need[1]:
        out = pow(input, exponent)
        base = input if isinstance(input, Tensor) else \
            wrap(np.asarray(input, dtype=out._data.dtype))
        go = grad * where((base == 0) & (exponent >= 0), 0.0, out * log(base))
    return gi, go


float_power_dtype = _dtype.float64


def float_power(input, exponent, *, out=None):
    """pow computed in float64 (torch.float_power)."""
    a = input.double() if isinstance(input, Tensor) else input
    e = exponent.double() if isinstance(exponent, Tensor) else exponent
    return pow(a, e, out=out)


def _float_power_(self, exponent):
    if self.dtype is not _dtype.float64:
        raise RuntimeError("the base given to float_power_ has dtype "
                           f"{type_name(self._data.dtype)} but the operation's result requires "
                           "dtype Double")
    return self.pow_(exponent.double() if isinstance(exponent, Tensor) else exponent)


Tensor.float_power, Tensor.float_power_ = float_power, _float_power_


@op(promote=(), saves=False, inplace=True)
def neg(input):
    """-input; torch refuses bool tensors."""
    if input.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return np.negative(input)


@neg.backward
def _(ctx, grad, input):
    return -grad


negative = neg


@op(inplace=True)
def abs(input):
    _no_bool("abs_cpu", input)
    return np.abs(input)


@abs.backward
def _(ctx, grad, input):
    return grad * input.sgn()


absolute = abs


def _sign(x):
    """-1, 0 or 1 (nan gives 0, as in torch)."""
    if x.dtype == np.bool_:
        return x.copy()
    s = np.sign(x)
    return np.nan_to_num(s, nan=0.0) if x.dtype.kind == "f" else s


@op(inplace=True, saves=False)
def sign(input):
    return _sign(input)


@sign.backward
def _(ctx, grad, input):
    return grad * 0


@op(inplace=True, saves=False)
def sgn(input):
    if input.dtype.kind == "c":
        mag = np.abs(input)
        return np.where(mag == 0, 0, input / np.where(mag == 0, 1, mag)).astype(input.dtype)
    return _sign(input)


@sgn.backward
def _(ctx, grad, input):
    return grad * 0


# -- unary float functions -------------------------------------------------------------------
def _unary(name, forward, backward, save_output=False, inplace=True, node=None):
    """Declare a unary op whose integer inputs are promoted to the default float dtype."""
    forward.__name__ = name
    f = op(forward, name=name, promote=(0,), float_out=True, save_output=save_output,
           saves=True, inplace=inplace, node=node)
    f.backward(backward)
    return f


exp = _unary("exp", lambda input: np.exp(input), lambda ctx, g, x: g * ctx.out, save_output=True)
exp2 = _unary("exp2", lambda input: np.exp2(input),
              lambda ctx, g, x: g * ctx.out * 0.6931471805599453, save_output=True)
expm1 = _unary("expm1", lambda input: np.expm1(input), lambda ctx, g, x: g * (ctx.out + 1),
               save_output=True)
log = _unary("log", lambda input: np.log(input), lambda ctx, g, x: g / x)
log2 = _unary("log2", lambda input: np.log2(input), lambda ctx, g, x: g / (x * 0.6931471805599453))
log10 = _unary("log10", lambda input: np.log10(input),
               lambda ctx, g, x: g / (x * 2.302585092994046))
log1p = _unary("log1p", lambda input: np.log1p(input), lambda ctx, g, x: g / (x + 1),
               node="Log1PBackward0")
sqrt = _unary("sqrt", lambda input: np.sqrt(input), lambda ctx, g, x: g / (2 * ctx.out),
              save_output=True)
rsqrt = _unary("rsqrt", lambda input: 1 / np.sqrt(input),
               lambda ctx, g, x: g * -0.5 * ctx.out.pow(3), save_output=True)
sin = _unary("sin", lambda input: np.sin(input), lambda ctx, g, x: g * x.cos())
cos = _unary("cos", lambda input: np.cos(input), lambda ctx, g, x: -g * x.sin())
tan = _unary("tan", lambda input: np.tan(input), lambda ctx, g, x: g * (1 + ctx.out * ctx.out),
             save_output=True)
asin = _unary("asin", lambda input: np.arcsin(input), lambda ctx, g, x: g * (1 - x * x).rsqrt())
acos = _unary("acos", lambda input: np.arccos(input), lambda ctx, g, x: -g * (1 - x * x).rsqrt())
atan = _unary("atan", lambda input: np.arctan(input), lambda ctx, g, x: g / (1 + x * x))
sinh = _unary("sinh", lambda input: np.sinh(input), lambda ctx, g, x: g * x.cosh())
cosh = _unary("cosh", lambda input: np.cosh(input), lambda ctx, g, x: g * x.sinh())
tanh = _unary("tanh", lambda input: np.tanh(input),
              lambda ctx, g, x: g * (1 - ctx.out * ctx.out), save_output=True)
asinh = _unary("asinh", lambda input: np.arcsinh(input),
               lambda ctx, g, x: g * (x * x + 1).rsqrt())
acosh = _unary("acosh", lambda input: np.arccosh(input),
               lambda ctx, g, x: g * (x * x - 1).rsqrt())
atanh = _unary("atanh", lambda input: np.arctanh(input), lambda ctx, g, x: g / (1 - x * x))
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
for _n in ("arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh"):
    setattr(Tensor, _n, getattr(Tensor, "a" + _n[3:]))
    setattr(Tensor, _n + "_", getattr(Tensor, "a" + _n[3:] + "_"))


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


sigmoid = _unary("sigmoid", _sigmoid, lambda ctx, g, x: g * ctx.out * (1 - ctx.out),
                 save_output=True)


def _erf(x):
    from ..backend.numpy import erf as kernel
    return kernel(x)


erf = _unary("erf", _erf, lambda ctx, g, x: g * 1.1283791670955126 * (-x * x).exp())
erfc = _unary("erfc", lambda input: 1 - _erf(input),
              lambda ctx, g, x: g * -1.1283791670955126 * (-x * x).exp())


def _erfinv(x):
    from ..backend.numpy import erfinv as kernel
    return kernel(x)


erfinv = _unary("erfinv", _erfinv,
                lambda ctx, g, x: g * 0.8862269254527580 * (ctx.out * ctx.out).exp(),
                save_output=True)


@op(promote=(0,), float_out=True, inplace=True)
def reciprocal(input):
    return 1 / input


@reciprocal.backward
def _(ctx, grad, input):
    return -grad / (input * input)


@op(promote=(0,), float_out=True, inplace=True)
def logit(input, eps=None):
    x = input if eps is None else np.clip(input, eps, 1 - eps)
    return np.log(x / (1 - x))


@logit.backward
def _(ctx, grad, input, eps=None):
    g = grad / (input * (1 - input))
    if eps is not None:
        g = where((input < eps) | (input > 1 - eps), 0.0, g)
    return g


# -- rounding (zero gradient) ----------------------------------------------------------------
def _rounding(name, fn):
    def forward(input):
        _no_bool(name + "_vml_cpu", input)
        return fn(input) if input.dtype.kind == "f" else input.copy()
    forward.__name__ = name
    f = op(forward, name=name, saves=False, inplace=True)
    f.backward(lambda ctx, g, x: g * 0)
    return f


floor = _rounding("floor", np.floor)
ceil = _rounding("ceil", np.ceil)
trunc = _rounding("trunc", np.trunc)
fix = trunc
Tensor.fix, Tensor.fix_ = Tensor.trunc, Tensor.trunc_


@op(saves=False, inplace=True)
def frac(input):
    """input - trunc(input); floating point tensors only."""
    if input.dtype.kind != "f":
        raise not_implemented("frac_cpu", input.dtype)
    return input - np.trunc(input)


@frac.backward
def _(ctx, grad, input):
    return grad


@op(saves=False, inplace=True,
    node=lambda args: "RoundBackward1" if len(args) > 1 else "RoundBackward0")
def round(input, decimals=0):
    """Round half to even, as torch.round."""
    _no_bool("round_vml_cpu", input)
    if input.dtype.kind != "f":
        return input.copy()
    return np.round(input, decimals)


@round.backward
def _(ctx, grad, input, decimals=0):
    return grad * 0


# -- clamp -----------------------------------------------------------------------------------
@op(promote=(0, 1, 2), inplace=True,
    node=lambda args: "ClampBackward0" if isinstance(args[1] if len(args) > 1 else None, Tensor)
    or isinstance(args[2] if len(args) > 2 else None, Tensor) else "ClampBackward1")
def clamp(input, min=None, max=None):
    """Clamp to [min, max]; min/max may be numbers or tensors; min > max gives max."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    r = input
    if min is not None:
        r = np.maximum(r, min)
    if max is not None:
        r = np.minimum(r, max)
    return r if r is not input else input.copy()


@clamp.backward
def _(ctx, grad, input, min=None, max=None):
    mask = None
    if min is not None:
        mask = input >= min
    if max is not None:
        m = input <= max
        mask = m if mask is None else mask & m
    gi = where(mask, grad, 0.0)
    need = ctx.needs_input_grad
    gmin = where(input < min, grad, 0.0) if len(need) > 1 and need[1] else None
    gmax = where(input > max, grad, 0.0) if len(need) > 2 and need[2] else None
    return gi, gmin, gmax


clip = clamp
Tensor.clip, Tensor.clip_ = Tensor.clamp, Tensor.clamp_


@op(promote=(0, 1), inplace=True, node=_by_arg(1, "ClampMinBackward1", "ClampMinBackward0"))
def clamp_min(input, min):
    return np.maximum(input, min)


@clamp_min.backward
def _(ctx, grad, input, min):
    need = ctx.needs_input_grad
    return where(input >= min, grad, 0.0), (where(input < min, grad, 0.0) if need[1] else None)


@op(promote=(0, 1), inplace=True, node=_by_arg(1, "ClampMaxBackward1", "ClampMaxBackward0"))
def clamp_max(input, max):
    return np.minimum(input, max)


@clamp_max.backward
def _(ctx, grad, input, max):
    need = ctx.needs_input_grad
    return where(input <= max, grad, 0.0), (where(input > max, grad, 0.0) if need[1] else None)


# -- binary math -----------------------------------------------------------------------------
@op(promote=BINARY, inplace=True)
def maximum(input, other):
    """Elementwise max; nan propagates."""
    return np.maximum(input, other)


def _extreme_grads(grad, input, other, input_loses, other_loses):
    """Gradients of maximum/minimum: ties split the gradient, nan passes it to both."""
    shared = where(input == other, grad * 0.5, grad)
    return where(input_loses, 0.0, shared), where(other_loses, 0.0, shared)


@maximum.backward
def _(ctx, grad, input, other):
    return _extreme_grads(grad, input, other, input < other, input > other)


@op(promote=BINARY, inplace=True)
def minimum(input, other):
    """Elementwise min; nan propagates."""
    return np.minimum(input, other)


@minimum.backward
def _(ctx, grad, input, other):
    return _extreme_grads(grad, input, other, input > other, input < other)


@op(promote=BINARY)
def fmax(input, other):
    """Elementwise max ignoring nan (nan only where both are nan)."""
    return np.fmax(input, other)


@fmax.backward
def _(ctx, grad, input, other):
    first = (input >= other) | other.isnan()
    return where(first, grad, 0.0), where(first, 0.0, grad)


@op(promote=BINARY)
def fmin(input, other):
    """Elementwise min ignoring nan (nan only where both are nan)."""
    return np.fmin(input, other)


@fmin.backward
def _(ctx, grad, input, other):
    first = (input <= other) | other.isnan()
    return where(first, grad, 0.0), where(first, 0.0, grad)


@op(promote=BINARY, float_out=True, inplace=True)
def atan2(input, other):
    return np.arctan2(input, other)


@atan2.backward
def _(ctx, grad, input, other):
    denom = input * input + other * other
    scale = where(denom == 0, 0.0, grad / denom)
    return scale * other, -scale * input


arctan2 = atan2
Tensor.arctan2 = Tensor.atan2


@op(promote=BINARY, inplace=True)
def hypot(input, other):
    """sqrt(input**2 + other**2); floating point tensors only."""
    if input.dtype.kind != "f":
        raise not_implemented("hypot_cpu", input.dtype)
    return np.hypot(input, other)


@hypot.backward
def _(ctx, grad, input, other):
    h = hypot(input, other)
    return grad * input / h, grad * other / h


@op(promote=(0, 1, 2), inplace=True, node=_by_arg(2, "LerpBackward1", "LerpBackward0"))
def lerp(input, end, weight):
    """input + weight * (end - input)."""
    return input + weight * (end - input)


@lerp.backward
def _(ctx, grad, input, end, weight):
    need = ctx.needs_input_grad
    gw = grad * (end - input) if len(need) > 2 and need[2] else None
    return grad * (1 - weight), grad * weight, gw


@op(promote=(0, 1, 2), inplace=True)
def addcmul(input, tensor1, tensor2, value=1):
    """input + value * tensor1 * tensor2."""
    return input + value * tensor1 * tensor2


@addcmul.backward
def _(ctx, grad, input, tensor1, tensor2, value=1):
    return grad, grad * tensor2 * value, grad * tensor1 * value


@op(promote=(0, 1, 2), float_out=True, inplace=True)
def addcdiv(input, tensor1, tensor2, value=1):
    """input + value * tensor1 / tensor2."""
    return input + value * tensor1 / tensor2


@addcdiv.backward
def _(ctx, grad, input, tensor1, tensor2, value=1):
    return grad, grad * value / tensor2, -grad * value * tensor1 / (tensor2 * tensor2)


@op(promote=(1, 2))
def where(condition, input, other):
    """torch.where(cond, x, y) with promotion of x and y (numbers allowed)."""
    if condition.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {_dtype._BY_NP[condition.dtype].name.capitalize()}")
    if not isinstance(input, np.ndarray) and not isinstance(other, np.ndarray):
        # two numbers: torch's dtype of Python scalars (the default float dtype, int64)
        dt = _dtype.result_type_of([], [], [_dtype._scalar_category(input),
                                            _dtype._scalar_category(other)])
        return np.where(condition, input, other).astype(dt.np)
    return np.where(condition, input, other)


@where.backward
def _(ctx, grad, condition, input, other):
    zero = grad * 0
    need = ctx.needs_input_grad
    return (None, where(condition, grad, zero) if need[1] else None,
            where(condition, zero, grad) if need[2] else None)


def _where_method(self, condition, other):
    return where(condition, self, other)


Tensor.where = _where_method


@op(promote=(0,), inplace=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace nan/inf by finite values (defaults: 0 and the dtype's extremes)."""
    if input.dtype.kind != "f":
        return input.copy()
    return np.nan_to_num(input, nan=nan, posinf=posinf, neginf=neginf)


@nan_to_num.backward
def _(ctx, grad, input, nan=0.0, posinf=None, neginf=None):
    return where(input.isfinite(), grad, 0.0)


# -- comparison and logic (no gradient) ------------------------------------------------------
def _compare(name, fn, aliases=()):
    ordered = name not in ("eq", "ne")

    def forward(input, other):
        if ordered and _op_dtype(input, other).kind == "c":
            raise not_implemented(name + "_cpu", _op_dtype(input, other))
        return fn(input, other)
    forward.__name__ = name
    f = op(forward, name=name, promote=BINARY, saves=False, inplace=True)
    for a in aliases:
        setattr(Tensor, a, f)
        setattr(Tensor, a + "_", getattr(Tensor, name + "_"))
    return f


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal, ("not_equal",))
lt = _compare("lt", np.less, ("less",))
le = _compare("le", np.less_equal, ("less_equal",))
gt = _compare("gt", np.greater, ("greater",))
ge = _compare("ge", np.greater_equal, ("greater_equal",))
not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge


def _bitwise(name, fn, kernel, bools=True):
    """A bitwise op on integer (and bool) tensors; torch's error for the other dtypes (the
    promoted one is named)."""
    def forward(input, other):
        dt = _op_dtype(input, other)
        if dt.kind in "fc" or dt == np.bool_ and not bools:
            raise not_implemented(kernel, dt)
        return fn(input, other)
    forward.__name__ = name
    return op(forward, name=name, promote=BINARY, saves=False, inplace=True)


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, "bitwise_and_cpu")
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, "bitwise_or_cpu")
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, "bitwise_xor_cpu")
bitwise_left_shift = _bitwise("bitwise_left_shift", np.left_shift, "lshift_cpu", False)
bitwise_right_shift = _bitwise("bitwise_right_shift", np.right_shift, "rshift_cpu", False)


@op(saves=False, inplace=True)
def bitwise_not(input):
    if input.dtype.kind in "fc":
        raise not_implemented("bitwise_not_cpu", input.dtype)
    return np.invert(input)


def _logical(name, fn):
    def forward(input, other):
        return fn(input, other)
    forward.__name__ = name
    return op(forward, name=name, saves=False, inplace=True)


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)
logical_not = op(lambda input: np.logical_not(input), name="logical_not", saves=False,
                 inplace=True)

isnan = op(lambda input: np.isnan(input), name="isnan", saves=False)
isinf = op(lambda input: np.isinf(input), name="isinf", saves=False)
isfinite = op(lambda input: np.isfinite(input), name="isfinite", saves=False)
isposinf = op(lambda input: np.isposinf(input), name="isposinf", saves=False)
isneginf = op(lambda input: np.isneginf(input), name="isneginf", saves=False)
signbit = op(lambda input: np.signbit(input), name="signbit", saves=False)


@op(saves=False)
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|; both of one dtype, as torch requires."""
    if input.dtype != other.dtype:
        raise RuntimeError(f"{type_name(input.dtype)} did not match {type_name(other.dtype)}")
    return np.isclose(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element is close (torch.allclose)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):
    """True when both have the same shape and elements (torch.equal)."""
    if input.shape != other.shape:
        return False
    return bool(np.array_equal(input._data, other._data))


Tensor.allclose, Tensor.equal = allclose, equal


# -- operators -------------------------------------------------------------------------------
def positive(input):
    """+input: input itself; torch refuses bool tensors."""
    if input.dtype == _dtype.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def _rdiv(self, other):
    """number / tensor, computed as torch does: reciprocal(self) * number."""
    return reciprocal(self) * other


def _rfloordiv(self, other):
    return floor_divide(other, self)


def _rpow(self, other):
    return pow(other, self)


Tensor.__add__ = Tensor.__radd__ = add
Tensor.__iadd__ = Tensor.add_
Tensor.__sub__ = sub
Tensor.__rsub__ = lambda self, other: rsub(self, other)
Tensor.__isub__ = Tensor.sub_
Tensor.__mul__ = Tensor.__rmul__ = mul
Tensor.__imul__ = Tensor.mul_
Tensor.__truediv__ = Tensor.__div__ = _plain_div
Tensor.__rtruediv__ = Tensor.__rdiv__ = _rdiv
Tensor.__itruediv__ = Tensor.div_
Tensor.__floordiv__ = floor_divide
Tensor.__rfloordiv__ = _rfloordiv
Tensor.__ifloordiv__ = Tensor.floor_divide_
Tensor.__mod__ = remainder
Tensor.__rmod__ = lambda self, other: remainder(other, self)
Tensor.__imod__ = Tensor.remainder_
Tensor.__pow__ = pow
Tensor.__rpow__ = _rpow
Tensor.__ipow__ = Tensor.pow_
Tensor.__neg__ = neg
Tensor.__pos__ = Tensor.positive = positive
Tensor.__abs__ = abs
Tensor.__eq__ = eq
Tensor.__ne__ = ne
Tensor.__lt__ = lt
Tensor.__le__ = le
Tensor.__gt__ = gt
Tensor.__ge__ = ge
Tensor.__and__ = Tensor.__rand__ = bitwise_and
Tensor.__or__ = Tensor.__ror__ = bitwise_or
Tensor.__xor__ = Tensor.__rxor__ = bitwise_xor
Tensor.__iand__ = Tensor.bitwise_and_
Tensor.__ior__ = Tensor.bitwise_or_
Tensor.__ixor__ = Tensor.bitwise_xor_
Tensor.__invert__ = bitwise_not
Tensor.__lshift__ = bitwise_left_shift
Tensor.__rshift__ = bitwise_right_shift
Tensor.__hash__ = object.__hash__
