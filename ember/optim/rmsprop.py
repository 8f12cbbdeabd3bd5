"""RMSprop, plain or centered, with momentum (torch.optim.RMSprop)."""
import numpy as np

from .optimizer import (Optimizer, _check, _check_lr, _grad, _next_step, _real, _scalar_state,
                        _to_scalar, _zeros_state)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """torch's update: v = alpha*v + (1-alpha)*g*g; centered: a = lerp(a, g, 1-alpha), v~ = v - a*a;
    d = sqrt(v~) + eps; with momentum b = momentum*b + g/d, p -= lr*b, else p -= lr*g/d.
    State: step, square_avg, momentum_buffer (momentum > 0), grad_avg (centered)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_lr(lr)
        _check(0.0 <= eps, "epsilon value", eps)
        _check(0.0 <= momentum, "momentum value", momentum)
        _check(0.0 <= weight_decay, "weight_decay value", weight_decay)
        _check(0.0 <= alpha, "alpha value", alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    _group_defaults = (("momentum", 0), ("centered", False), ("foreach", None),
                       ("maximize", False), ("differentiable", False), ("capturable", False))

    def _init_state(self, p, state, group):
        state["step"] = _scalar_state(0.0)
        state["square_avg"] = _zeros_state(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_state(p)
        if group["centered"]:
            state["grad_avg"] = _zeros_state(p)

    def _update_group(self, group):
        lr, alpha, eps = _to_scalar(group["lr"]), group["alpha"], group["eps"]
        momentum, centered = group["momentum"], group["centered"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        for p, state in self._with_grads(group):
            _next_step(state)
            x = _real(p._data)
            g = _grad(x, _real(p.grad._data), weight_decay, maximize)
            v = _real(state["square_avg"]._data)
            v *= alpha
            v += (1 - alpha) * g * g
            if centered:
                a = _real(state["grad_avg"]._data)
                a += (1 - alpha) * (g - a)
                denom = v - a * a
                np.sqrt(denom, out=denom)
            else:
                denom = np.sqrt(v)
            denom += eps
            if momentum > 0:
                b = _real(state["momentum_buffer"]._data)
                b *= momentum
                b += g / denom
                x -= lr * b
            else:
                x -= lr * g / denom
            p._vc.value += 1
