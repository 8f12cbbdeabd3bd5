"""The backward engine: dependency counting over the graph, then nodes run in an order where
every node has all its incoming gradients first (as torch's engine guarantees).

Without create_graph the backward formulas run under no_grad; without retain_graph each node
frees its saved tensors right after it ran.
"""
import numpy as np

from .. import _tensor       # (still importing when this module loads: used at call time)
from . import grad_mode
from .graph import AccumulateGrad, current_edge, on_device_of


def _make_grads(tensors, grads):
    Tensor, wrap = _tensor.Tensor, _tensor.wrap
    out = []
    for t, g in zip(tensors, grads):
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if t._data.dtype.kind not in "fc":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got {t.dtype}")
            data = t._data              # (ones_like: NumPy dispatches it to CuPy on a GPU)
            g = wrap(np.ones(data.shape, data.dtype) if type(data) is np.ndarray else
                     np.ones_like(data))
        elif not isinstance(g, Tensor):
            g = wrap(on_device_of(np.asarray(g, t._data.dtype), t._data))
        elif g._data.shape != t._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {g.shape} and "
                               f"output[0] has a shape of {t.shape}.")
        elif not g.requires_grad:
            g = g.detach()      # a new holder: the leaves never steal the caller's memory
        out.append(g)
    return out


def run_backward(tensors, grads, retain_graph=None, create_graph=False, inputs=None,
                 allow_unused=True, accumulate=True):
    """Backpropagate from `tensors` with seed gradients `grads`.

    accumulate=True (Tensor.backward) adds into the .grad of leaves (only those in `inputs` if
    given); accumulate=False (autograd.grad) returns the gradients of `inputs` instead.
    """
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(tensors):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
    grads = _make_grads(tensors, grads)
    roots = [current_edge(t) for t in tensors]

    captures = {}                   # (node, output_nr) -> indices in inputs
    if inputs is not None:
        if accumulate and not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        for i, t in enumerate(inputs):
            if not t.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False"
                                   if accumulate else
                                   "One of the differentiated Tensors does not require grad")
            captures.setdefault(current_edge(t), []).append(i)
    results = [None] * (len(inputs) if inputs is not None else 0)

    # Count, for each node, how many edges lead into it from the part of the graph we run.
    deps = {}
    seen = {n for n, _ in roots}
    stack = list(seen)              # each node once, even when two roots share it
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)

    buffers = {}
    for (node, nr), g in zip(roots, grads):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.n_outputs
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    ready = []
    for node, _ in roots:
        if node not in deps and node not in ready:
            ready.append(node)

    prev_mode = grad_mode._enabled[0]
    grad_mode._enabled[0] = create_graph
    try:
        while ready:
            node = ready.pop()
            buf = buffers.pop(node)
            if node._pre_hooks:
                for hook in node._pre_hooks:
                    new = hook(buf)
                    if new is not None:
                        buf = list(new)
            if node._retain:
                for nr, ref in node._retain.items():
                    t = ref()
                    if t is not None and buf[nr] is not None:
                        g = buf[nr].detach() if not create_graph else buf[nr]
                        # a contiguous copy, as torch: the gradient flows on to other nodes
                        t.grad = g.clone() if t.grad is None else t.grad + g
            if captures:
                for nr in range(node.n_outputs):
                    g = buf[nr]
                    if g is not None:
                        for i in captures.get((node, nr), ()):
                            results[i] = g if results[i] is None else results[i] + g
            if type(node) is AccumulateGrad:
                if accumulate and (inputs is None or (node, 0) in captures):
                    node.apply(buf)
                continue
            if (buf[0] is None if len(buf) == 1 else all(g is None for g in buf)):
                in_grads = (None,) * len(node.next_functions)
            else:
                in_grads = node.apply(buf)
                if node._hooks:
                    for hook in node._hooks:
                        new = hook(in_grads, tuple(buf))
                        if new is not None:
                            in_grads = tuple(new)
            if not retain_graph:
                node._release()
            for (nxt, nr), g in zip(node.next_functions, in_grads):
                if nxt is None:
                    continue
                nbuf = buffers.get(nxt)
                if nbuf is None:
                    nbuf = buffers[nxt] = [None] * nxt.n_outputs
                if g is not None:
                    nbuf[nr] = g if nbuf[nr] is None else nbuf[nr] + g
                deps[nxt] -= 1
                if deps[nxt] == 0:
                    ready.append(nxt)
    finally:
        grad_mode._enabled[0] = prev_mode

    if not accumulate:
        for i, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
        return tuple(results)
    if inputs is not None:          # backward(inputs=...) also fills non-leaf inputs' .grad
        for t, r in zip(inputs, results):
            if t.grad_fn is not None and r is not None:
                r = r if create_graph else r.detach()
                t.grad = r if t.grad is None else t.grad + r
    return None
