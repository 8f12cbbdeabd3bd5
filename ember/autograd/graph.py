"""Graph nodes: Node (the grad_fn of a tensor), AccumulateGrad (the sink of a leaf).

A node holds `next_functions`, a tuple of (node, output_nr) pairs with the same layout as
torch's: one entry per differentiable input, (None, 0) for inputs that need no gradient.
"""
import weakref

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
            # Keep the incoming gradient's memory when it owns it (as torch steals a fresh
            # gradient); copy a view, which may be a broadcast or alias another tensor.
            data = g._data
            owned = data.base is None and data.flags.writeable
            var.grad = g.detach() if owned or g.requires_grad else g.detach().clone()
        elif g.requires_grad or var.grad.requires_grad:
            var.grad = var.grad + g
        else:
            var.grad._data += g._data
        return ()


def accumulator_of(tensor):
    """The unique AccumulateGrad node of a leaf that requires grad (kept alive by the graph)."""
    ref = tensor._accum
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(tensor)
        tensor._accum = weakref.ref(node)
    return node


class _RemovableHandle:
    """Returned by register_hook: `.remove()` unregisters the hook."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
