"""ember.linalg: the torch.linalg functions of the foundation (norm, vector_norm, matrix_norm,
inv, det, solve)."""
import numpy as np

from .ops._registry import op, write_out
from .ops.reduction import _vector_norm


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ord-norm of x's elements (over dim when given)."""
    return _vector_norm(x if dtype is None else x.to(dtype), ord, dim, keepdim, out=out)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """'fro', or the induced 1 / inf norms (and -1 / -inf): max (min) absolute column / row
    sum; the spectral and nuclear norms are not supported."""
    A = A if dtype is None else A.to(dtype)
    if ord == "fro":
        return vector_norm(A, 2, dim, keepdim, out=out)
    if ord not in (1, -1, float("inf"), float("-inf")):
        raise RuntimeError(f"ember.linalg.matrix_norm does not support ord={ord}")
    rows, cols = (d % A.dim() for d in (dim if ord in (1, -1) else dim[::-1]))
    sums = A.abs().sum(rows, keepdim=keepdim)
    if not keepdim and cols > rows:
        cols -= 1
    r = (sums.amax if ord > 0 else sums.amin)(cols, keepdim=keepdim)
    return r if out is None else write_out(out, r, "linalg_matrix_norm")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """linalg.norm: a vector norm for an int dim (or 1-D input), a matrix norm for two dims
    (or 2-D input); with ord and dim None, the 2-norm of the flattened input."""
    if isinstance(dim, int) or (dim is None and (ord is None or A.dim() == 1)):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
    if dim is None and A.dim() != 2:
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {A.dim()}D.")
    return matrix_norm(A, "fro" if ord is None else ord, (-2, -1) if dim is None else dim,
                       keepdim, dtype=dtype, out=out)


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


def _vector_rhs(A, B):
    """torch's rule: B is a (batch of) vector(s) when 1-D or shaped like A without its last
    dim."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


@op(method=False, save_output=True, node="LinalgSolveExBackward0")
def solve(A, B):
    """X with A X = B (batched; B a matrix or a vector by torch's rule)."""
    _check_square(A, "solve")
    try:
        if _vector_rhs(A, B):
            return np.linalg.solve(A, B[..., None])[..., 0]
        return np.linalg.solve(A, B)
    except np.linalg.LinAlgError:
        raise RuntimeError("torch.linalg.solve: The solver failed because the input matrix is "
                           "singular.") from None


@solve.backward
def _(ctx, grad, A, B):
    gb = solve(A.transpose(-1, -2), grad)
    x = ctx.out
    ga = -gb.unsqueeze(-1) * x.unsqueeze(-2) if _vector_rhs(A, B) else \
        -gb.matmul(x.transpose(-1, -2))
    return ga, gb
