"""OP_CASES of the shape ops: views (view, reshape, squeeze, transpose, permute, expand, ...),
copies (repeat, cat, stack, flip, roll, ...), splits and triangular parts."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from op_harness import Case, Err
from op_strategies import ALL, FLOATS, Arr, Sample, custom, dims, shapes, unary

ONES_SHAPES = dict(min_side=1, max_side=2)       # shapes with size-1 dims (squeeze)


def _regroup(draw, n, allow_infer=True):
    """A random shape with n elements (one entry possibly -1)."""
    if n == 0:
        shape = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3).filter(lambda s: 0 in s))
    else:
        factors = [p for p in _primes(n)]
        k = draw(st.integers(0, 3)) if factors else draw(st.integers(0, 2))
        shape = [1] * max(k, 1 if not factors else 0)
        for f in factors:
            if shape:
                i = draw(st.integers(0, len(shape) - 1))
                shape[i] *= f
            else:
                shape.append(f)
        if not shape:
            shape = []
    if allow_infer and shape and n and draw(st.booleans()):
        shape[draw(st.integers(0, len(shape) - 1))] = -1
    return tuple(shape)


def _primes(n):
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


def _view(draw, arr):
    x = draw(arr())
    return Sample(x, _regroup(draw, x.array.size))


def _resize(draw, arr):
    x = draw(arr(layout=False))
    n = x.array.size
    big = _regroup(draw, n + draw(st.integers(0, 5)), False)
    small = _regroup(draw, draw(st.integers(0, n)), False)
    return Sample(x, big, small)


def _resize_call(lib, x, big, small):
    return x.resize_(big).resize_(small)


def _flatten(draw, arr):
    x = draw(arr())
    nd = x.array.ndim
    if draw(st.booleans()):
        return Sample(x)
    a, b = sorted([draw(dims(nd)) % max(nd, 1), draw(dims(nd)) % max(nd, 1)])
    return Sample(x, a, b - (nd if draw(st.booleans()) and nd else 0))


def _unflatten(draw, arr):
    x = draw(arr(min_dims=1))
    d = draw(dims(x.array.ndim))
    return Sample(x, d, _regroup(draw, x.array.shape[d]) or (1,))


def _squeeze(draw, arr):
    x = draw(arr(**ONES_SHAPES))
    nd = x.array.ndim
    form = draw(st.sampled_from(["none", "int", "tuple"]))
    if form == "none":
        return Sample(x)
    return Sample(x, draw(dims(nd, allow_tuple=form == "tuple")))


def _unsqueeze(draw, arr):
    x = draw(arr())
    n = x.array.ndim + 1
    return Sample(x, draw(st.integers(-n, n - 1)))


def _transpose(draw, arr):
    x = draw(arr())
    nd = x.array.ndim
    return Sample(x, draw(dims(nd)), draw(dims(nd)))


def _permute(draw, arr):
    x = draw(arr())
    nd = x.array.ndim
    order = draw(st.permutations(range(nd)))
    order = [d - nd if draw(st.booleans()) else d for d in order]
    return Sample(x, *order) if draw(st.booleans()) else Sample(x, tuple(order))


def _movedim(draw, arr):
    x = draw(arr(min_dims=1))
    nd = x.array.ndim
    if draw(st.booleans()):
        return Sample(x, draw(dims(nd)), draw(dims(nd)))
    k = draw(st.integers(1, nd))
    src = draw(st.permutations(range(nd)))[:k]
    dst = draw(st.permutations(range(nd)))[:k]
    return Sample(x, tuple(src), tuple(dst))


def _expand(draw, arr):
    x = draw(arr(**ONES_SHAPES))
    target = [s if s != 1 else draw(st.sampled_from([1, 3, -1])) for s in x.array.shape]
    target = [s if s == 1 or draw(st.booleans()) else -1 for s in target]
    lead = draw(st.lists(st.integers(0, 3), max_size=2))
    sizes = tuple(lead + target)
    return Sample(x, *sizes) if draw(st.booleans()) else Sample(x, sizes)


def _expand_as(draw, arr):
    x = draw(arr(**ONES_SHAPES))
    shape = tuple(3 if s == 1 and draw(st.booleans()) else s for s in x.array.shape)
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return Sample(x, draw(arr(lead + shape)))


def _repeat(draw, arr):
    x = draw(arr(max_side=3))
    reps = draw(st.lists(st.integers(0, 3), min_size=x.array.ndim, max_size=x.array.ndim + 2))
    return Sample(x, *reps) if draw(st.booleans()) else Sample(x, tuple(reps))


def _cat(draw, arr):
    shape = draw(shapes(min_dims=1))
    d = draw(dims(len(shape)))
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(shape)
        s[d] = draw(st.integers(0, 3))
        parts.append(draw(arr(tuple(s))))
    if draw(st.booleans()):           # legacy: 1-D empty tensors are skipped
        parts.insert(draw(st.integers(0, len(parts))), draw(arr((0,))))
    return Sample(parts, d) if draw(st.booleans()) else Sample(parts, dim=d)


def _stack(draw, arr):
    shape = draw(shapes())
    parts = [draw(arr(shape)) for _ in range(draw(st.integers(1, 3)))]
    n = len(shape) + 1
    return Sample(parts, draw(st.integers(-n, n - 1)))


def _split(draw, arr):
    x = draw(arr(min_dims=1))
    d = draw(dims(x.array.ndim))
    size = x.array.shape[d]
    if draw(st.booleans()):
        return Sample(x, draw(st.integers(1, 4)), d)
    cuts = sorted(draw(st.lists(st.integers(0, size), max_size=3)))
    sizes = [b - a for a, b in zip([0] + cuts, cuts + [size])]
    return Sample(x, sizes, d)


def _chunk(draw, arr):
    x = draw(arr(min_dims=1))
    return Sample(x, draw(st.integers(1, 5)), draw(dims(x.array.ndim)))


def _tensor_split(draw, arr):
    x = draw(arr(min_dims=1))
    d = draw(dims(x.array.ndim))
    if draw(st.booleans()):
        return Sample(x, draw(st.integers(1, 5)), d)
    return Sample(x, sorted(draw(st.lists(st.integers(0, 5), max_size=3))), d)


def _dim_only(draw, arr):
    x = draw(arr(min_dims=1))
    return Sample(x, draw(dims(x.array.ndim)))


def _flip(draw, arr):
    x = draw(arr(min_dims=1))
    return Sample(x, draw(st.lists(st.integers(-x.array.ndim, x.array.ndim - 1), min_size=1,
                                   max_size=x.array.ndim, unique_by=lambda d: d % x.array.ndim)))


def _roll(draw, arr):
    x = draw(arr())
    nd = x.array.ndim
    if nd == 0 or draw(st.booleans()):
        return Sample(x, draw(st.integers(-5, 5)))
    k = draw(st.integers(1, nd))
    ds = draw(st.permutations(range(nd)))[:k]
    return Sample(x, tuple(draw(st.integers(-5, 5)) for _ in ds), tuple(ds))


def _narrow(draw, arr):
    x = draw(arr(min_dims=1))
    d = draw(dims(x.array.ndim))
    size = x.array.shape[d]
    start = draw(st.integers(0, size))
    length = draw(st.integers(0, size - start))
    if start and draw(st.booleans()):
        start -= size
    return Sample(x, d, start, length)


def _select(draw, arr):
    x = draw(arr(min_dims=1, min_side=1))
    d = draw(dims(x.array.ndim))
    size = x.array.shape[d]
    return Sample(x, d, draw(st.integers(-size, size - 1)))


def _tri(draw, arr):
    x = draw(arr(min_dims=2))
    if draw(st.booleans()):
        return Sample(x)
    return Sample(x, draw(st.integers(-3, 3)))


def _diagonal(draw, arr):
    x = draw(arr(min_dims=2))
    nd = x.array.ndim
    d1 = draw(dims(nd))
    d2 = draw(dims(nd).filter(lambda d: d % nd != d1 % nd))
    return Sample(x, draw(st.integers(-2, 2)), d1, d2)


def _diagonal_scatter(draw, arr):
    s = _diagonal(draw, arr)
    x, offset, d1, d2 = s.args
    diag_shape = np.diagonal(x.array, offset, d1, d2).shape
    return Sample(x, draw(arr(diag_shape, (x.array.dtype.name,))), offset, d1, d2)


def _diag(draw, arr):
    x = draw(arr(min_dims=1, max_dims=2))
    return Sample(x, draw(st.integers(-2, 2)))


def _unfold(draw, arr):
    x = draw(arr(min_dims=1))
    d = draw(dims(x.array.ndim))
    size = draw(st.integers(0, x.array.shape[d]))
    return Sample(x, d, size, draw(st.integers(1, 3)))


def _repeat_interleave(draw, arr):
    x = draw(arr(min_dims=1))
    if draw(st.booleans()):
        return Sample(x, draw(st.integers(0, 3)))
    d = draw(dims(x.array.ndim))
    reps = draw(hnp.arrays(np.int64, (x.array.shape[d],), elements=st.integers(0, 3)))
    return Sample(x, Arr(reps), d)


def _broadcast_to(draw, arr):
    s = _expand(draw, arr)
    sizes = s.args[1] if len(s.args) == 2 and isinstance(s.args[1], tuple) else s.args[1:]
    return Sample(s.args[0], tuple(sizes))


def _pair_list(draw, arr):
    shape = draw(shapes(min_dims=1, max_dims=2))
    return Sample([draw(arr(shape)) for _ in range(draw(st.integers(1, 3)))])


VIEW_ERRORS = [
    Err(lambda lib: lib.ones(2, 3).t().view(6), RuntimeError,
        "view size is not compatible with input tensor's size and stride (at least one "
        "dimension spans across two contiguous subspaces). Use .reshape(...) instead."),
    Err(lambda lib: lib.ones(2, 3).view(4), RuntimeError,
        "shape '[4]' is invalid for input of size 6"),
    Err(lambda lib: lib.ones(2, 3).view(-1, -1), RuntimeError, "only one dimension can be "
                                                               "inferred"),
]

CASES = [
    Case("view", custom(_view), ALL, call=lambda lib, x, s: x.view(*s), method=False,
         inplace=False, out=False, errors=VIEW_ERRORS),
    Case("reshape", custom(_view), ALL, errors=VIEW_ERRORS[1:]),
    Case("Tensor.resize_", custom(_resize), ALL, call=_resize_call, method=False, inplace=False,
         out=False, grad=False,
         errors=[Err(lambda lib: lib.ones(2, requires_grad=True).resize_(3), RuntimeError,
                     "cannot resize variables that require grad")]),
    Case("flatten", custom(_flatten), ALL),
    Case("unflatten", custom(_unflatten), ALL),
    Case("ravel", unary(), ALL),
    Case("squeeze", custom(_squeeze), ALL),
    Case("unsqueeze", custom(_unsqueeze), ALL),
    Case("t", custom(lambda d, arr: Sample(d(arr(max_dims=2)))), ALL,
         errors=[Err(lambda lib: lib.ones(2, 2, 2).t(), RuntimeError,
                     "t() expects a tensor with <= 2 dimensions, but self is 3D")]),
    Case("transpose", custom(_transpose), ALL),
    Case("swapaxes", custom(_transpose), ALL),
    Case("permute", custom(_permute), ALL,
         errors=[Err(lambda lib: lib.ones(2, 3).permute(0, 0), RuntimeError,
                     "permute(): duplicate dims are not allowed.")]),
    Case("movedim", custom(_movedim), ALL),
    Case("expand", custom(_expand), ALL, call=lambda lib, x, *s: x.expand(*s), method=False,
         inplace=False, out=False,
         errors=[Err(lambda lib: lib.ones(2, 3).expand(3, 3), RuntimeError,
                     "The expanded size of the tensor (3) must match the existing size (2) at "
                     "non-singleton dimension 0.  Target sizes: [3, 3].  Tensor sizes: [2, 3]")]),
    Case("expand_as", custom(_expand_as), ALL, call=lambda lib, x, y: x.expand_as(y),
         method=False, inplace=False, out=False),
    Case("broadcast_to", custom(_broadcast_to), ALL),
    Case("repeat", custom(_repeat), ALL, call=lambda lib, x, *r: x.repeat(*r), method=False,
         inplace=False, out=False),
    Case("contiguous", unary(), ALL, call=lambda lib, x: x.contiguous(), method=False,
         inplace=False, out=False),
    Case("clone", unary(), ALL),
    Case("cat", custom(_cat), ALL, gradgrad=True,
         errors=[Err(lambda lib: lib.cat([lib.ones(2, 3), lib.ones(3, 2)]), RuntimeError,
                     "Sizes of tensors must match except in dimension 0. Expected size 3 but "
                     "got size 2 for tensor number 1 in the list.")]),
    Case("concat", custom(_cat), ALL, gradcheck=False),
    Case("stack", custom(_stack), ALL,
         errors=[Err(lambda lib: lib.stack([lib.ones(2), lib.ones(3)]), RuntimeError,
                     "stack expects each tensor to be equal size, but got [2] at entry 0 and "
                     "[3] at entry 1")]),
    Case("hstack", custom(_pair_list), ALL),
    Case("vstack", custom(_pair_list), ALL),
    Case("split", custom(_split), ALL),
    Case("chunk", custom(_chunk), ALL),
    Case("tensor_split", custom(_tensor_split), ALL),
    Case("unbind", custom(_dim_only), ALL),
    Case("select", custom(_select), ALL),
    Case("narrow", custom(_narrow), ALL,
         errors=[Err(lambda lib: lib.ones(3).narrow(0, 2, 2), RuntimeError,
                     "start (2) + length (2) exceeds dimension size (3).")]),
    Case("flip", custom(_flip), ALL),
    Case("roll", custom(_roll), ALL),
    Case("tril", custom(_tri), ALL),
    Case("triu", custom(_tri), ALL),
    Case("diagonal", custom(_diagonal), ALL),
    Case("diagonal_scatter", custom(_diagonal_scatter), ALL),
    Case("diag", custom(_diag), ALL),
    Case("unfold", custom(_unfold), ALL, call=lambda lib, x, *a: x.unfold(*a), method=False,
         inplace=False, out=False),
    Case("repeat_interleave", custom(_repeat_interleave), ALL, grad_fn=False),  # torch: a view
    Case("atleast_1d", unary(), FLOATS),
    Case("atleast_2d", unary(), FLOATS),
]
