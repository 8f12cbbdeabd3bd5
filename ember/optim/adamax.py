"""Adamax, Adam with the infinity norm (torch.optim.Adamax)."""
import numpy as np

from .optimizer import (Optimizer, _check, _check_betas, _check_lr, _grad, _next_step, _real,
                        _scalar_state, _to_scalar, _zeros_state)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """torch's update: m = lerp(m, g, 1-beta1); u = max(beta2*u, |g| + eps);
    p -= lr/(1-beta1^t) * m / u. State: step, exp_avg (m), exp_inf (u)."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check(0.0 <= eps, "epsilon value", eps)
        _check_betas(betas)
        _check(0.0 <= weight_decay, "weight_decay value", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("capturable", False))

    def _init_state(self, p, state, group):
        state["step"] = _scalar_state(0.0)
        state["exp_avg"] = _zeros_state(p)
        state["exp_inf"] = _zeros_state(p)

    def _update_group(self, group):
        lr, eps = _to_scalar(group["lr"]), group["eps"]
        beta1, beta2 = map(_to_scalar, group["betas"])
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        for p, state in self._with_grads(group):
            step = _next_step(state)
            x = _real(p._data)
            g = _grad(x, _real(p.grad._data), weight_decay, maximize)
            m = _real(state["exp_avg"]._data)
            u = _real(state["exp_inf"]._data)
            m += (1 - beta1) * (g - m)
            u *= beta2
            norm = np.abs(g)
            norm += eps
            np.maximum(u, norm, out=u)
            x -= (lr / (1 - beta1 ** step)) * m / u
            p._vc.value += 1
