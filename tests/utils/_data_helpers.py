"""Helpers for the torch.utils.data tests: compare nested batches of ember and torch."""
import numpy as np
import torch

import ember


def to_numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t._data)


def assert_same_batch(ours, theirs):
    """Same nesting (container types by name, keys, lengths), tensors with equal dtype, shape
    and values, everything else equal."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ember.Tensor), (type(ours), theirs)
        assert str(ours.dtype) == str(theirs.dtype), (ours.dtype, theirs.dtype)
        assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
        np.testing.assert_array_equal(to_numpy(ours), to_numpy(theirs))
        return
    assert type(ours).__name__ == type(theirs).__name__, (type(ours), type(theirs))
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for key in theirs:
            assert_same_batch(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same_batch(a, b)
    else:
        assert ours == theirs


def assert_same_batches(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert_same_batch(a, b)


def flat_values(batches):
    """The batches' tensors as NumPy arrays, in order (to compare ember runs with each other)."""
    out = []
    for b in batches:
        if isinstance(b, (ember.Tensor, torch.Tensor)):
            out.append(to_numpy(b))
        elif isinstance(b, dict):
            out.extend(flat_values(list(b.values())))
        elif isinstance(b, (list, tuple)):
            out.extend(flat_values(list(b)))
        else:
            out.append(b)
    return out
