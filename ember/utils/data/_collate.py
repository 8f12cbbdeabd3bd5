"""default_collate and default_convert, with torch's rules for every element type.

default_collate turns a list of samples into a batch: tensors are stacked, NumPy arrays and
scalars become tensors, Python floats float64 and ints int64 (bools bool) tensors, strings
stay a list, and mappings, namedtuples and sequences are collated field by field.
"""
import collections.abc
import copy
import re

import numpy as np

from ..._dtype import float64
from ..._tensor import Tensor, wrap
from ...ops.creation import as_tensor, tensor
from ...ops.shape import stack

_STRING_OR_OBJECT = re.compile(r"[SaUO]")
_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
          "lists; found {}")


def default_collate(batch):
    """Collate a list of samples into a batch (see the module docstring)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if _STRING_OR_OBJECT.search(elem.dtype.str):
            raise TypeError(_ERROR.format(elem.dtype))
        return _stack([as_tensor(b) for b in batch])
    if isinstance(elem, (np.bool_, np.number, np.object_)):
        return as_tensor(batch)
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {k: default_collate([d[k] for d in batch]) for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(column) for column in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuild_sequence(elem, columns)
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """Without batching: NumPy arrays and scalars become tensors, inside containers too;
    everything else (and string/object arrays) is returned as it is."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _STRING_OR_OBJECT.search(data.dtype.str) else as_tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (str, bytes)):
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _stack(tensors):
    """ember.stack, with a direct NumPy path for the usual batch of same-shape, same-dtype
    tensors that need no gradient (stack's own checks give torch's errors otherwise)."""
    first = tensors[0]._data
    shape, dtype = first.shape, first.dtype
    arrays = []
    for t in tensors:
        a = t._data
        if type(a) is not np.ndarray or a.shape != shape or a.dtype != dtype or t.requires_grad:
            return stack(tensors, 0)
        arrays.append(a)
    return wrap(np.array(arrays))      # copies them into one new array, as np.stack does


def _rebuild_mapping(elem, items):
    """A mapping of elem's type holding `items` (a copy of a mutable one keeps its other state;
    a plain dict when the type cannot be built from a dict)."""
    if isinstance(elem, collections.abc.MutableMapping):
        clone = copy.copy(elem)
        clone.update(items)
        return clone
    try:
        return type(elem)(items)
    except TypeError:
        return items


def _rebuild_sequence(elem, items):
    """A sequence of elem's type holding `items` (a list when the type cannot hold them)."""
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(elem)(items)
    except TypeError:
        return items
