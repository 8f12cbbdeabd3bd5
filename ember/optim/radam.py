"""RAdam, Adam with a rectified adaptive learning rate (torch.optim.RAdam)."""
import numpy as np

from .optimizer import (Optimizer, _adam_moments, _check, _check_betas, _check_lr, _next_step,
                        _scalar_state, _to_scalar, _zeros_state)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """torch's update: m = lerp(m, g, 1-beta1); v = beta2*v + (1-beta2)*g*g;
    rho_t = rho_inf - 2t*beta2^t/(1-beta2^t); when rho_t > 5,
    p -= lr * m/(1-beta1^t) * r_t * sqrt(1-beta2^t)/(sqrt(v) + eps),
    else p -= lr * m/(1-beta1^t)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_lr(lr)
        _check(0.0 <= eps, "epsilon value", eps)
        _check_betas(betas)
        _check(0.0 <= weight_decay, "weight_decay value", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("decoupled_weight_decay", False), ("capturable", False))

    def _init_state(self, p, state, group):
        state["step"] = _scalar_state(0.0)
        state["exp_avg"] = _zeros_state(p)
        state["exp_avg_sq"] = _zeros_state(p)

    def _update_group(self, group):
        lr, eps = _to_scalar(group["lr"]), group["eps"]
        beta1, beta2 = map(_to_scalar, group["betas"])
        weight_decay = group["weight_decay"]
        decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
        rho_inf = 2 / (1 - beta2) - 1
        for p, state in self._with_grads(group):
            step = _next_step(state)
            x, g, m, v = _adam_moments(p, state, lr, beta1, beta2, weight_decay, decoupled,
                                       maximize)
            c1, c2 = 1 - beta1 ** step, 1 - beta2 ** step
            rho_t = rho_inf - 2 * step * (beta2 ** step) / c2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                denom = np.sqrt(v)
                denom += eps
                x -= (lr / c1 * rect * c2 ** 0.5) * m / denom
            else:
                x -= (lr / c1) * m
            p._vc.value += 1
