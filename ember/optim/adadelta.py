"""Adadelta (torch.optim.Adadelta)."""
import numpy as np

from .optimizer import (Optimizer, _check, _check_lr, _grad, _next_step, _real, _scalar_state,
                        _to_scalar, _zeros_state)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """torch's update: v = rho*v + (1-rho)*g*g; d = sqrt(u + eps) / sqrt(v + eps) * g;
    u = rho*u + (1-rho)*d*d; p -= lr*d. State: step, square_avg (v), acc_delta (u)."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_lr(lr)
        _check(0.0 <= rho <= 1.0, "rho value", rho)
        _check(0.0 <= eps, "epsilon value", eps)
        _check(0.0 <= weight_decay, "weight_decay value", weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("capturable", False))

    def _init_state(self, p, state, group):
        state["step"] = _scalar_state(0.0)
        state["square_avg"] = _zeros_state(p)
        state["acc_delta"] = _zeros_state(p)

    def _update_group(self, group):
        lr, rho, eps = _to_scalar(group["lr"]), group["rho"], group["eps"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        for p, state in self._with_grads(group):
            _next_step(state)
            x = _real(p._data)
            g = _grad(x, _real(p.grad._data), weight_decay, maximize)
            v = _real(state["square_avg"]._data)
            u = _real(state["acc_delta"]._data)
            v *= rho
            v += (1 - rho) * g * g
            delta = u + eps
            np.sqrt(delta, out=delta)
            std = v + eps
            np.sqrt(std, out=std)
            delta /= std
            delta *= g
            u *= rho
            u += (1 - rho) * delta * delta
            x -= lr * delta
            p._vc.value += 1
