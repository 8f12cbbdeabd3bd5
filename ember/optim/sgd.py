"""SGD with momentum, dampening, Nesterov, weight decay and maximize (torch.optim.SGD)."""
from .._tensor import wrap
from .optimizer import Optimizer, _check, _check_lr, _grad, _to_scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    """torch's update: g += wd*p; b = momentum*b + (1-dampening)*g (b = g at the first step);
    g = g + momentum*b if nesterov else b; p -= lr*g. State: 'momentum_buffer' when
    momentum != 0. Linear in g, so complex parameters need no real view."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        _check_lr(lr)
        _check(momentum >= 0.0, "momentum value", momentum)
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    _group_defaults = (("nesterov", False), ("maximize", False), ("foreach", None),
                       ("differentiable", False), ("fused", False))

    def _update_group(self, group):
        lr = _to_scalar(group["lr"])
        momentum, dampening = group["momentum"], group["dampening"]
        weight_decay, nesterov, maximize = (group["weight_decay"], group["nesterov"],
                                            group["maximize"])
        states = self.state
        for p in group["params"]:
            if p.grad is None:
                continue
            x = p._data
            g = _grad(x, p.grad._data, weight_decay, maximize)
            if momentum != 0:
                state = states[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    b = g.copy() if g is p.grad._data else g
                    state["momentum_buffer"] = wrap(b)
                else:
                    b = buf._data
                    b *= momentum
                    b += g if dampening == 0 else (1 - dampening) * g
                g = g + momentum * b if nesterov else b
            x -= lr * g
            p._vc.value += 1
