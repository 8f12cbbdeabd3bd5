"""Helpers shared by the core tests: compare ember results with torch's."""
import numpy as np
import pytest
import torch

import ember


def dtype_name(d):
    """'float32' for torch.float32 and ember.float32 alike."""
    return str(d).replace("torch.", "")


def to_numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t._data)


def assert_same(e, t, rtol=1e-5, atol=1e-6):
    """ember tensor `e` equals torch tensor `t`: shape, dtype, values (or both None)."""
    if t is None or e is None:
        assert e is None and t is None, (e, t)
        return
    assert tuple(e.shape) == tuple(t.shape), (e.shape, t.shape)
    assert dtype_name(e.dtype) == dtype_name(t.dtype), (e.dtype, t.dtype)
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=rtol, atol=atol)


def both(fn):
    """fn(ember), fn(torch): the same code run on both libraries."""
    return fn(ember), fn(torch)


def raises_like(fn, match=None):
    """fn(torch) and fn(ember) raise the same exception type (same name, same built-in base);
    returns both messages. With
    `match`, ember's message must contain it (and torch's too, so the test stays honest)."""
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(Exception) as ee:
        fn(ember)
    assert ee.type.__name__ == te.type.__name__ and _builtin(ee.type) is _builtin(te.type), \
        (ee.value, te.value)
    if match is not None:
        assert match in str(te.value), str(te.value)
        assert match in str(ee.value), str(ee.value)
    return str(ee.value), str(te.value)


def _builtin(exc_type):
    """The first built-in exception class `exc_type` derives from (torch.autograd's
    GradcheckError and ember's are both RuntimeErrors)."""
    return next(c for c in exc_type.__mro__ if c.__module__ == "builtins")
