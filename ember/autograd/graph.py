"""Graph nodes: Node (the grad_fn of a tensor), AccumulateGrad (the sink of a leaf).

A node holds `next_functions`, a tuple of (node, output_nr) pairs with the same layout as
torch's: one entry per differentiable input, (None, 0) for inputs that need no gradient.
"""
import sys
import weakref

import numpy as np

from . import grad_mode

_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors "
          "after they have already been freed). Saved intermediate values of the graph are freed "
          "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
          "backward through the graph a second time or if you need to access saved tensors after "
          "calling backward.")


class Node:
    """Base of every graph node. Subclasses implement `apply(grads) -> tuple of input grads`,
    where `grads` has one entry per output of the node (None where no gradient arrived)."""

    __slots__ = ("next_functions", "__weakref__", "__dict__")
    n_outputs = 1
    _pre_hooks = None      # hooks and retained grads are rare: class defaults, set per instance
    _hooks = None
    _retain = None

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    def register_hook(self, hook):
        """hook(grad_inputs, grad_outputs) -> None or replacement grad_inputs."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _RemovableHandle(self._hooks, hook)

    def register_prehook(self, hook):
        """hook(grad_outputs) -> None or replacement grad_outputs."""
        return self._add_pre_hook(lambda grads: hook(grads))

    def _add_pre_hook(self, hook):
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(hook)
        return _RemovableHandle(self._pre_hooks, hook)

    def _release(self):
        """Free what was saved for backward (called after backward without retain_graph)."""


def modified_error(tensor, expected, producer=None):
    """torch's error for a tensor saved for backward and modified in place since. `producer`
    is the node whose output it is (None: its current grad_fn; a leaf has none)."""
    node = producer if producer is not None else tensor.grad_fn
    where = ""
    if node is not None:
        name = type(node).__name__
        name = name[:-9] if name.endswith("Backward0") else name.replace("Backward", "")
        if name == "CopySlices":
            name = "torch::autograd::CopySlices"
        where = f", which is output {tensor._output_nr if producer is None else 0} of {name},"
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{tensor.type()} [{', '.join(map(str, tensor.shape))}]]{where} is at "
        f"version {tensor._vc.value}; expected version {expected} instead. Hint: enable anomaly "
        "detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False).")


class AccumulateGrad(Node):
    """Sink of a leaf tensor: adds the incoming gradient into `variable.grad`."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def apply(self, grads):
        g = grads[0]
        var = self.variable
        if var.grad is None:
            if g.requires_grad:                 # create_graph: .grad keeps its history
                var.grad = g
            else:
                # Steal the incoming gradient's memory when nothing else holds it (as torch
                # steals a fresh gradient); a gradient given by the user, or already handed to
                # another leaf, is copied.
                var.grad = g.detach() if _exclusive(g) else g.detach().clone()
        elif g.requires_grad or var.grad.requires_grad:
            var.grad = var.grad + g
        else:
            var.grad._data += g._data
        return ()


def _exclusive(g):
    """Is the gradient tensor g the only holder of its array? Either the array owns its memory
    and only g's slot references it (the references counted below include the local name and
    getrefcount's argument), or it is a C-contiguous view spanning the whole of a NumPy array
    that nothing else holds but g's base tensor (the transposed product that mm's backward
    makes for a leaf behind t())."""
    data = g._data
    if not getattr(data.flags, "writeable", True) or sys.getrefcount(data) > 3:
        return False
    owner = data.base
    if owner is None:
        return True
    base = g._base
    holders = 3
    if base is not None:
        if base._data is not owner or sys.getrefcount(base) > 3:
            return False
        holders = 4
    return isinstance(owner, np.ndarray) and owner.base is None and owner.size == data.size \
        and data.flags.c_contiguous and sys.getrefcount(owner) <= holders


def accumulator_of(tensor):
    """The unique AccumulateGrad node of a leaf that requires grad (kept alive by the graph)."""
    ref = tensor._accum
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(tensor)
        tensor._accum = weakref.ref(node)
    return node


def _addresses(shape, strides, start=0):
    """The byte offset of each element (in C order) of an array of these shape and strides."""
    addr = np.full(shape, start, np.int64)
    for d, (n, stride) in enumerate(zip(shape, strides)):
        addr = addr + (np.arange(n, dtype=np.int64) * stride).reshape(
            (n,) + (1,) * (len(shape) - d - 1))
    return addr


def view_positions(base, view):
    """For each element of `view` (an array sharing `base`'s memory), its index in base's
    C-order flattening (a NumPy array)."""
    b, v = base._data, view._data
    addr = _addresses(v.shape, v.strides, view.data_ptr() - base.data_ptr())
    if b.flags.c_contiguous:
        return addr // b.itemsize
    base_addr = _addresses(b.shape, b.strides).reshape(-1)
    order = np.argsort(base_addr, kind="stable")
    return order[np.searchsorted(base_addr[order], addr)]


def on_device_of(host, like):
    """NumPy array `host` moved to the device of array `like` (itself on the CPU)."""
    if isinstance(like, np.ndarray):
        return host
    from .._device import array_module, device_of
    return array_module(device_of(like)).asarray(host)


class CopySlices(Node):
    """The node of a base tensor after an in-place op `fn` wrote into one of its views (torch's
    CopySlices): the gradient of the written region goes through `fn`, whose first input was
    the view's old value and so the base's region; the rest goes to the base's history."""

    def __init__(self, base_edge, fn, positions):
        self.next_functions = (base_edge,) + tuple(fn.next_functions[1:])
        self._fn = fn
        self._pos = positions

    def apply(self, grads):
        from .._tensor import wrap
        g = grads[0]
        flat = g.reshape(-1)
        pos = wrap(on_device_of(self._pos, g._data))
        region = flat[pos]
        result = list(self._fn.apply([region]))
        if self.next_functions[0][0] is None:
            return [None] + result[1:]
        keep = np.ones(flat.shape, g._data.dtype)
        keep[self._pos] = 0
        rest = g * wrap(on_device_of(keep.reshape(g.shape), g._data))
        if result[0] is not None:
            rest = rest.reshape(-1).index_add(0, pos.reshape(-1), result[0].reshape(-1))
        return [rest.reshape(g.shape)] + result[1:]

    def _release(self):
        self._fn._release()


def rebase_view(view, fn):
    """After an in-place op whose node is `fn` wrote into `view`, give the view's base a
    CopySlices node, and the view a node that reads its values from the base (as torch)."""
    base = view._base
    positions = view_positions(base, view)
    if base.grad_fn is not None:
        base_edge = (base.grad_fn, base._output_nr)
    elif base.requires_grad:
        base_edge = (accumulator_of(base), 0)
    else:
        base_edge = (None, 0)
    base.grad_fn = CopySlices(base_edge, fn, positions)
    base.requires_grad = True
    base._output_nr = 0
    refresh_view(view, positions)


def refresh_view(view, positions=None):
    """Rebuild the node of a view whose base changed in place since the view's node was made,
    so that its gradient flows through the base's current history."""
    from .._tensor import wrap
    base = view._base
    if positions is None:
        positions = view_positions(base, view)
    prev = grad_mode._enabled[0]
    grad_mode._enabled[0] = True
    try:
        fresh = base.reshape(-1)[wrap(on_device_of(positions, base._data))]
    finally:
        grad_mode._enabled[0] = prev
    view.grad_fn = fresh.grad_fn
    view.requires_grad = fresh.requires_grad
    view._output_nr = 0
    view._view_at = view._vc.value


def current_edge(t):
    """(grad_fn, output_nr) of t for a new node, refreshing a stale view first."""
    if t._view_at is not None and t._view_at != t._vc.value:
        refresh_view(t)
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    if t.requires_grad:
        return (accumulator_of(t), 0)
    return (None, 0)


class _RemovableHandle:
    """Returned by register_hook: `.remove()` unregisters the hook."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
