"""Matrix products (mm, bmm, matmul, addmm, dot, mv, outer, einsum) and torch.linalg basics
(norm, inv, det, solve). Shape errors use torch's wording."""
import numpy as np

from .._tensor import Tensor
from ._registry import op, write_out, wrap_int
from ._util import type_name


def _shape_str(a):
    return "x".join(map(str, a.shape))


def _same_dtype(name, a, b):
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{type_name(a.dtype).lower()} != {type_name(b.dtype).lower()}"
                           if name != "dot" else
                           f"dot : expected both vectors to have same dtype, but found "
                           f"{type_name(a.dtype)} and {type_name(b.dtype)}")


@op(node="MmBackward0")
def mm(input, mat2):
    """Matrix product of two 2-D tensors."""
    if input.ndim != 2 or mat2.ndim != 2:
        bad = input if input.ndim != 2 else mat2
        raise RuntimeError(f"{'self' if bad is input else 'mat2'} must be a matrix")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(input)} and "
                           f"{_shape_str(mat2)})")
    _same_dtype("mm", input, mat2)
    return input @ mat2


def _column_major(m):
    """A 2-D tensor laid out column by column (a transposed contiguous one, as weight.t())."""
    a = m._data
    return a.strides[0] == a.itemsize and a.strides[1] == a.shape[0] * a.itemsize


def _mat1_grad(grad, mat1, mat2):
    """grad @ mat2^T, computed as (mat2 @ grad^T)^T when mat1 is column-major (as torch), so
    that the gradient has mat1's layout and reaches a leaf behind t() without a copy."""
    return mat2.mm(grad.t()).t() if _column_major(mat1) else grad.mm(mat2.t())


def _mat2_grad(grad, mat1, mat2):
    """mat1^T @ grad, laid out like mat2 (column-major mat2: (grad^T @ mat1)^T), as torch."""
    return grad.t().mm(mat1).t() if _column_major(mat2) else mat1.t().mm(grad)


@mm.backward
def _(ctx, grad, input, mat2):
    need = ctx.needs_input_grad
    return (_mat1_grad(grad, input, mat2) if need[0] else None), \
        (_mat2_grad(grad, input, mat2) if need[1] else None)


@op(node="AddmmBackward0", inplace=True)
def addmm(input, mat1, mat2, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2)."""
    if mat1.ndim != 2 or mat2.ndim != 2 or mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(mat1)} and "
                           f"{_shape_str(mat2)})")
    _same_dtype("addmm", mat1, mat2)
    if mat1.dtype.kind in "iu":     # integer tensors: scalars truncated and wrapped, as torch
        if (isinstance(alpha, float) or isinstance(beta, float)) and mat1.shape[1] == 0 and \
                mat1.shape[0] * mat2.shape[1]:
            raise RuntimeError(f"result type Float can't be cast to the desired output type "
                               f"{type_name(mat1.dtype)}")
        alpha, beta = (wrap_int(int(v), mat1.dtype) for v in (alpha, beta))
    prod = mat1 @ mat2
    if alpha != 1:
        prod *= alpha
    if beta == 0:
        return prod
    prod += input if beta == 1 else beta * input
    return prod


@addmm.backward
def _(ctx, grad, input, mat1, mat2, beta=1, alpha=1):
    need = ctx.needs_input_grad
    g = grad if alpha == 1 else grad * alpha
    gi = (grad if beta == 1 else grad * beta) if need[0] else None
    return gi, (_mat1_grad(g, mat1, mat2) if need[1] else None), \
        (_mat2_grad(g, mat1, mat2) if need[2] else None)


@op(node="BmmBackward0")
def bmm(input, mat2):
    """Batched matrix product of (b, n, m) and (b, m, p)."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: "
                           f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    return np.matmul(input, mat2)


@bmm.backward
def _(ctx, grad, input, mat2):
    need = ctx.needs_input_grad
    return (grad.bmm(mat2.transpose(1, 2)) if need[0] else None), \
        (input.transpose(1, 2).bmm(grad) if need[1] else None)


@op(node="DotBackward0")
def dot(input, other):
    """Inner product of two 1-D tensors of the same size and dtype."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape != other.shape:
        raise RuntimeError("inconsistent tensor size, expected tensor [{}] and src [{}] to have "
                           "the same number of elements, but got {} and {} elements respectively"
                           .format(input.shape[0], other.shape[0], input.shape[0],
                                   other.shape[0]))
    _same_dtype("dot", input, other)
    return np.dot(input, other)


@dot.backward
def _(ctx, grad, input, other):
    return grad * other, grad * input


def inner(input, other, *, out=None):
    """Sum over the last dims of both: result shape input.shape[:-1] + other.shape[:-1]."""
    if input.dim() == 0 or other.dim() == 0:
        r = input * other
    else:
        k = input.shape[-1]
        if other.shape[-1] != k:
            raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                               f"got shapes {list(input.shape)} and {list(other.shape)}")
        rows = int(np.prod(input.shape[:-1]))
        cols = int(np.prod(other.shape[:-1]))
        r = mm(input.reshape(rows, k), other.reshape(cols, k).t()).reshape(
            input.shape[:-1] + other.shape[:-1])
    return r if out is None else write_out(out, r, "inner")


@op(node="MvBackward0")
def mv(input, vec):
    if input.ndim != 2 or vec.ndim != 1 or input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat "
                           f"({_shape_str(input)}), vec ({vec.shape[0] if vec.ndim else 1})")
    return input @ vec


@mv.backward
def _(ctx, grad, input, vec):
    return grad.unsqueeze(1) * vec, input.t().mv(grad)


def outer(input, vec2, *, out=None):
    """Outer product of two 1-D tensors."""
    r = input.unsqueeze(1) * vec2.unsqueeze(0)
    return r if out is None else write_out(out, r, "outer")


ger = outer


@op(node="MatmulBackward0", name="_matmul_nd", method=False)
def _matmul_nd(input, other):
    return np.matmul(input, other)


@_matmul_nd.backward
def _(ctx, grad, input, other):
    need = ctx.needs_input_grad
    return (grad.matmul(other.transpose(-1, -2)) if need[0] else None), \
        (input.transpose(-1, -2).matmul(grad) if need[1] else None)


def matmul(input, other, *, out=None):
    """torch.matmul: dot / mv / mm / batched with broadcasting, by the inputs' ranks."""
    a, b = input.dim(), other.dim()
    if a == 0 or b == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a}D "
                           f"and {b}D")
    if a == 1 and b == 1:
        r = dot(input, other)
    elif a == 2 and b == 1:
        r = mv(input, other)
    elif a == 1 and b == 2:
        r = mm(input.unsqueeze(0), other).squeeze(0)
    elif a == 2 and b == 2:
        r = mm(input, other)
    else:
        if input.shape[-1] != other.shape[-2 if b > 1 else -1]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied "
                f"({'x'.join(map(str, input.shape[:-1] if a > 2 else input.shape))} and "
                f"{'x'.join(map(str, other.shape))})" if a > 2 and b == 2 else
                f"Expected size for first two dimensions of batch2 tensor to be: "
                f"[{input.shape[0]}, {input.shape[-1]}] but got: [{other.shape[0]}, "
                f"{other.shape[-2 if b > 1 else -1]}].")
        if b == 1:
            r = _matmul_nd(input, other.unsqueeze(-1)).squeeze(-1)
        elif a == 1:
            r = _matmul_nd(input.unsqueeze(0), other).squeeze(-2)
        else:
            r = _matmul_nd(input, other)
    if out is not None:
        from ._registry import write_out
        return write_out(out, r, "matmul")
    return r


Tensor.matmul = matmul
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
Tensor.outer = Tensor.ger = outer
Tensor.inner = inner


def einsum(equation, *operands):
    """torch.einsum, built from permute/reshape/mul/sum so it is differentiable."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return _einsum(equation.replace(" ", ""), *operands)


@op(method=False, node="EinsumBackward0", name="_einsum")
def _einsum(equation, *operands):
    return np.einsum(equation, *operands, optimize=len(operands) > 2)


@_einsum.backward
def _(ctx, grad, equation, *operands):
    lhs, arrow, rhs = equation.partition("->")
    specs = lhs.split(",")
    if not arrow:       # implicit output: broadcast dims, then the letters seen once, sorted
        rhs = ("..." if "..." in lhs else "") + "".join(
            sorted(c for c in set(lhs) if c.isalpha() and lhs.count(c) == 1))
    return (None,) + tuple(_einsum_grad(grad, rhs, specs, operands, i)
                           if ctx.needs_input_grad[i + 1] else None
                           for i in range(len(operands)))


def _einsum_grad(grad, rhs, specs, operands, i):
    """The gradient of operand i, itself an einsum: grad with the other operands gives the
    operand's distinct letters; a letter summed inside the operand alone comes back as a
    broadcast (ones), a repeated letter as a diagonal (an identity)."""
    from .creation import eye, ones
    spec = specs[i].replace("...", ".")
    others = [specs[j] for j in range(len(specs)) if j != i]
    known = set(rhs + "".join(others))
    sizes = _letter_sizes(spec, operands[i].shape)
    target = "".join(c for k, c in enumerate(spec) if c == "." or (c in known and
                                                                    c not in spec[:k]))
    g = _einsum(",".join([rhs] + others) + "->" + target.replace(".", "..."), grad,
                *(operands[j] for j in range(len(specs)) if j != i))
    if target == spec:
        return g
    fresh = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in rhs + "".join(specs))
    subs, tensors, out = [target.replace(".", "...")], [g], []
    opts = {"dtype": grad.dtype, "device": grad.device}
    for k, c in enumerate(spec):
        if c in spec[:k] and c != ".":              # a repeated letter: on the diagonal only
            z = next(fresh)
            subs.append(c + z)
            tensors.append(eye(sizes[c], **opts))
            c = z
        elif c not in known and c != ".":           # summed in this operand only: broadcast
            subs.append(c)
            tensors.append(ones(sizes[c], **opts))
        out.append(c)
    return _einsum(",".join(subs) + "->" + "".join(out).replace(".", "..."), *tensors)


def _letter_sizes(spec, shape):
    """The size of each letter of one operand's subscripts ('.' stands for '...')."""
    cut = spec.find(".")
    if cut < 0:
        return dict(zip(spec, shape))
    tail = spec[cut + 1:]
    return {**dict(zip(spec[:cut], shape)),
            **dict(zip(tail, shape[len(shape) - len(tail):]))}
