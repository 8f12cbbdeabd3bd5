"""Adam and AdamW (torch.optim.Adam, torch.optim.AdamW): one update rule, AdamW being Adam with
decoupled weight decay (as in torch 2.x, where AdamW subclasses Adam)."""
import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _adam_moments, _check, _check_betas, _check_lr, _next_step,
                        _real, _scalar_state, _to_scalar, _zeros_state)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """torch's update: m = lerp(m, g, 1-beta1); v = beta2*v + (1-beta2)*g*g (v_max = max(v_max,
    v) with amsgrad); p -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps). Weight decay is
    L2 (added to g) or, decoupled, p *= 1 - lr*wd. State: step (float tensor), exp_avg,
    exp_avg_sq, max_exp_avg_sq."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_lr(lr)
        _check(0.0 <= eps, "epsilon value", eps)
        _check_betas(betas)
        _check(0.0 <= weight_decay, "weight_decay value", weight_decay)
        if not (all(isinstance(b, float) for b in betas)
                or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas):
            if isinstance(b, Tensor) and b.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        defaults = dict(lr=lr, betas=tuple(map(_to_scalar, betas)), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    _group_defaults = (("amsgrad", False), ("maximize", False), ("foreach", None),
                       ("capturable", False), ("differentiable", False),
                       ("decoupled_weight_decay", False), ("fused", None))

    def _init_state(self, p, state, group):
        state["step"] = _scalar_state(0.0)
        state["exp_avg"] = _zeros_state(p)
        state["exp_avg_sq"] = _zeros_state(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_state(p)

    def _update_group(self, group):
        lr = _to_scalar(group["lr"])
        beta1, beta2 = map(_to_scalar, group["betas"])
        eps, weight_decay, amsgrad = group["eps"], group["weight_decay"], group["amsgrad"]
        decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
        for p, state in self._with_grads(group):
            step = _next_step(state)
            x, g, m, v = _adam_moments(p, state, lr, beta1, beta2, weight_decay, decoupled,
                                       maximize)
            if amsgrad:
                v_max = _real(state["max_exp_avg_sq"]._data)
                np.maximum(v_max, v, out=v_max)
                v = v_max
            # sqrt(v)/c2 + eps == (sqrt(v) + eps*c2)/c2: one array pass fewer
            c2 = (1 - beta2 ** step) ** 0.5
            denom = np.sqrt(v)
            denom += eps * c2
            x -= (lr * c2 / (1 - beta1 ** step)) * m / denom
            p._vc.value += 1


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2): p *= 1 - lr*wd before the Adam step."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
