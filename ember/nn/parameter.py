"""Parameter and Buffer (torch.nn.parameter): tensors a Module registers by attribute."""
from collections import OrderedDict

import numpy as np

from .._tensor import Tensor, VersionCounter


def _share(cls, data, requires_grad):
    """A new `cls` instance sharing data's array and version counter, cut from any graph."""
    if data is None:
        data_arr, vc = np.empty((0,), np.float32), VersionCounter()
    else:
        data_arr, vc = data._data, data._vc
    if requires_grad and data_arr.dtype.kind not in "fc":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    t = object.__new__(cls)
    t._data = data_arr
    t.requires_grad = bool(requires_grad)
    t.grad = t.grad_fn = t._base = t._accum = t._retains = None
    t._vc = vc
    t._output_nr = 0
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks):
    """Unpickling counterpart of Parameter.__reduce_ex__ (torch._utils._rebuild_parameter)."""
    return Parameter(data, requires_grad)


class Parameter(Tensor):
    """torch.nn.Parameter: a leaf tensor (requires_grad=True by default) sharing `data`'s memory;
    assigning one to a Module attribute registers it."""

    def __new__(cls, data=None, requires_grad=True):
        return _share(cls, data, requires_grad)

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        """A parameter of the same type holding a copy of the data (grad not copied, as torch)."""
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(Tensor.__deepcopy__(self.detach(), {}), self.requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return _rebuild_parameter, (self.detach(), self.requires_grad, OrderedDict())

    def _rewrap(self, t):
        return type(self)(t, self.requires_grad)


class Buffer(Tensor):
    """torch.nn.Buffer: marks a tensor to be registered as a buffer when assigned to a Module
    attribute (`persistent=False` keeps it out of state_dict)."""

    def __new__(cls, data=None, *, persistent=True):
        t = _share(cls, data, False)
        t.persistent = persistent
        return t

    def __init__(self, data=None, *, persistent=True):
        pass

    def __reduce_ex__(self, protocol):
        return Tensor.__reduce_ex__(self.detach(), protocol)


def is_lazy(param):
    """ember has no lazy (uninitialized) parameters."""
    return False
