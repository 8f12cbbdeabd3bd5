"""gradcheck / gradgradcheck: compare analytical gradients with central finite differences
(in float64, as torch recommends), one Jacobian per (output, input) pair laid out as torch's:
rows index the input's elements, columns the output's."""
import warnings

import numpy as np

from . import grad_mode
from .engine import run_backward


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when a Jacobian does not match."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(fn, inputs):
    from .._tensor import Tensor
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


def _numerical(fn, inputs, i, eps):
    """For each output, the (input elements x output elements) finite-difference Jacobian."""
    x = inputs[i]._data
    columns = []
    with grad_mode.no_grad():
        for k in range(x.size):
            idx = np.unravel_index(k, x.shape)
            old = x[idx].copy()
            x[idx] = old + eps
            plus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
            x[idx] = old - eps
            minus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
            x[idx] = old
            columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    outs = _outputs(fn, inputs)
    return [np.array([c[j] for c in columns]).reshape(x.size, o.numel())
            for j, o in enumerate(outs)]


def _analytical(fn, inputs, diff):
    """jac[j][i]: the (input i elements x output j elements) Jacobian from backward."""
    outs = _outputs(fn, inputs)
    jac = [[np.zeros((inputs[i].numel(), o.numel())) for i in diff] for o in outs]
    for j, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for k in range(o.numel()):
            seed = np.zeros(o.shape, o._data.dtype)
            seed.reshape(-1)[k] = 1
            from .._tensor import wrap
            grads = run_backward([o], [wrap(seed)], retain_graph=True,
                                 inputs=[inputs[i] for i in diff], accumulate=False)
            for col, g in enumerate(grads):
                if g is not None:
                    jac[j][col][:, k] = g._data.astype(np.float64).reshape(-1)
    return jac


def _differentiable(inputs):
    from .._tensor import Tensor
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")
    for i in diff:
        if inputs[i].dtype.name not in ("float64", "complex128"):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex. ")
    return diff


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              **kwargs):
    """True when backward's Jacobian matches finite differences for every output and every
    input that requires grad; otherwise GradcheckError (or False with raise_exception=False)."""
    from .._tensor import wrap
    inputs = _as_tuple(inputs)
    diff = _differentiable(inputs)
    analytical = _analytical(func, inputs, diff)
    for col, i in enumerate(diff):
        numerical = _numerical(func, inputs, i, eps)
        for j, num in enumerate(numerical):
            ana = analytical[j][col]
            if not np.allclose(ana, num, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(f"Jacobian mismatch for output {j} with respect to input "
                                     f"{i},\nnumerical:{wrap(num)!r}\nanalytical:{wrap(ana)!r}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **kwargs):
    """gradcheck of the first derivative: the map inputs -> grads of func for fixed random
    grad_outputs."""
    from ..ops.creation import randn_like
    inputs = _as_tuple(inputs)
    _differentiable(inputs)
    if grad_outputs is None:
        grad_outputs = [randn_like(o) for o in _outputs(func, inputs) if o.requires_grad]
    grad_outputs = list(_as_tuple(grad_outputs))

    def first_grads(*xs):
        with grad_mode.enable_grad():
            outs = [o for o in _outputs(func, xs) if o.requires_grad]
            diff = [x for x in xs if getattr(x, "requires_grad", False)]
            grads = run_backward(outs, grad_outputs, retain_graph=True, create_graph=True,
                                 inputs=diff, accumulate=False)
        return tuple(g for g in grads if g is not None)
    return gradcheck(first_grads, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
