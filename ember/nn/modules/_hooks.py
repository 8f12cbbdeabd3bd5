"""Module hooks (torch.nn.modules.module's hook machinery): handles, the global hooks, and the
call path of a Module that has hooks.

Full backward hooks route the module's inputs and outputs through an identity autograd
Function: the gradients arriving at the outputs' identity are grad_output, those leaving
through the inputs' identity are grad_input.
"""
import warnings
from collections import OrderedDict

from ..._tensor import Tensor
from ...autograd import grad_mode
from ...autograd.function import Function
from ...utils.hooks import RemovableHandle


def _add_hook(hooks, hook, prepend=False, extra=None):
    handle = RemovableHandle(hooks, extra_dict=extra)
    if prepend:
        rest = list(hooks.items())
        hooks.clear()
        hooks[handle.id] = hook
        hooks.update(rest)
    else:
        hooks[handle.id] = hook
    return handle


# hooks that apply to every Module (torch.nn.modules.module.register_module_*)
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_always_called = set()
_global_backward_pre_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()


any_global = [False]      # read by Module.__call__ to keep its hook-free path short


class _GlobalHandle(RemovableHandle):
    def remove(self):
        super().remove()
        any_global[0] = bool(_global_forward_pre_hooks or _global_forward_hooks
                             or _global_backward_pre_hooks or _global_backward_hooks)


def _add_global(hooks, hook, extra=None):
    handle = _GlobalHandle(hooks, extra_dict=extra)
    hooks[handle.id] = hook
    any_global[0] = True
    return handle


def register_module_forward_pre_hook(hook):
    """A forward pre-hook run by every Module."""
    return _add_global(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, always_call=False):
    """A forward hook run by every Module."""
    handle = _add_global(_global_forward_hooks, hook, extra=_global_forward_hooks_always_called)
    if always_call:
        _global_forward_hooks_always_called.add(handle.id)
    return handle


def register_module_full_backward_pre_hook(hook):
    return _add_global(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook):
    return _add_global(_global_backward_hooks, hook)



class _HookIdentity(Function):
    """Passes tensors through unchanged; its backward hands the incoming gradients to a
    callback (the seam where full backward hooks see grad_input / grad_output)."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.callback(grads))


def _pack(positions, values, n):
    out = [None] * n
    for i, v in zip(positions, values):
        out[i] = v
    return tuple(out)


class _BackwardHook:
    """The full backward (pre-)hooks of one call: grad_output is caught where the outputs leave
    the module, grad_input where the inputs entered it."""

    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.n_inputs = 0
        self.input_positions = None
        self.grad_outputs = None

    def _wrap(self, values, callback):
        """Route the tensors of `values` (a tuple) through _HookIdentity; None when none
        needs a gradient."""
        positions = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        if not (grad_mode._enabled[0] and any(values[i].requires_grad for i in positions)):
            return None, positions
        new = _HookIdentity.apply(callback, *[values[i] for i in positions])
        values = list(values)
        for i, t in zip(positions, new):
            values[i] = t
        return tuple(values), positions

    def setup_input(self, args):
        self.n_inputs = len(args)
        new, positions = self._wrap(args, self._on_grad_input)
        if new is None:
            return args
        self.input_positions = positions
        return new

    def setup_output(self, result):
        single = isinstance(result, Tensor)
        if not (single or isinstance(result, tuple)):
            warnings.warn("For backward hooks to be called, module output should be a Tensor or "
                          f"a tuple of Tensors but received {type(result)}", stacklevel=3)
            return result
        values = (result,) if single else result
        self.n_outputs = len(values)
        new, self.output_positions = self._wrap(values, self._on_grad_output)
        if new is None:
            return result
        return new[0] if single else new

    def _on_grad_output(self, grads):
        grad_outputs = _pack(self.output_positions, grads, self.n_outputs)
        for hook in self.pre_hooks:
            res = hook(self.module, grad_outputs)
            if res is not None:
                grad_outputs = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(grad_outputs) != self.n_outputs:
                    raise RuntimeError("Backward pre hook returned an invalid number of "
                                       f"grad_output, got {len(grad_outputs)}, but expected "
                                       f"{self.n_outputs}")
        self.grad_outputs = grad_outputs
        if self.input_positions is None:
            warnings.warn("Full backward hook is firing when gradients are computed with respect "
                          "to module outputs since no inputs require gradients. See "
                          "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=5)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                res = hook(self.module, grad_inputs, grad_outputs)
                if res is not None and not all(r is None for r in res):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient "
                                       "should always return None or None for all gradients.")
        return [grad_outputs[i] for i in self.output_positions]

    def _on_grad_input(self, grads):
        grad_inputs = _pack(self.input_positions, grads, self.n_inputs)
        for hook in self.hooks:
            res = hook(self.module, grad_inputs, self.grad_outputs)
            if res is not None:
                res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(res) != self.n_inputs:
                    raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                       f"got {len(res)}, but expected {self.n_inputs}")
                grad_inputs = res
        return [grad_inputs[i] for i in self.input_positions]


def _legacy_hook(hook, module):
    def node_hook(grad_inputs, grad_outputs):
        return hook(module, tuple(grad_inputs), tuple(grad_outputs))
    return node_hook


def call_with_hooks(module, args, kwargs):
    """Module.__call__ when hooks are registered: forward pre-hooks, full backward hooks around
    the inputs and outputs, forward hooks (always_call ones even when forward raised), legacy
    backward hooks on the output's grad_fn."""
    for hook_id, hook in (*_global_forward_pre_hooks.items(),
                          *module._forward_pre_hooks.items()):
        if hook_id in module._forward_pre_hooks_with_kwargs:
            res = hook(module, args, kwargs)
            if res is not None:
                if not (isinstance(res, tuple) and len(res) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {res}.")
                args, kwargs = res
        else:
            res = hook(module, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
    full = legacy = ()
    if module._backward_hooks or _global_backward_hooks:
        hooks = list(module._backward_hooks.values())
        if module._is_full_backward_hook is False:
            legacy = hooks
            hooks = []
        full = list(_global_backward_hooks.values()) + hooks
    pre = list(_global_backward_pre_hooks.values()) + list(module._backward_pre_hooks.values())
    bw_hook = None
    if full or pre:
        bw_hook = _BackwardHook(module, full, pre)
        args = bw_hook.setup_input(args)
    called = set()
    try:
        result = module.forward(*args, **kwargs)
        for hook_id, hook in (*_global_forward_hooks.items(), *module._forward_hooks.items()):
            called.add(hook_id)
            if hook_id in module._forward_hooks_with_kwargs:
                res = hook(module, args, kwargs, result)
            else:
                res = hook(module, args, result)
            if res is not None:
                result = res
    except Exception:
        for hook_id, hook in (*_global_forward_hooks.items(), *module._forward_hooks.items()):
            if hook_id not in called and (hook_id in module._forward_hooks_always_called or
                                          hook_id in _global_forward_hooks_always_called):
                try:
                    if hook_id in module._forward_hooks_with_kwargs:
                        hook(module, args, kwargs, None)
                    else:
                        hook(module, args, None)
                except Exception as e:
                    warnings.warn("module forward hook with ``always_call=True`` raised an "
                                  f"exception that was silenced as another error was raised "
                                  f"in forward: {str(e)}")
        raise
    if bw_hook is not None:
        result = bw_hook.setup_output(result)
    if legacy:
        var = result
        while not isinstance(var, Tensor):
            var = next(v for v in var.values() if isinstance(v, Tensor)) \
                if isinstance(var, dict) else var[0]
        if var.grad_fn is not None:
            for hook in legacy:
                var.grad_fn.register_hook(_legacy_hook(hook, module))
    return result
