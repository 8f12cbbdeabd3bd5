"""Adagrad (torch.optim.Adagrad)."""
import numpy as np

from .._tensor import wrap
from .optimizer import (Optimizer, _check, _check_lr, _grad, _next_step, _real, _scalar_state,
                        _to_scalar)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """torch's update: s += g*g; p -= lr/(1 + (t-1)*lr_decay) * g / (sqrt(s) + eps). State
    ('step', 'sum' = initial_accumulator_value) is created for every parameter at construction,
    as torch does."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        _check(0.0 <= lr_decay, "lr_decay value", lr_decay)
        _check(0.0 <= weight_decay, "weight_decay value", weight_decay)
        _check(0.0 <= initial_accumulator_value, "initial_accumulator_value value",
               initial_accumulator_value)
        _check(0.0 <= eps, "epsilon value", eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p], group)

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("fused", None))

    def share_memory(self):
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["sum"].share_memory_()

    def _init_state(self, p, state, group):
        value = self.defaults["initial_accumulator_value"]
        state["step"] = _scalar_state(0.0)
        state["sum"] = wrap(np.full_like(p._data, complex(value, value) if p.is_complex()
                                         else value))

    def _update_group(self, group):
        lr, lr_decay, eps = _to_scalar(group["lr"]), group["lr_decay"], group["eps"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        for p, state in self._with_grads(group):
            step = _next_step(state)
            x = _real(p._data)
            g = _grad(x, _real(p.grad._data), weight_decay, maximize)
            s = _real(state["sum"]._data)
            s += g * g
            std = np.sqrt(s)
            std += eps
            x -= (lr / (1 + (step - 1) * lr_decay)) * g / std
            p._vc.value += 1
