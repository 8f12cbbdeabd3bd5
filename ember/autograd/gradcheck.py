"""gradcheck / gradgradcheck: compare analytical gradients with central finite differences
(in float64, as torch recommends)."""
import numpy as np

from .engine import run_backward


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _numerical_jacobian(fn, inputs, i, eps):
    x = inputs[i]
    flat = x._data.reshape(-1)
    cols = []
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        plus = [o._data.astype(np.float64).reshape(-1) for o in _as_tuple(fn(*inputs))]
        flat[k] = old - eps
        minus = [o._data.astype(np.float64).reshape(-1) for o in _as_tuple(fn(*inputs))]
        flat[k] = old
        cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)]))
    return np.stack(cols, 1) if cols else np.zeros((0, 0))


def _analytical_jacobian(fn, inputs, i):
    from ..ops.creation import zeros_like
    outs = _as_tuple(fn(*inputs))
    rows = []
    for o in outs:
        for k in range(o.numel()):
            g = zeros_like(o)
            g._data.reshape(-1)[k] = 1
            if not o.requires_grad:
                rows.append(np.zeros(inputs[i].numel()))
                continue
            (gi,) = run_backward([o], [g], retain_graph=True, inputs=[inputs[i]],
                                 accumulate=False)
            rows.append(np.zeros(inputs[i].numel()) if gi is None else
                        gi._data.astype(np.float64).reshape(-1))
    return np.stack(rows, 0) if rows else np.zeros((0, 0))


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              **kwargs):
    """True when d(func)/d(input) from backward matches finite differences for every input
    that requires grad."""
    inputs = _as_tuple(inputs)
    from .._tensor import Tensor
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        num = _numerical_jacobian(func, inputs, i, eps)
        ana = _analytical_jacobian(func, inputs, i)
        if num.shape != ana.shape or not np.allclose(ana, num.T if num.shape != ana.shape
                                                     else num, atol=atol, rtol=rtol):
            if raise_exception:
                raise RuntimeError(f"Jacobian mismatch for output 0 with respect to input {i},\n"
                                   f"numerical:{num}\nanalytical:{ana}\n")
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **kwargs):
    """gradcheck of the first derivative (the map inputs -> grads of func with fixed random
    grad_outputs)."""
    from .._tensor import Tensor
    from ..ops.creation import randn_like
    inputs = _as_tuple(inputs)
    outs = _as_tuple(func(*inputs))
    if grad_outputs is None:
        grad_outputs = tuple(randn_like(o) for o in outs)
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]

    def first_grads(*xs):
        o = _as_tuple(func(*xs))
        d = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        gs = run_backward(list(o), list(grad_outputs), retain_graph=True, create_graph=True,
                          inputs=d, accumulate=False)
        return tuple(g for g in gs if g is not None)
    del diff
    return gradcheck(first_grads, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
