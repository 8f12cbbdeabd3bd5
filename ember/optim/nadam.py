"""NAdam, Adam with Nesterov momentum (torch.optim.NAdam)."""
import numpy as np

from .optimizer import (Optimizer, _adam_moments, _check, _check_betas, _check_lr, _next_step,
                        _scalar_state, _to_scalar, _zeros_state)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """torch's update with mu_t = beta1*(1 - 0.5*0.96^(t*momentum_decay)) and the running product
    mu_product (a float tensor in the state, multiplied in its own dtype as torch does):
    m = lerp(m, g, 1-beta1); v = beta2*v + (1-beta2)*g*g; d = sqrt(v/(1-beta2^t)) + eps;
    p -= lr*(1-mu_t)/(1-prod_t) * g/d + lr*mu_{t+1}/(1-prod_t*mu_{t+1}) * m/d."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_lr(lr)
        _check(0.0 <= eps, "epsilon value", eps)
        _check_betas(betas)
        _check(0.0 <= weight_decay, "weight_decay value", weight_decay)
        _check(0.0 <= momentum_decay, "momentum_decay value", momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    _group_defaults = (("maximize", False), ("foreach", None), ("capturable", False),
                       ("differentiable", False), ("decoupled_weight_decay", False))

    def _init_state(self, p, state, group):
        state["step"] = _scalar_state(0.0)
        state["mu_product"] = _scalar_state(1.0)
        state["exp_avg"] = _zeros_state(p)
        state["exp_avg_sq"] = _zeros_state(p)

    def _update_group(self, group):
        lr, eps = _to_scalar(group["lr"]), group["eps"]
        beta1, beta2 = map(_to_scalar, group["betas"])
        weight_decay, momentum_decay = group["weight_decay"], group["momentum_decay"]
        decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
        for p, state in self._with_grads(group):
            step = _next_step(state)
            x, g, m, v = _adam_moments(p, state, lr, beta1, beta2, weight_decay, decoupled,
                                       maximize)
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
            product = state["mu_product"]._data
            product *= mu
            product = float(product)
            # sqrt(v/c2) + eps == (sqrt(v) + eps*sqrt(c2)) / sqrt(c2)
            root_c2 = (1 - beta2 ** step) ** 0.5
            denom = np.sqrt(v)
            denom += eps * root_c2
            update = (lr * (1.0 - mu) / (1.0 - product) * root_c2) * g
            update += (lr * mu_next / (1.0 - product * mu_next) * root_c2) * m
            update /= denom
            x -= update
            p._vc.value += 1
