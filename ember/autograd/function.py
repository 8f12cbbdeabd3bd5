"""autograd.Function: user-defined ops with static forward/backward and a ctx.

    class MyReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)
        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * (x > 0)

The node of `MyReLU.apply(x)` is named MyReLUBackward, as in torch.
"""
import functools

from . import grad_mode
from .graph import Node, modified_error, _FREED


class FunctionCtx:
    """The ctx of a custom Function: save_for_backward, saved_tensors, needs_input_grad,
    mark_dirty, mark_non_differentiable, set_materialize_grads."""

    def save_for_backward(self, *tensors):
        from .._tensor import Tensor
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(t).__name__}")
        self._saved = tensors
        self._saved_versions = tuple(t._vc.value if t is not None else None for t in tensors)

    @property
    def saved_tensors(self):
        """The tensors given to save_for_backward; torch's error when one was modified in
        place since."""
        saved = getattr(self, "_saved", ())
        if saved is None:
            raise RuntimeError(_FREED)
        outputs = getattr(self, "_saved_outputs", ())
        for i, (t, v) in enumerate(zip(saved, self._saved_versions)):
            if t is not None and t._vc.value != v:
                raise modified_error(t, v, self if i in outputs else None)
        return saved

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = set(map(id, tensors))

    def set_materialize_grads(self, value):
        self._materialize = value


class BackwardCFunction(Node, FunctionCtx):
    """The graph node of a custom Function: it is also the ctx the user's methods see."""

    def apply(self, grads):
        if getattr(self, "_saved", ()) is None:
            raise RuntimeError(_FREED)
        if getattr(self, "_materialize", True):
            from ..ops.creation import zeros
            grads = [g if g is not None else zeros(shape, dtype=dt)
                     for g, (shape, dt) in zip(grads, self._out_meta)]
        result = self._function.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n = len(self._inputs_mask)
        if len(result) < n or any(g is not None for g in result[n:]):
            raise RuntimeError(f"function {type(self).__name__} returned an incorrect number of "
                               f"gradients (expected {n}, got {len(result)})")
        grads = [g for g, is_tensor in zip(result, self._inputs_mask) if is_tensor]
        return [g if g is None else self._fit(i, g, shape, dt)
                for i, (g, (shape, dt)) in enumerate(zip(grads, self._in_meta))]

    def _fit(self, i, g, shape, dtype):
        """A returned gradient summed to its input's shape (when it broadcasts from it) and
        cast to its dtype, as torch validates them."""
        from ..ops._registry import sum_to
        if g.shape != shape:
            if len(g.shape) < len(shape) or any(
                    s not in (1, gs) for s, gs in zip(shape[::-1], g.shape[::-1])):
                raise RuntimeError(f"Function {type(self).__name__} returned an invalid gradient "
                                   f"at index {i} - got {list(g.shape)} but expected shape "
                                   f"compatible with {list(shape)}")
            g = sum_to(g, shape)
        return g if g.dtype is dtype else g.to(dtype)

    def _release(self):
        if hasattr(self, "_saved"):
            self._saved = None


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_function": cls})


class Function(metaclass=_FunctionMeta):
    """Base class of custom autograd functions (torch.autograd.Function)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Override to fill ctx from (inputs, output) with a forward that takes no ctx."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor
        from ..ops._registry import edge
        node = cls._backward_cls()
        tensors = [a for a in args if isinstance(a, Tensor)]
        node._inputs_mask = tuple(isinstance(a, Tensor) for a in args)
        node.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        node._in_meta = tuple((t.shape, t.dtype) for t in tensors)
        with grad_mode.no_grad():
            if cls.setup_context is Function.setup_context:
                out = cls.forward(node, *args, **kwargs)
            else:                          # torch 2 style: forward(*args), then setup_context
                out = cls.forward(*args, **kwargs)
                cls.setup_context(node, args, out)
        outs = out if isinstance(out, tuple) else (out,)
        dirty = getattr(node, "_dirty", ())
        for d in dirty:
            d._vc.value += 1               # torch counts the write of a dirty input once more
        if not (grad_mode._enabled[0] and any(t.requires_grad for t in tensors)):
            return out
        node.next_functions = tuple(edge(t) for t in tensors)
        saved = getattr(node, "_saved", ())
        node._saved_outputs = {i for i, t in enumerate(saved) if any(t is o for o in outs)}
        non_diff = getattr(node, "_non_diff", set())
        results = []
        for nr, o in enumerate(outs):
            if isinstance(o, Tensor) and id(o) not in non_diff and o.dtype.is_floating_point:
                if any(o is t for t in tensors) and not any(o is d for d in dirty):
                    o = o.detach()             # an input returned as is: a new tensor, as torch
                o.grad_fn, o.requires_grad, o._output_nr = node, True, nr
            results.append(o)
        node.n_outputs = len(outs)
        node._out_meta = tuple((o.shape, o.dtype) if isinstance(o, Tensor) else ((), None)
                               for o in outs)
        return tuple(results) if isinstance(out, tuple) else results[0]


class NestedIOFunction(Function):
    pass


def once_differentiable(fn):
    """A backward that is not itself differentiable: it runs under no_grad."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            return fn(ctx, *args)
    return wrapper
