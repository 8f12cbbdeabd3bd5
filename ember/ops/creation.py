"""Tensor creation (tensor, zeros, arange, rand, ...), dtype/device copies (`to`) and the
in-place fills (copy_, fill_, zero_, uniform_, normal_, ...)."""
import numbers

import numpy as np

from .. import _dtype
from .. import random as _random
from .._device import as_device, array_module, CPU
from .._size import Size
from .._tensor import Tensor, wrap
from ..autograd import grad_mode
from ._registry import op, assign_, check_inplace


def _np_dtype(dtype, default=None):
    if dtype is None:
        dtype = default or _dtype.get_default_dtype()
    if isinstance(dtype, type) and hasattr(dtype, "dtype"):
        dtype = dtype.dtype
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"dtype must be torch.dtype, not {type(dtype).__name__}")
    return _dtype.to_numpy_dtype(dtype)


def _finish(array, device=None, requires_grad=False):
    """Place a fresh NumPy array on the requested device and wrap it."""
    dev = as_device(device)
    if dev.type != "cpu":
        array = array_module(dev).asarray(array)
    t = wrap(array)
    if requires_grad:
        if array.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t.requires_grad = True
    return t


def _size_args(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = size[0]
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"zeros(): argument 'size' (position 1) must be tuple of ints, but "
                            f"found element of type {type(s).__name__} at pos {len(out)}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(int(s))
    return tuple(out)


# -- from data -------------------------------------------------------------------------------
def _infer_array(data, dtype):
    if isinstance(data, Tensor):
        return data._host().copy() if dtype is None else data._host().astype(dtype.np)
    if isinstance(data, str) or (isinstance(data, (list, tuple)) and data and
                                 isinstance(data[0], str)):
        raise TypeError("new(): invalid data type 'str'")
    try:
        arr = np.array(data)
    except ValueError:
        arr = None
    if arr is None or arr.dtype.kind in "OUS":
        _check_nested(data, _nested_shape(data), 0)
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    if dtype is not None:
        if dtype.is_floating_point or dtype.is_complex or arr.dtype.kind in "iub":
            return arr.astype(_dtype.to_numpy_dtype(dtype), copy=False)
        return arr.astype(_dtype.to_numpy_dtype(dtype))
    if not isinstance(data, np.ndarray) and not isinstance(data, np.generic):
        kind = arr.dtype.kind
        if kind == "f" and not _has_np_float(data):
            arr = arr.astype(_dtype.get_default_dtype().np)
        elif kind == "c":
            arr = arr.astype(_dtype.get_default_dtype().to_complex().np)
        elif kind in "iu" and arr.dtype != np.int64 and not _has_np_int(data):
            arr = arr.astype(np.int64)
    if arr.dtype not in _dtype._BY_NP:
        _dtype.from_numpy_dtype(arr.dtype)
    return arr


def _is_seq(x):
    return isinstance(x, (list, tuple, np.ndarray)) or isinstance(x, Tensor) and x.dim()


def _nested_shape(data):
    """The shape torch infers from a nested sequence: the lengths along the first elements."""
    shape = []
    while _is_seq(data):
        shape.append(len(data))
        if not len(data):
            break
        data = data[0]
    return shape


def _check_nested(data, shape, dim):
    """Raise torch's error for the first element that breaks the inferred shape or that is
    not a number."""
    if dim == len(shape):
        if _is_seq(data):
            raise TypeError(f"'{type(data).__name__}' object cannot be interpreted as a number")
        if isinstance(data, str):
            raise TypeError("new(): invalid data type 'str'")
        if not isinstance(data, (numbers.Number, np.generic, Tensor)):
            raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")
        return
    if not _is_seq(data):
        raise TypeError("not a sequence")
    if len(data) != shape[dim]:
        raise ValueError(f"expected sequence of length {shape[dim]} at dim {dim} "
                         f"(got {len(data)})")
    for x in data:
        _check_nested(x, shape, dim + 1)


def _first_leaf(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data


def _has_np_float(data):
    leaf = _first_leaf(data)
    return isinstance(leaf, (np.floating, Tensor)) and not isinstance(leaf, float)


def _has_np_int(data):
    return isinstance(_first_leaf(data), (np.integer, Tensor))


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor copying data (nested lists of numbers, arrays, tensors); Python floats
    give the default dtype, ints int64, bools bool."""
    arr = _infer_array(data, dtype)
    if isinstance(data, np.ndarray) or isinstance(data, Tensor):
        arr = np.array(arr, copy=True) if arr is data else arr
    return _finish(np.ascontiguousarray(arr) if arr.ndim else np.array(arr), device,
                   requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Share memory with an ndarray or tensor when dtype and device allow, else copy."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device) if dtype or device else data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == _np_dtype(dtype)) \
            and as_device(device).type == "cpu":
        _dtype.from_numpy_dtype(data.dtype)
        return wrap(data)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(ndarray):
    """A tensor sharing the memory of a NumPy array (same dtype)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)
    return wrap(ndarray)


def scalar_tensor(s, dtype=None, device=None, requires_grad=False):
    return _finish(np.array(s, _np_dtype(dtype)), device, requires_grad)


# -- filled ----------------------------------------------------------------------------------
def _filled(fill, size, out, dtype, device, requires_grad, default=None):
    shape = _size_args(size)
    arr = np.full(shape, fill, _np_dtype(dtype, default)) if fill is not None else \
        np.empty(shape, _np_dtype(dtype, default))
    if out is not None:
        out._data = arr
        return out
    return _finish(arr, device, requires_grad)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    return _filled(0, size, out, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, memory_format=None):
    return _filled(1, size, out, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    """Uninitialised memory, as torch.empty (ember fills it with zeros)."""
    return _filled(0, size, out, dtype, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False):
    """Filled with fill_value; the dtype is inferred from it like a Python scalar."""
    if dtype is None:
        dtype = _dtype._scalar_dtype(_dtype._scalar_category(
            fill_value.item() if isinstance(fill_value, Tensor) else fill_value))
    return _filled(fill_value, (size,) if isinstance(size, int) else size, out, dtype, device,
                   requires_grad)


def _like(fn):
    def like(input, *args, dtype=None, layout=None, device=None, requires_grad=False,
             memory_format=None):
        return fn(input.shape, *args, dtype=dtype or input.dtype,
                  device=device if device is not None else input.device,
                  requires_grad=requires_grad)
    like.__name__ = fn.__name__ + "_like"
    return like


zeros_like, ones_like, empty_like = _like(zeros), _like(ones), _like(empty)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    return full(input.shape, fill_value, dtype=dtype or input.dtype,
                device=device if device is not None else input.device,
                requires_grad=requires_grad)


def _new(fn):
    def new(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
            pin_memory=False):
        return fn(*size, dtype=dtype or self.dtype,
                  device=device if device is not None else self.device,
                  requires_grad=requires_grad)
    new.__name__ = "new_" + fn.__name__
    return new


Tensor.new_zeros, Tensor.new_ones, Tensor.new_empty = _new(zeros), _new(ones), _new(empty)


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
              layout=None, pin_memory=False):
    return full(size, fill_value, dtype=dtype or self.dtype,
                device=device if device is not None else self.device,
                requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None,
                pin_memory=False):
    return tensor(data, dtype=dtype or self.dtype,
                  device=device if device is not None else self.device,
                  requires_grad=requires_grad)


Tensor.new_full, Tensor.new_tensor = _new_full, _new_tensor


# -- ranges ----------------------------------------------------------------------------------
def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """[start, end) by step; int64 when all arguments are integers, else the default dtype."""
    start, end, step = _num(start), _num(end), _num(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = _dtype.int64 if ints else _dtype.get_default_dtype()
    n = int(np.ceil((end - start) / step))
    arr = (start + np.arange(n, dtype=np.float64) * step) if dtype.is_floating_point else \
        np.arange(start, end, step)
    return _filled_from(arr.astype(_np_dtype(dtype)), out, device, requires_grad)


def _filled_from(arr, out, device, requires_grad):
    if out is not None:
        out._data = arr
        return out
    return _finish(arr, device, requires_grad)


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated torch.range: end inclusive, default float dtype."""
    n = int(np.floor((end - start) / step)) + 1
    arr = start + np.arange(n, dtype=np.float64) * step
    return _finish(arr.astype(_np_dtype(dtype)), device, requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    arr = np.linspace(_num(start), _num(end), steps, dtype=np.float64)
    return _filled_from(arr.astype(_np_dtype(dtype)), out, device, requires_grad)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    arr = np.power(base, np.linspace(_num(start), _num(end), steps, dtype=np.float64))
    return _filled_from(arr.astype(_np_dtype(dtype)), out, device, requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    return _filled_from(np.eye(n, m, dtype=_np_dtype(dtype)), out, device, requires_grad)


# -- random ----------------------------------------------------------------------------------
def _random_float(draw, kernel, size, generator, dtype, device, requires_grad):
    npdt = _np_dtype(dtype)
    if npdt.kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for "
                                  f"'{_dtype.scalar_name(_dtype._BY_NP[npdt])}'")
    shape = _size_args(size)
    work = npdt if npdt in (np.float32, np.float64) else np.float32
    arr = draw(_random.rng(generator), shape, work).astype(npdt, copy=False)
    return _finish(arr, device, requires_grad)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """Uniform on [0, 1)."""
    return _random_float(lambda r, s, d: r.random(s, dtype=d), "check_uniform_bounds", size,
                         generator, dtype, device, requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Standard normal."""
    return _random_float(lambda r, s, d: r.standard_normal(s, dtype=d), "normal_kernel_cpu", size,
                         generator, dtype, device, requires_grad)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint(*args, low=None, high=None, size=None, generator=None, out=None, dtype=None,
            layout=None, device=None, requires_grad=False):
    """randint(high, size) or randint(low, high, size) (also as keywords): int64 by default."""
    args = args + tuple(v for v in (low, high, size) if v is not None)
    if len(args) == 2:
        low, (high, size) = 0, args
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError("randint() received an invalid combination of arguments")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    arr = _random.rng(generator).integers(low, high, _size_args((size,)), dtype=np.int64)
    return _finish(arr.astype(_np_dtype(dtype, _dtype.int64)), device, requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype,
                   device=device or input.device)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """A random permutation of 0..n-1 (int64)."""
    arr = _random.rng(generator).permutation(n).astype(_np_dtype(dtype, _dtype.int64))
    return _finish(arr, device, requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
           layout=None, device=None, requires_grad=False):
    """normal(mean, std[, size]); mean/std may be tensors (shapes broadcast)."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if isinstance(s, np.ndarray) and (s < 0).any() or not isinstance(s, np.ndarray) and s < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {s}")
    if size is not None:
        shape = _size_args((size,))
    else:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    ref = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    npdt = ref._data.dtype if ref is not None else _np_dtype(dtype)
    arr = (_random.rng(generator).standard_normal(shape) * s + m).astype(npdt)
    return _finish(arr, device, requires_grad)


def bernoulli(input, p=None, *, generator=None, out=None):
    """1 with probability input (or p), else 0; same dtype as input."""
    prob = input._data if p is None else p
    draw = _random.rng(generator).random(input.shape)
    return wrap((draw < prob).astype(input._data.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices drawn from the rows of input (non-negative weights), as torch.multinomial."""
    w = input._data.astype(np.float64)
    rows = w.reshape(-1, w.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if not replacement and num_samples > rows.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    r = _random.rng(generator)
    out_rows = []
    for row in rows:
        total = row.sum()
        if total <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if replacement:
            out_rows.append(r.choice(len(row), num_samples, replace=True, p=row / total))
        else:
            # exponential races: without replacement, weights respected, zeros never drawn
            keys = np.where(row > 0, r.exponential(size=len(row)) / np.where(row > 0, row, 1),
                            np.inf)
            pick = np.argsort(keys, kind="stable")[:num_samples]
            if np.isinf(keys[pick]).any():
                raise RuntimeError("invalid multinomial distribution (with replacement=False, "
                                   "not enough non-negative category to sample)")
            out_rows.append(pick)
    res = np.asarray(out_rows, np.int64)
    return wrap(res.reshape(w.shape[:-1] + (num_samples,)))


def poisson(input, generator=None):
    return wrap(_random.rng(generator).poisson(input._data).astype(input._data.dtype))


Tensor.bernoulli, Tensor.multinomial = bernoulli, multinomial


# -- in-place fills --------------------------------------------------------------------------
def _fill_inplace(self, arr):
    """Write freshly drawn values into self (a leaf requiring grad is refused outside
    no_grad, as in torch)."""
    check_inplace(self)
    self._data[...] = arr
    self._vc.value += 1
    return self


def _uniform_(self, from_=0.0, to=1.0, *, generator=None):
    return _fill_inplace(self, _random.rng(generator).uniform(from_, to, self.shape))


def _normal_(self, mean=0.0, std=1.0, *, generator=None):
    return _fill_inplace(self, _random.rng(generator).normal(mean, std, self.shape))


def _random_(self, from_=0, to=None, *, generator=None):
    if to is None:
        from_, to = 0, from_ if from_ else (2 ** 24 if self.is_floating_point() else 2 ** 63 - 1)
    return _fill_inplace(self, _random.rng(generator).integers(from_, to, self.shape))


def _bernoulli_(self, p=0.5, *, generator=None):
    prob = p._data if isinstance(p, Tensor) else p
    return _fill_inplace(self, _random.rng(generator).random(self.shape) < prob)


def _exponential_(self, lambd=1.0, *, generator=None):
    return _fill_inplace(self, _random.rng(generator).exponential(1.0 / lambd, self.shape))


def _geometric_(self, p, *, generator=None):
    return _fill_inplace(self, _random.rng(generator).geometric(p, self.shape))


def _log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    return _fill_inplace(self, _random.rng(generator).lognormal(mean, std, self.shape))


def _cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    return _fill_inplace(self, median + sigma * _random.rng(generator).standard_cauchy(
        self.shape))


def _fill_(self, value, zero=False):
    if isinstance(value, Tensor):
        if value.dim():
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.dim()} dimensions.")
        if grad_mode._enabled[0] and (value.requires_grad or self.requires_grad):
            return assign_(self, value.expand(self.shape).to(self.dtype) * 1)
        value = value.item()
    if grad_mode._enabled[0] and self.requires_grad:
        return assign_(self, _filled_like(self, value, zero))
    return _fill_inplace(self, value)


@op(method=False, saves=False,
    node=lambda args: "ZeroBackward0" if len(args) > 2 and args[2] else "FillBackward2")
def _filled_like(input, value, zero=False):
    """fill_/zero_ seen by autograd: the value everywhere, a zero gradient for the old
    contents."""
    return np.full_like(input, value)


@_filled_like.backward
def _(ctx, grad, input, value, zero=False):
    return zeros_like(grad), None, None


def _zero_(self):
    return _fill_(self, 0, zero=True)


@op(method=False, promote=None, saves=False, node="CopyBackwards")
def _copy(input, src):
    return np.broadcast_to(src, input.shape).astype(input.dtype)


@_copy.backward
def _(ctx, grad, input, src):
    return grad * 0, grad


def _copy_(self, src, non_blocking=False):
    """Copy src (broadcast, cast) into self's storage."""
    if not isinstance(src, Tensor):
        src = tensor(src)
    try:
        np.broadcast_shapes(src._data.shape, self._data.shape)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({self._data.shape[-1] if self.dim() else 1}) "
                           f"must match the size of tensor b ({src._data.shape[-1]}) at "
                           "non-singleton dimension 0") from None
    if grad_mode._enabled[0] and (self.requires_grad or src.requires_grad):
        return assign_(self, _copy(self, src))
    data = src._data if type(src._data) is np.ndarray else src._data.get()
    self._data[...] = data
    self._vc.value += 1
    return self


Tensor.uniform_, Tensor.normal_, Tensor.random_ = _uniform_, _normal_, _random_
Tensor.bernoulli_, Tensor.exponential_, Tensor.geometric_ = _bernoulli_, _exponential_, \
    _geometric_
Tensor.log_normal_, Tensor.cauchy_ = _log_normal_, _cauchy_
Tensor.fill_, Tensor.zero_, Tensor.copy_ = _fill_, _zero_, _copy_


# -- dtype / device conversion ---------------------------------------------------------------
@op(method=False, saves=False, node="ToCopyBackward0")
def _to_copy(input, npdtype, xp):
    if xp is not np:
        return xp.asarray(input).astype(npdtype, copy=True) if type(input) is np.ndarray else \
            input.astype(npdtype)
    arr = input if type(input) is np.ndarray else input.get()
    return arr.astype(npdtype)


@_to_copy.backward
def _(ctx, grad, input, npdtype, xp):
    shape, dt = ctx._meta[0]
    src_xp = np if dt is not None and type(input._data) is np.ndarray else array_module(
        input.device)
    return _to_copy(grad, dt, src_xp)


def to_copy(self, dtype, device, copy=False):
    """Tensor.to: self when nothing changes (unless copy), else a converted copy."""
    npdt = self._data.dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
    if device is None and type(self._data) is np.ndarray:     # a dtype change on the CPU
        return self if npdt == self._data.dtype and not copy else _to_copy(self, npdt, np)
    cur = self.device
    dev = cur if device is None else device
    if npdt == self._data.dtype and dev == cur and not copy:
        return self
    if dev.type == "cuda" and dev.index is None:
        dev = as_device("cuda:0")
    return _to_copy(self, npdt, array_module(dev))


# -- the legacy constructor ------------------------------------------------------------------
def _legacy_new(cls, args, kwargs, dtype=None):
    """Tensor(*sizes) / Tensor(sequence) / Tensor(): the default-dtype legacy constructor."""
    dtype = dtype or _dtype.get_default_dtype()
    device = kwargs.get("device")
    if not args:
        t = _finish(np.empty((0,), dtype.np), device)
    elif len(args) == 1 and isinstance(args[0], np.ndarray):
        t = wrap(args[0].astype(dtype.np))
    elif len(args) == 1 and isinstance(args[0], Tensor):
        t = args[0].to(dtype)
    elif all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args) or \
            (len(args) == 1 and isinstance(args[0], Size)):
        t = zeros(*args, dtype=dtype, device=device)
    elif len(args) == 1 and isinstance(args[0], (list, tuple, numbers.Number)):
        if isinstance(args[0], numbers.Number):
            raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
        t = tensor(args[0], dtype=dtype, device=device)
    else:
        raise TypeError("new() received an invalid combination of arguments")
    if cls is not Tensor:
        t = cls._rewrap_class(t) if hasattr(cls, "_rewrap_class") else t
    return t
