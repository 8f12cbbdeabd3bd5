"""OP_CASES: the table of every op the harness drives against torch, one family per file."""
import op_cases_pointwise
import op_cases_reduction
import op_cases_indexing
import op_cases_linalg
import op_cases_nn
import op_cases_shape

OP_CASES = (op_cases_pointwise.CASES + op_cases_reduction.CASES + op_cases_shape.CASES +
            op_cases_indexing.CASES + op_cases_linalg.CASES + op_cases_nn.CASES)
