"""ember.linalg: the torch.linalg functions of the foundation (norm, vector_norm, matrix_norm,
inv, det, solve)."""
import numpy as np

from .ops._registry import op
from .ops.reduction import norm as _norm


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The p-norm of x flattened (or over dim)."""
    return _norm(x, ord, dim, keepdim, dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    if ord != "fro":
        raise RuntimeError("ember.linalg.matrix_norm supports ord='fro' only")
    return _norm(A, 2, dim, keepdim, dtype)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """linalg.norm: 2-norm of the flattened input by default, Frobenius for 'fro'."""
    if ord is None or ord == "fro":
        return _norm(A, 2, dim, keepdim, dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def _check_square(A, name):
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.ndim > 1 else A.shape[0]} by {A.shape[-1]} "
                           "matrices")


@op(method=False, save_output=True, node="LinalgInvExBackward0")
def inv(A):
    """Matrix inverse (batched); a singular matrix raises torch's error."""
    _check_square(A, "inv")
    try:
        return np.linalg.inv(A)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.inv: The diagonal element 1 is zero, the inversion could not "
                           "be completed because the input matrix is singular.") from None


@inv.backward
def _(ctx, grad, A):
    inv_t = ctx.out.transpose(-1, -2)
    return -(inv_t.matmul(grad).matmul(inv_t))


@op(method=False, node="LinalgDetBackward0")
def det(A):
    """Determinant (batched)."""
    _check_square(A, "det")
    return np.linalg.det(A)


@det.backward
def _(ctx, grad, A):
    return (grad * det(A)).unsqueeze(-1).unsqueeze(-1) * inv(A).transpose(-1, -2)


@op(method=False, node="LinalgSolveExBackward0")
def solve(A, B):
    _check_square(A, "solve")
    return np.linalg.solve(A, B)


@solve.backward
def _(ctx, grad, A, B):
    gb = solve(A.transpose(-1, -2), grad)
    x = solve(A, B)
    ga = -gb.matmul(x.transpose(-1, -2)) if x.dim() > 1 else -gb.unsqueeze(-1) * x.unsqueeze(-2)
    return ga, gb
