"""Every op of ember against torch 2.13: values, dtypes, shapes, grad_fn names, gradients,
method / in-place / out= forms and exception types, on hypothesis-drawn and hand-picked
inputs (tests/ops/op_cases*.py), plus finite-difference gradcheck and gradgradcheck."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ember.ops._registry import REGISTRY
from op_cases import OP_CASES
from op_harness import check_error, check_gradcheck, check_sample

SETTINGS = dict(deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
EDGES = [(c, i) for c in OP_CASES for i in range(len(c.edges))]
ERRORS = [(c, i) for c in OP_CASES for i in range(len(c.errors))]


# registry ops reached through a public function of another name
REACHED_AS = {"linalg_vector_norm": "vector_norm", "constant_pad_nd": "pad",
              "convolution": "conv2d", "threshold_backward": "relu"}


def _ids(pair):
    return f"{pair[0].id}-{pair[1]}"


def test_every_registry_op_has_cases():
    names = {c.name.split(".")[-1] for c in OP_CASES} | {c.id for c in OP_CASES}
    missing = [n for n in REGISTRY if not n.startswith("_") and REACHED_AS.get(n, n) not in names]
    assert not missing, f"ops of the registry without OP_CASES: {missing}"


@pytest.mark.parametrize("case", OP_CASES, ids=repr)
def test_matches_torch(case):
    @settings(max_examples=15, **SETTINGS)
    @given(st.data())
    def run(data):
        check_sample(case, data.draw(case.samples(case.dtypes), label="sample"))
    run()


@pytest.mark.parametrize("pair", EDGES, ids=_ids)
def test_edge_case(pair):
    case, i = pair
    check_sample(case, case.edges[i])


@pytest.mark.parametrize("pair", ERRORS, ids=_ids)
def test_error(pair):
    case, i = pair
    check_error(case, case.errors[i])


@pytest.mark.parametrize("case", [c for c in OP_CASES if c.gradcheck], ids=repr)
def test_gradcheck(case):
    @settings(max_examples=10, **SETTINGS)
    @given(st.data())
    def run(data):
        check_gradcheck(case, data.draw(case.gc_samples(("float64",)), label="sample"))
    run()


@pytest.mark.parametrize("case", [c for c in OP_CASES if c.gradgrad], ids=repr)
def test_gradgradcheck(case):
    @settings(max_examples=10, **SETTINGS)
    @given(st.data())
    def run(data):
        check_gradcheck(case, data.draw(case.gc_samples(("float64",)), label="sample"), True)
    run()
