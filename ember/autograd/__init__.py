"""ember.autograd: backward, grad, Function, grad modes, gradcheck (torch.autograd)."""
from .engine import run_backward
from .function import Function, FunctionCtx, NestedIOFunction, once_differentiable
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode,  # noqa: F401
                        is_grad_enabled, is_inference_mode_enabled)
from .gradcheck import gradcheck, gradgradcheck
from . import graph
from .graph import Node


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """torch.autograd.backward: accumulate gradients of `tensors` into the leaves."""
    tensors = _seq(tensors)
    grads = _seq(grad_tensors) if grad_tensors is not None else [None] * len(tensors)
    run_backward(tensors, grads, retain_graph, create_graph,
                 None if inputs is None else _seq(inputs))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """torch.autograd.grad: the gradients of outputs with respect to inputs, as a tuple
    (leaves' .grad untouched)."""
    outputs = _seq(outputs)
    inputs = _seq(inputs)
    grads = _seq(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    result = run_backward(outputs, grads, retain_graph, create_graph, inputs,
                          allow_unused=bool(allow_unused) or materialize_grads, accumulate=False)
    if materialize_grads:
        from ..ops.creation import zeros_like
        result = tuple(zeros_like(x) if g is None else g for g, x in zip(result, inputs))
    return result


def _seq(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class detect_anomaly:
    def __init__(self, check_nan=True):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def set_detect_anomaly(mode, check_nan=True):
    return detect_anomaly()


Variable = None   # replaced by ember/__init__ with Tensor (torch.autograd.Variable is legacy)
