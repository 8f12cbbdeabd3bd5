"""OP_CASES of the matrix products (mm, bmm, matmul and @, addmm, dot, mv, outer, einsum) and
torch.linalg (inv, det, solve, matrix_norm)."""
import numpy as np
from hypothesis import strategies as st

from op_harness import Case, Err
from op_strategies import FLOATS, NUMERIC, Arr, Sample, custom

SIDE = st.integers(0, 4)


def _mm(draw, arr):
    n, k, m = draw(SIDE), draw(SIDE), draw(SIDE)
    dt = (draw(st.sampled_from(arr.dtypes)),)
    return Sample(draw(arr((n, k), dt)), draw(arr((k, m), dt)))


def _bmm(draw, arr):
    b, n, k, m = draw(SIDE), draw(SIDE), draw(SIDE), draw(SIDE)
    dt = (draw(st.sampled_from(arr.dtypes)),)
    return Sample(draw(arr((b, n, k), dt)), draw(arr((b, k, m), dt)))


def _matmul(draw, arr):
    """Every rank pair 1..4, batch dims broadcasting."""
    ra, rb = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    k = draw(SIDE)
    batch = [draw(st.integers(1, 3)) for _ in range(max(ra, rb) - 2)]
    a_batch = [b if draw(st.booleans()) else 1 for b in batch[len(batch) - max(ra - 2, 0):]]
    b_batch = [b if draw(st.booleans()) else 1 for b in batch[len(batch) - max(rb - 2, 0):]]
    a = (k,) if ra == 1 else tuple(a_batch) + (draw(SIDE), k)
    b = (k,) if rb == 1 else tuple(b_batch) + (k, draw(SIDE))
    dt = (draw(st.sampled_from(arr.dtypes)),)
    return Sample(draw(arr(a, dt)), draw(arr(b, dt)))


def _addmm(draw, arr):
    s = _mm(draw, arr)
    a, b = s.args
    n, m = a.array.shape[0], b.array.shape[1]
    shape = draw(st.sampled_from([(n, m), (m,), (1, m), (n, 1), ()]))
    c = draw(arr(shape, (a.array.dtype.name,)))
    kw = {}
    if draw(st.booleans()):
        kw = {"beta": draw(st.sampled_from([0, 0.5, 2])), "alpha": draw(st.sampled_from([1, -2]))}
    return Sample(c, a, b, **kw)


def _dot(draw, arr):
    n = draw(SIDE)
    dt = (draw(st.sampled_from(arr.dtypes)),)
    return Sample(draw(arr((n,), dt)), draw(arr((n,), dt)))


def _mv(draw, arr):
    n, k = draw(SIDE), draw(SIDE)
    dt = (draw(st.sampled_from(arr.dtypes)),)
    return Sample(draw(arr((n, k), dt)), draw(arr((k,), dt)))


def _outer(draw, arr):
    return Sample(draw(arr((draw(SIDE),))), draw(arr((draw(SIDE),))))


EQUATIONS = {  # equation -> operand shapes (letters are sizes 2..4)
    "ij,jk->ik": ["ij", "jk"], "ij,jk": ["ij", "jk"], "bij,bjk->bik": ["bij", "bjk"],
    "i,i->": ["i", "i"], "i,j->ij": ["i", "j"], "ii->i": ["ii"], "ii": ["ii"],
    "ij->ji": ["ij"], "ij->": ["ij"], "...ij,...jk->...ik": ["bij", "bjk"],
    "bij,jk->bik": ["bij", "jk"], "ij,ij->ij": ["ij", "ij"], "i,ij,j->": ["i", "ij", "j"],
    "b i j, b j -> b i": ["bij", "bj"],
}


def _einsum(draw, arr):
    eq = draw(st.sampled_from(sorted(EQUATIONS)))
    sizes = {c: draw(st.integers(1, 3)) for c in "bijk"}
    dt = (draw(st.sampled_from(arr.dtypes)),)
    return Sample(eq, *(draw(arr(tuple(sizes[c] for c in spec), dt))
                        for spec in EQUATIONS[eq]))


def _square(draw, arr, batch=True):
    n = draw(st.integers(1, 4))
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=2))) if batch else ()
    a = draw(arr(lead + (n, n)))
    # well conditioned: add a multiple of the identity
    return Arr(a.array + np.eye(n, dtype=a.array.dtype) * 4, a.layout)


def _solve(draw, arr):
    a = _square(draw, arr)
    n = a.array.shape[-1]
    rhs = a.array.shape[:-1] + (draw(st.integers(1, 3)),) if draw(st.booleans()) else (n,)
    return Sample(a, draw(arr(rhs, (a.array.dtype.name,))))


def _matrix_norm(draw, arr):
    a = draw(arr(min_dims=2, min_side=1))
    ordinal = draw(st.sampled_from(["fro", 1, -1, float("inf"), float("-inf")]))
    return Sample(a, ordinal, keepdim=draw(st.booleans()))


MM_ERRORS = [
    Err(lambda lib: lib.mm(lib.ones(1, 5), lib.ones(1, 5)), RuntimeError,
        "mat1 and mat2 shapes cannot be multiplied (1x5 and 1x5)"),
    Err(lambda lib: lib.mm(lib.ones(2, 2), lib.ones(2, 2, dtype=lib.float64)), RuntimeError,
        "expected m1 and m2 to have the same dtype, but got: float != double"),
]

CASES = [
    Case("mm", custom(_mm), NUMERIC, errors=MM_ERRORS, gradgrad=True),
    Case("bmm", custom(_bmm), NUMERIC,
         errors=[Err(lambda lib: lib.bmm(lib.ones(2, 3, 4), lib.ones(2, 3, 4)), RuntimeError,
                     "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but "
                     "got: [2, 3].")]),
    Case("matmul", custom(_matmul), NUMERIC, grad_fn=False,   # torch: views and mm/bmm nodes
         errors=[Err(lambda lib: lib.matmul(lib.ones(2, 3), lib.ones(2, 3)), RuntimeError,
                     "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
                 Err(lambda lib: lib.matmul(lib.ones(()), lib.ones(3)), RuntimeError,
                     "both arguments to matmul need to be at least 1D, but they are 0D and 1D")]),
    Case("__matmul__", custom(_matmul), FLOATS, call=lambda lib, a, b: a @ b, method=False,
         inplace=False, out=False, grad_fn=False, gradcheck=False),
    Case("addmm", custom(_addmm), NUMERIC, gradgrad=True),
    Case("dot", custom(_dot), NUMERIC,
         errors=[Err(lambda lib: lib.dot(lib.ones(2), lib.ones(3)), RuntimeError,
                     "inconsistent tensor size, expected tensor [2] and src [3] to have the "
                     "same number of elements, but got 2 and 3 elements respectively")]),
    Case("inner", custom(_dot), NUMERIC),
    Case("mv", custom(_mv), NUMERIC),
    Case("outer", custom(_outer), NUMERIC),
    Case("einsum", custom(_einsum), FLOATS, grad_fn=False, method=False, gradgrad=True),
    Case("linalg.inv", custom(lambda d, arr: Sample(_square(d, arr))), FLOATS, tol=100,
         errors=[Err(lambda lib: lib.linalg.inv(lib.zeros(2, 2)), RuntimeError,
                     "linalg.inv: The diagonal element 1 is zero, the inversion could not be "
                     "completed because the input matrix is singular.")]),
    Case("linalg.det", custom(lambda d, arr: Sample(_square(d, arr))), FLOATS, tol=100),
    Case("linalg.solve", custom(_solve), FLOATS, tol=100),
    Case("linalg.matrix_norm", custom(_matrix_norm), FLOATS, tol=10),
]
