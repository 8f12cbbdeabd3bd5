"""OP_CASES of indexing: x[key] and x[key] = v with ints, slices, None, Ellipsis, bool masks,
integer tensors and 0-dim tensors; gather/scatter, index_select/index_add/index_fill,
masked_fill/masked_select/masked_scatter, nonzero, take, take_along_dim."""
import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from op_harness import Case, Err
from op_strategies import ALL, Arr, Sample, custom, dims, scalars, shapes

INDEX = ("int64",)


def _ints(draw, shape, high):
    """An int64 Arr of `shape` with values in [0, high)."""
    return Arr(draw(hnp.arrays(np.int64, shape, elements=st.integers(0, max(high - 1, 0)))))


def _distinct_along(draw, shape, dim, size):
    """int64 indices of `shape`, distinct along dim, in [0, size) (scatter without reduction
    is deterministic only without duplicates)."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    keys = rng.random(shape[:dim] + (size,) + shape[dim + 1:])
    order = np.argsort(keys, axis=dim)
    return Arr(np.take(order, np.arange(shape[dim]), axis=dim).astype(np.int64))


def _sub_shape(draw, shape, dim=None, zero_ok=True):
    """A shape no larger than `shape` in every dim (any size along dim when given)."""
    return tuple(draw(st.integers(0 if zero_ok else 1, s)) if i != dim
                 else draw(st.integers(0, 4)) for i, s in enumerate(shape))


def _gather(draw, arr):
    x = draw(arr(min_dims=1, min_side=1))
    nd = x.array.ndim
    d = draw(dims(nd))
    shape = _sub_shape(draw, x.array.shape, d % nd)
    return Sample(x, d, _ints(draw, shape, x.array.shape[d]))


def _scatter(draw, arr, add=False):
    x = draw(arr(min_dims=1, min_side=1))
    nd = x.array.ndim
    d = draw(dims(nd)) % nd
    size = x.array.shape[d]
    shape = list(_sub_shape(draw, x.array.shape))
    if add:
        index = _ints(draw, tuple(shape), size)
    else:
        index = _distinct_along(draw, tuple(shape), d, size)
    if not add and draw(st.booleans()):
        return Sample(x, d, index, value=draw(scalars(("float32",))))
    src_shape = tuple(s + draw(st.integers(0, 1)) for s in shape)
    return Sample(x, d, index, draw(arr(src_shape)))


def _index_select(draw, arr):
    x = draw(arr(min_dims=1, min_side=1))
    d = draw(dims(x.array.ndim))
    idx = _ints(draw, (draw(st.integers(0, 4)),), x.array.shape[d])
    return Sample(x, d, idx)


def _index_add(draw, arr):
    x = draw(arr(min_dims=1, min_side=1))
    nd = x.array.ndim
    d = draw(dims(nd)) % nd
    n = draw(st.integers(0, 4))
    idx = _ints(draw, (n,), x.array.shape[d])
    shape = x.array.shape[:d] + (n,) + x.array.shape[d + 1:]
    source = draw(arr(shape, (x.array.dtype.name,)))
    if draw(st.booleans()):
        return Sample(x, d, idx, source, alpha=2)
    return Sample(x, d, idx, source)


def _index_fill(draw, arr):
    x = draw(arr(min_dims=1, min_side=1))
    d = draw(dims(x.array.ndim))
    idx = _ints(draw, (draw(st.integers(0, 3)),), x.array.shape[d])
    return Sample(x, d, idx, draw(st.sampled_from([0, 1, -2])))


def _mask_for(draw, shape):
    """A bool Arr broadcastable to shape (trailing dims, size 1 or full)."""
    k = draw(st.integers(0, len(shape)))
    mshape = tuple(draw(st.sampled_from([1, s])) for s in shape[len(shape) - k:])
    return Arr(draw(hnp.arrays(np.bool_, mshape)))


def _masked_fill(draw, arr):
    x = draw(arr())
    mask = _mask_for(draw, x.array.shape)
    tensor_value = Arr(np.array(1.5, "float64" if arr.dtypes == ("float64",) else "float32"),
                       grad=x.array.dtype.kind == "f")
    value = draw(st.one_of(scalars(("float32", "int64", "bool")), st.just(tensor_value)))
    return Sample(x, mask, value)


def _masked_select(draw, arr):
    x = draw(arr())
    return Sample(x, _mask_for(draw, x.array.shape))


def _masked_scatter(draw, arr):
    x = draw(arr())
    mask = _mask_for(draw, x.array.shape)
    n = x.array.size
    return Sample(x, mask, draw(arr((n + draw(st.integers(0, 2)),), (x.array.dtype.name,))))


def _nonzero(draw, arr):
    x = draw(arr())
    return Sample(x, as_tuple=draw(st.booleans())) if draw(st.booleans()) else Sample(x)


def _take(draw, arr):
    x = draw(arr(min_side=1))
    return Sample(x, _ints(draw, draw(shapes(max_dims=2)), x.array.size))


def _take_along_dim(draw, arr):
    x = draw(arr(min_dims=1, min_side=1))
    nd = x.array.ndim
    if draw(st.booleans()):                 # torch views the input flat: contiguous only
        x = Arr(x.array)
        return Sample(x, _ints(draw, (draw(st.integers(0, 4)),), x.array.size))
    d = draw(dims(nd))
    shape = list(x.array.shape)
    shape[d] = draw(st.integers(0, 4))
    return Sample(x, _ints(draw, tuple(shape), x.array.shape[d]), d)


# -- keys ---------------------------------------------------------------------------------------
def _key(draw, shape):
    """A torch indexing key for a tensor of `shape`: per dim an int, a slice, an int tensor,
    a 0-dim int tensor or a list; None and Ellipsis inserted; or a bool mask."""
    if shape and draw(st.integers(0, 5)) == 0:
        k = draw(st.integers(1, len(shape)))
        mask = Arr(draw(hnp.arrays(np.bool_, shape[:k])))
        return (mask,) if draw(st.booleans()) else mask
    parts, advanced = [], draw(st.integers(0, 3))
    n_adv = draw(st.integers(1, 3))
    for s in shape[:draw(st.integers(0, len(shape)))]:
        kind = draw(st.sampled_from(["int", "slice", "slice", "tensor", "zero_dim", "list"]
                                    if s else ["slice", "tensor"]))
        if kind == "int":
            parts.append(draw(st.integers(-s, s - 1)))
        elif kind == "slice":
            lo, hi = draw(st.integers(-s - 1, s + 1)), draw(st.integers(-s - 1, s + 1))
            parts.append(slice(draw(st.sampled_from([None, lo])), draw(st.sampled_from(
                [None, hi])), draw(st.sampled_from([None, 1, 2, 3]))))
        elif kind == "tensor":
            parts.append(_ints(draw, (n_adv,) if advanced else (draw(st.integers(0, 3)),), s))
        elif kind == "zero_dim":
            parts.append(_ints(draw, (), s))
        else:
            parts.append([int(v) for v in draw(st.lists(st.integers(-s, s - 1), min_size=1,
                                                        max_size=3))])
    if draw(st.booleans()):               # the dims after the entries drawn above
        parts.append(Ellipsis)
    for _ in range(draw(st.integers(0, 2))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    if len(parts) == 1 and draw(st.booleans()):
        return parts[0]
    return tuple(parts)


def _getitem(draw, arr):
    x = draw(arr())
    return Sample(x, _key(draw, x.array.shape))


def _setitem(draw, arr):
    x = draw(arr())
    key = _key(draw, x.array.shape)
    try:
        target = tuple(torch.zeros(x.array.shape)[_torch_key(key)].shape)
    except IndexError:
        target = ()                       # a bad key: both libraries must raise
    if draw(st.booleans()):       # torch passes a Python float through float32 here
        value = draw(scalars((x.array.dtype.name,)).map(lambda v: type(v)(round(v * 8) / 8)))
    else:
        k = draw(st.integers(0, len(target)))
        vshape = tuple(draw(st.sampled_from([1, s])) for s in target[len(target) - k:])
        value = draw(arr(vshape, (x.array.dtype.name,)))
    return Sample(x, key, value)


def _torch_key(key):
    """The key with torch tensors, to find the indexed shape while drawing a value."""
    conv = (lambda k: torch.tensor(k.array) if isinstance(k, Arr) else k)
    return tuple(conv(k) for k in key) if isinstance(key, tuple) else conv(key)


def _set(lib, x, key, value):
    x[key] = value
    return x


INDEX_ERRORS = [
    Err(lambda lib: lib.ones(2, 3)[2], IndexError, "index 2 is out of bounds for dimension 0 "
                                                   "with size 2"),
    Err(lambda lib: lib.ones(2, 3)[:, 5], IndexError, "index 5 is out of bounds for dimension 1 "
                                                      "with size 3"),
    Err(lambda lib: lib.ones(2, 3)[0, 0, 0], IndexError, "too many indices for tensor of "
                                                         "dimension 2"),
    Err(lambda lib: lib.ones(2, 3)[lib.tensor([0.5])], IndexError,
        "tensors used as indices must be long, int, byte or bool tensors"),
    Err(lambda lib: lib.ones(2, 3)[::-1], ValueError, "step must be greater than zero"),
    Err(lambda lib: lib.ones(2, 3)[lib.tensor([True, False, True])], IndexError,
        "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor "
        "[2, 3] at index 0"),
]

CASES = [
    Case("__getitem__", custom(_getitem), ALL, call=lambda lib, x, key: x[key], method=False,
         inplace=False, out=False, errors=INDEX_ERRORS, gradgrad=True,
         edges=[Sample(Arr(np.arange(6.0).reshape(2, 3)), (Arr(np.array(1)), Ellipsis)),
                Sample(Arr(np.arange(6.0).reshape(2, 3)), Arr(np.array([[True, False, True],
                                                                       [False, True, True]]))),
                Sample(Arr(np.arange(6.0).reshape(2, 3)), (Arr(np.array([1, 1, 0])), 0)),
                Sample(Arr(np.arange(24.0).reshape(2, 3, 4)), (0, slice(None),
                                                               Arr(np.array([1, 3])))),
                Sample(Arr(np.arange(24.0).reshape(2, 3, 4)), (Arr(np.array([1, 0])),
                                                               slice(None),
                                                               Arr(np.array([1, 3])))),
                Sample(Arr(np.arange(6.0)), Arr(np.array([], np.int64)))]),
    Case("__setitem__", custom(_setitem), ALL, call=_set, method=False, inplace=False,
         out=False, clone_self=True, gradcheck=False, grad_fn=False,
         edges=[Sample(Arr(np.zeros((2, 3))), (Arr(np.array([0, 0])), Arr(np.array([1, 1]))),
                       Arr(np.array([1.0, 2.0]))),
                Sample(Arr(np.zeros((2, 3))), Arr(np.array([[True, False, True],
                                                            [False, False, True]])), 5.0),
                Sample(Arr(np.zeros((2, 3), np.int64)), (slice(None), 1), 2.7)],
         errors=[Err(lambda lib: _set(lib, lib.ones(2, 3), 0, lib.ones(4)), RuntimeError,
                     "The expanded size of the tensor (3) must match the existing size (4) at "
                     "non-singleton dimension 0.  Target sizes: [3].  Tensor sizes: [4]")]),
    Case("gather", custom(_gather), ALL,
         errors=[Err(lambda lib: lib.ones(2, 3).gather(1, lib.tensor([[0.0]])),
                     RuntimeError, "gather(): Expected dtype int32/int64 for index")]),
    Case("scatter", custom(_scatter), ALL),
    Case("scatter_add", custom(lambda d, a: _scatter(d, a, add=True)), ALL),
    Case("index_select", custom(_index_select), ALL),
    Case("index_add", custom(_index_add), ALL),
    Case("index_fill", custom(_index_fill), ALL),
    Case("masked_fill", custom(_masked_fill), ALL,
         errors=[Err(lambda lib: lib.ones(2).masked_fill(lib.tensor([1, 0]), 0.0),
                     RuntimeError, "masked_fill_ only supports boolean masks, but got mask "
                                   "with dtype long")]),
    Case("masked_select", custom(_masked_select), ALL),
    Case("masked_scatter", custom(_masked_scatter), ALL),
    Case("nonzero", custom(_nonzero), ALL, grad=False),
    Case("argwhere", custom(lambda d, arr: Sample(d(arr()))), ALL, grad=False),
    Case("take", custom(_take), ALL),
    Case("take_along_dim", custom(_take_along_dim), ALL),
]
