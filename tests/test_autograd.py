"""Autograd against torch: graph nodes and next_functions, backward/grad options and errors,
double backward, hooks, grad modes, custom Functions, gradcheck, and error messages of bad
calls."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember
from _compare import assert_same, raises_like


def graph(fn, depth=3):
    """A node as (name, ((child, output_nr), ...)) down to `depth`, None for no node."""
    if fn is None:
        return None
    if depth == 0:
        return type(fn).__name__
    return type(fn).__name__, tuple((graph(f, depth - 1), n) for f, n in fn.next_functions)


A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float32)
B = np.array([[1.0, 2.0, -0.5], [-1.25, 0.5, 3.0]], np.float32)

NODES = {
    "add": lambda m, x, y: x + y, "add_scalar": lambda m, x, y: x + 1,
    "radd": lambda m, x, y: 1 + x, "mul": lambda m, x, y: x * y,
    "mul_scalar": lambda m, x, y: x * 2, "rmul": lambda m, x, y: 2 * x,
    "sub": lambda m, x, y: x - y, "sub_scalar": lambda m, x, y: x - 1,
    "rsub": lambda m, x, y: 1 - x, "div": lambda m, x, y: x / y,
    "div_scalar": lambda m, x, y: x / 2, "neg": lambda m, x, y: -x,
    "pow": lambda m, x, y: x ** 2, "pow_tensor": lambda m, x, y: x.abs() ** y,
    "rpow": lambda m, x, y: 2 ** x, "mean": lambda m, x, y: x.mean(),
    "mean_dim": lambda m, x, y: x.mean(1), "sum": lambda m, x, y: x.sum(),
    "sum_dim": lambda m, x, y: x.sum(0), "sum_keepdim": lambda m, x, y: x.sum(dim=1, keepdim=True),
    "addmm": lambda m, x, y: m.addmm(y[:, :2], x, y.t()),
    "mm": lambda m, x, y: x.mm(y.t()),
    "matmul": lambda m, x, y: x @ y.t(), "matmul_vec": lambda m, x, y: x[0] @ y[0],
    "view": lambda m, x, y: x.view(-1), "reshape": lambda m, x, y: x.reshape(3, 2),
    "expand": lambda m, x, y: x[:1].expand(3, 3), "t": lambda m, x, y: x.t(),
    "transpose": lambda m, x, y: x.transpose(0, 1), "permute": lambda m, x, y: x.permute(1, 0),
    "clone": lambda m, x, y: x.clone(), "to": lambda m, x, y: x.to(m.float64),
    "double": lambda m, x, y: x.double(), "select": lambda m, x, y: x[0],
    "slice": lambda m, x, y: x[0:1], "slice_cols": lambda m, x, y: x[:, 1:],
    "index": lambda m, x, y: x[m.tensor([0, 1])], "mask": lambda m, x, y: x[x > 0],
    "unsqueeze": lambda m, x, y: x.unsqueeze(0), "squeeze": lambda m, x, y: x[:1].squeeze(),
    "squeeze_dim": lambda m, x, y: x[:1].squeeze(0),
    "squeeze_dims": lambda m, x, y: x[:1].squeeze((0,)),
    "cat": lambda m, x, y: m.cat([x, y]), "stack": lambda m, x, y: m.stack([x, y]),
    "exp": lambda m, x, y: x.exp(), "log": lambda m, x, y: x.abs().log(),
    "sigmoid": lambda m, x, y: x.sigmoid(), "tanh": lambda m, x, y: x.tanh(),
    "max": lambda m, x, y: x.max(), "max_dim": lambda m, x, y: x.max(1)[0],
    "abs": lambda m, x, y: x.abs(), "sqrt": lambda m, x, y: x.abs().sqrt(),
    "clamp": lambda m, x, y: x.clamp(0, 1), "clamp_min": lambda m, x, y: x.clamp(min=0),
    "where": lambda m, x, y: m.where(x > 0, x, y),
    "gather": lambda m, x, y: x.gather(1, m.tensor([[0], [1]])),
    "index_select": lambda m, x, y: x.index_select(0, m.tensor([1])),
    "masked_fill": lambda m, x, y: x.masked_fill(x > 0, 0.), "prod": lambda m, x, y: x.prod(),
    "cumsum": lambda m, x, y: x.cumsum(0), "repeat": lambda m, x, y: x.repeat(2, 1),
    "sin": lambda m, x, y: x.sin(), "dot": lambda m, x, y: x[0].dot(y[0]),
    "mv": lambda m, x, y: x.mv(y[0]), "flip": lambda m, x, y: x.flip(0),
    "flatten": lambda m, x, y: x.flatten(), "view_as": lambda m, x, y: x.view_as(y),
    "chain": lambda m, x, y: ((x * y + 1).sum(1) / 2).mean(),
    "narrow": lambda m, x, y: x.narrow(1, 0, 2), "min": lambda m, x, y: x.min(),
}


@pytest.mark.parametrize("name", NODES)
def test_grad_fn_and_next_functions(name):
    def run(m):
        x, y = m.tensor(A, requires_grad=True), m.tensor(B, requires_grad=True)
        return graph(NODES[name](m, x, y).grad_fn)
    assert run(ember) == run(torch)


def test_accumulate_grad_variable_and_leaves():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        w = lib.ones(2)
        y = x * w
        acc, nr = y.grad_fn.next_functions[0]
        assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x and nr == 0
        assert acc.next_functions == () and y.grad_fn.next_functions[1] == (None, 0)
        assert (x * 3).grad_fn.next_functions[0][0] is acc      # one accumulator per leaf
        assert x.is_leaf and not y.is_leaf and w.is_leaf and x.grad_fn is None
        assert repr(y.grad_fn).startswith("<MulBackward0 object at 0x")
        assert y.grad_fn.name() == "MulBackward0"


def test_no_graph_without_grad():
    for lib in (ember, torch):
        x = lib.ones(2)
        y = x * 2
        assert y.grad_fn is None and not y.requires_grad and y.is_leaf
        i = lib.ones(2, requires_grad=True).argmax()
        assert not i.requires_grad and i.grad_fn is None


def test_backward_basics():
    def run(m):
        x = m.tensor([1., 2., 3.], requires_grad=True)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x * x).sum().backward()                       # accumulates
        y = x * 2
        y.backward(m.tensor([1., 0.1, 0.01]))          # a gradient for a non-scalar
        z = x.exp().sum()
        z.backward(retain_graph=True)
        z.backward()
        return first, x.grad
    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t, rtol=1e-5)


def test_backward_errors():
    raises_like(lambda m: (m.ones(2, requires_grad=True) * 2).backward(),
                match="grad can be implicitly created only for scalar outputs")

    def twice(m):
        x = m.ones(3, requires_grad=True)
        y = (x.exp() * 2).sum()
        y.backward()
        y.backward()
    e_msg, t_msg = raises_like(twice, match="Trying to backward through the graph a second time")
    assert e_msg == t_msg
    raises_like(lambda m: (m.ones(2) * 2).sum().backward(),
                match="element 0 of tensors does not require grad and does not have a grad_fn")
    raises_like(lambda m: (m.ones(2, requires_grad=True) * 2).backward(m.ones(3)),
                match="Mismatch in shape")
    raises_like(lambda m: (m.ones(2, requires_grad=True) * 2).sum().backward(inputs=[]),
                match="`inputs` argument to `backward()` cannot be empty.")
    raises_like(lambda m: (m.ones(2, requires_grad=True) * 2).sum().backward(inputs=[m.ones(2)]))


def test_saved_tensors_of_scalar_ops():
    def run(m):
        x = m.tensor([1., 2.], requires_grad=True)
        y = (x * 2 + 1).sum()            # no tensor saved: x may change in place
        with m.no_grad():
            x.add_(1)
        y.backward(retain_graph=True)
        z = (x + 1).sum()                # add saves nothing: a second backward is fine
        z.backward()
        z.backward()
        return x.grad
    assert_same(run(ember), run(torch))

    def twice(m):
        y = (m.ones(2, requires_grad=True) * 2).sum()
        y.backward()
        y.backward()
    raises_like(twice, match="Trying to backward through the graph a second time")


def test_create_graph_keeps_grad_history():
    for lib in (ember, torch):
        x = lib.tensor([1., 2.], requires_grad=True)
        (x ** 3).sum().backward(create_graph=True)
        assert x.grad.requires_grad and x.grad.grad_fn is not None
        g = x.grad
        x.grad = None
        g.sum().backward()
        assert x.grad.tolist() == [6., 12.]


def test_leaf_grads_never_alias():
    def run(m):
        x, w = m.ones(2, requires_grad=True), m.ones(2, requires_grad=True)
        (x + w).mean().backward()
        (x * 3).sum().backward()
        g = m.ones(2)
        a, b = m.ones(2, requires_grad=True), m.ones(2, requires_grad=True)
        (a + b).backward(g)
        g.mul_(5)
        c = m.ones(2, requires_grad=True)
        c.backward(g)
        g.mul_(2)
        ((a + b) * 2).sum().backward()
        a.grad.mul_(10)
        return x.grad, w.grad, a.grad, b.grad, c.grad
    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t)


def test_retain_grad():
    def run(m):
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.retain_grad()
        z = y * y
        z.retain_grad()
        (z * 3).sum().backward()
        return y.grad, z.grad, x.grad, y.retains_grad, x.retains_grad, y.is_leaf
    e, t = run(ember), run(torch)
    for a, b in zip(e[:3], t[:3]):
        assert_same(a, b)
    assert e[3:] == t[3:]
    for lib in (ember, torch):
        y = lib.tensor([1., 2.], requires_grad=True) * 2
        assert y.grad is None                              # not retained: stays None
    raises_like(lambda m: m.ones(2).retain_grad(),
                match="can't retain_grad on Tensor that has requires_grad=False")


def test_autograd_grad():
    def run(m):
        x = m.tensor([1., 2.], requires_grad=True)
        z = m.tensor([3., 4.], requires_grad=True)
        y = (x * z).sum()
        g1 = m.autograd.grad(y, x, retain_graph=True)
        g2 = m.autograd.grad(y, [x, z])
        u = m.autograd.grad((x * 3).sum(), [x, z], allow_unused=True)
        mat = m.autograd.grad((x * 3).sum(), [x, z], allow_unused=True, materialize_grads=True)
        go = m.autograd.grad(x * x, x, grad_outputs=m.tensor([1., 10.]))
        multi = m.autograd.grad([x.sum(), (x * x).sum()], [x])
        dup = m.autograd.grad(x.sum(), [x, x])
        return (g1 + g2 + (u[0],) + mat + go + multi + dup, x.grad, u[1])
    (ge, *re), (gt, *rt) = run(ember), run(torch)
    for a, b in zip(ge, gt):
        assert_same(a, b)
    assert re == rt == [None, None]
    raises_like(lambda m: m.autograd.grad((m.ones(2, requires_grad=True) * 3).sum(),
                                          [m.ones(2, requires_grad=True)]),
                match="appears to not have been used in the graph. Set allow_unused=True")

    def used_twice(m):
        x = m.ones(2, requires_grad=True)
        y = x.exp()
        m.autograd.grad(y.sum(), x)
        m.autograd.grad(y.sum(), x)
    raises_like(used_twice, match="Trying to backward through the graph a second time")
    raises_like(lambda m: m.autograd.grad(m.ones(2, requires_grad=True).sum(), m.tensor([1.])),
                match="One of the differentiated Tensors does not require grad")


DOUBLE = {
    "cube": lambda m, x: (x ** 3).sum(),
    "sigmoid_tanh_exp": lambda m, x: x.sigmoid().tanh().exp().sum(),
    "exp_mul": lambda m, x: (x.exp() * x).sum(),
    "tanh_sq": lambda m, x: (x.tanh() ** 2).mean(),
    "log_softplus": lambda m, x: (1 + x.exp()).log().sum(),
    "div": lambda m, x: (1 / (1 + x * x)).sum(),
    "sqrt_abs": lambda m, x: (x * x + 1).sqrt().sum(),
    "matmul": lambda m, x: (x.unsqueeze(0) @ x.unsqueeze(1) if x.dim() == 1 else x @ x.t()).sum(),
}


@pytest.mark.parametrize("name", DOUBLE)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=2), seed=st.integers(0, 99))
@settings(max_examples=10, deadline=None)
def test_double_backward(name, shape, seed):
    a = np.random.default_rng(seed).uniform(-1.5, 1.5, shape)

    def run(m):
        x = m.tensor(a, requires_grad=True)
        g, = m.autograd.grad(DOUBLE[name](m, x), x, create_graph=True)
        g2, = m.autograd.grad(g.sum(), x, retain_graph=True)
        (g * g).sum().backward()
        return g.detach(), g2, x.grad
    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t, rtol=1e-6, atol=1e-9)


def test_second_derivative_of_cube():
    for lib in (ember, torch):
        x = lib.tensor(2., requires_grad=True)
        g, = lib.autograd.grad(x ** 3, x, create_graph=True)
        g2, = lib.autograd.grad(g, x)
        assert (g.item(), g2.item(), g.requires_grad, g2.requires_grad) == (12., 12., True, False)


def test_gradient_penalty():
    def run(m):
        w = m.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        x = m.tensor([[0.5, -1.], [2., 0.25]])
        loss = (x @ w).tanh().sum()
        g, = m.autograd.grad(loss, w, create_graph=True)
        (loss + g.norm() ** 2).backward()
        return w.grad
    assert_same(run(ember), run(torch), rtol=1e-5)


def test_backward_inputs_accumulate_only_there():
    def run(m):
        x = m.tensor([1., 2.], requires_grad=True)
        y = m.tensor([3., 4.], requires_grad=True)
        (x * y).sum().backward(inputs=[x])
        only_x = (x.grad.clone(), y.grad)
        (x * y).sum().backward(inputs=y)
        h = x * 2
        (h * h).sum().backward(inputs=[h])
        return only_x, x.grad, y.grad, h.grad
    (ex, *e), (tx, *t) = run(ember), run(torch)
    assert_same(ex[0], tx[0])
    assert ex[1] is None and tx[1] is None
    for a, b in zip(e, t):
        assert_same(a, b)


def test_detach_and_requires_grad():
    for lib in (ember, torch):
        x = lib.tensor(1., requires_grad=True)
        y = x * 2
        z = y.detach()
        assert not z.requires_grad and z.grad_fn is None and z.is_leaf
        z.add_(1)                                  # shares memory and the version counter
        assert y.item() == 3 and y._version == 1
        y.detach_()
        assert not y.requires_grad and y.grad_fn is None and y.is_leaf
        t = lib.tensor([1., 2.])
        assert t.requires_grad_() is t and t.requires_grad
        assert not t.requires_grad_(False).requires_grad
    raises_like(lambda m: m.tensor([1, 2]).requires_grad_(),
                match="only Tensors of floating point dtype can require gradients")
    raises_like(lambda m: (m.ones(2, requires_grad=True) * 2).requires_grad_(False),
                match="you can only change requires_grad flags of leaf variables.")
    raises_like(lambda m: m.ones(2, requires_grad=True)[0].detach_(),
                match="Can't detach views in-place. Use detach() instead.")


def test_hooks():
    def run(m):
        out = []
        x = m.tensor([1., 2.], requires_grad=True)
        h = x.register_hook(lambda g: g * 10)         # registered before any graph exists
        (x * 2).sum().backward()
        out.append(x.grad.clone())
        h.remove()
        x.grad = None
        (x * 2).sum().backward()
        out.append(x.grad.clone())
        seen = []
        y = x * 2
        y.register_hook(lambda g: seen.append(g.clone()))
        y.register_hook(lambda g: g + 1)
        y.retain_grad()
        (y * y).sum().backward()
        out += seen + [y.grad, x.grad.clone()]
        calls = []
        w = m.tensor([1., 2.], requires_grad=True)
        w.register_hook(lambda g: calls.append(1))
        ((w * 2) + (w * 3)).sum().backward()          # a leaf used twice: one call, summed
        out.append(m.tensor(float(len(calls))))
        return out
    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t)
    raises_like(lambda m: m.ones(2).register_hook(lambda g: g),
                match="cannot register a hook on a tensor that doesn't require gradient")


def test_node_hooks():
    def run(m):
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * 3
        seen = []
        y.grad_fn.register_hook(lambda gi, go: seen.append((gi[0].clone(), go[0].clone())))
        y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
        y.sum().backward()
        return seen[0][0], seen[0][1], x.grad
    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t)


def test_grad_modes():
    def run(m):
        x = m.tensor([1., 2.], requires_grad=True)
        out = []
        with m.no_grad():
            y = x * 2
            out += [y.requires_grad, y.grad_fn is None, m.is_grad_enabled()]
            with m.enable_grad():
                out.append((x * 2).requires_grad)
            out.append((x * 2).requires_grad)
        out.append(m.is_grad_enabled())

        @m.no_grad()
        def f(a):
            return a * 2

        @m.no_grad
        def f2(a):
            return a * 2
        out += [f(x).requires_grad, f2(x).requires_grad, m.is_grad_enabled()]
        m.set_grad_enabled(False)
        out.append((x * 2).requires_grad)
        m.set_grad_enabled(True)
        out.append((x * 2).requires_grad)
        with m.set_grad_enabled(False):
            out.append((x * 2).requires_grad)
        out.append(m.is_grad_enabled())

        @m.enable_grad()
        def g(a):
            return a * 2
        with m.no_grad():
            out.append(g(x).requires_grad)

        @m.set_grad_enabled(False)
        def h(a):
            return a * 2
        out += [h(x).requires_grad, m.is_grad_enabled()]
        with m.inference_mode():
            out += [(x * 2).requires_grad, m.is_grad_enabled(), m.is_inference_mode_enabled()]
        with m.inference_mode(False):
            out += [(x * 2).requires_grad, m.is_inference_mode_enabled()]

        @m.inference_mode()
        def k(a):
            return a * 2

        @m.inference_mode
        def k2(a):
            return a * 2
        out += [k(x).requires_grad, k2(x).requires_grad, m.is_inference_mode_enabled()]
        try:
            with m.no_grad():
                raise ValueError
        except ValueError:
            pass
        out.append(m.is_grad_enabled())
        return out
    assert run(ember) == run(torch)


def test_my_relu_tutorial():
    def run(m):
        class MyReLU(m.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                ctx.save_for_backward(input)
                return input.clamp(min=0)

            @staticmethod
            def backward(ctx, grad_output):
                input, = ctx.saved_tensors
                grad_input = grad_output.clone()
                grad_input[input < 0] = 0
                return grad_input
        x = m.tensor([-1., 2., 3.], requires_grad=True)
        y = MyReLU.apply(x)
        s = (y * y).sum()
        s.backward()
        return (x.grad, type(y.grad_fn).__name__, y.grad_fn.name(), graph(s.grad_fn),
                y.requires_grad, y.is_leaf)
    (ge, *e), (gt, *t) = run(ember), run(torch)
    assert_same(ge, gt)
    assert e == t and e[0] == "MyReLUBackward"


def test_function_ctx_features():
    def run(m):
        class Scale(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, k, y):
                ctx.k = k
                ctx.save_for_backward(x, y)
                return x * k + y

            @staticmethod
            def backward(ctx, g):
                x, y = ctx.saved_tensors
                return g * ctx.k, None, g * 2 if ctx.needs_input_grad[2] else None

        class Dirty(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2

        class TwoOut(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                idx = x.argmax()
                m2 = x * 2
                ctx.mark_non_differentiable(idx, m2)
                return x * 3, idx, m2

            @staticmethod
            def backward(ctx, g, gi, gm):
                return g * 3

        class Lazy(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                return g1 * 2 if g2 is None else g1 * 2 + g2 * 3

        a = m.tensor([1., 2.], requires_grad=True)
        b = m.tensor([3., 4.])
        r = Scale.apply(a, 3, b)
        r.sum().backward()
        out = [a.grad.clone(), graph(r.grad_fn), r.grad_fn.needs_input_grad, b.grad]
        c = a * 1
        d = Dirty.apply(c)
        d.sum().backward()
        out += [d is c, c._version, type(c.grad_fn).__name__, a.grad.clone()]
        y, i, m2 = TwoOut.apply(a)
        y.sum().backward()
        out += [i.requires_grad, m2.requires_grad, y.requires_grad, a.grad.clone()]
        y1, _ = Lazy.apply(a)
        y1.sum().backward()
        out.append(a.grad)
        return out
    e, t = run(ember), run(torch)
    for a, b in zip(e, t):
        if hasattr(b, "dtype"):
            assert_same(a, b)
        else:
            assert a == b


def test_function_variants_and_errors():
    def run(m):
        class Ident(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 5

        class Modern(m.autograd.Function):
            @staticmethod
            def forward(x, k):
                return x * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.k = inputs[1]

            @staticmethod
            def backward(ctx, g):
                return g * ctx.k, None

        class Once(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 2

            @staticmethod
            @m.autograd.function.once_differentiable
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 2 * x * g

        class Square(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 2

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 2 * x * g

        class Broad(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return (x * 2).expand(2, 3)

            @staticmethod
            def backward(ctx, g):
                return g.double()

        a = m.tensor([1., 3.], requires_grad=True)
        y = Ident.apply(a)
        y.sum().backward()
        out = [y is a, a.grad.clone(), type(y.grad_fn).__name__]
        Modern.apply(a, 4.).sum().backward()
        Once.apply(a).sum().backward()
        s = Square.apply(a)
        g, = m.autograd.grad(s.sum(), a, create_graph=True)
        g.sum().backward()
        out += [a.grad.clone(), g.detach()]
        p = m.ones(2, 1, requires_grad=True)
        Broad.apply(p).sum().backward()
        out += [p.grad, Square.apply(m.ones(2)).requires_grad]
        return out
    e, t = run(ember), run(torch)
    for a, b in zip(e, t):
        if hasattr(b, "dtype"):
            assert_same(a, b)
        else:
            assert a == b

    def too_many(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2, g
        F.apply(m.ones(2, requires_grad=True)).sum().backward()
    raises_like(too_many, match="function FBackward returned an incorrect number of gradients "
                                "(expected 1, got 2)")

    def bad_shape(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return m.ones(3)
        F.apply(m.ones(2, requires_grad=True)).sum().backward()
    raises_like(bad_shape, match="Function FBackward returned an invalid gradient at index 0 - "
                                 "got [3] but expected shape compatible with [2]")

    def bad_save(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(3)
                return x
        F.apply(m.ones(2, requires_grad=True))
    raises_like(bad_save, match="save_for_backward can only save variables")


def _bad_square(m):
    class BadSquare(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x * g
    return BadSquare.apply


def test_gradcheck():
    for lib in (ember, torch):
        x = lib.tensor([[0.5, -1.], [2., 0.3], [1., 1.5]], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([[1., -0.5], [0.25, 2.]], dtype=lib.float64, requires_grad=True)
        c = lib.tensor([1., 2.], dtype=lib.float64)
        assert lib.autograd.gradcheck(lambda a, b: (a @ b).tanh(), (x, w))
        assert lib.autograd.gradgradcheck(lambda a, b: (a @ b).tanh(), (x, w))
        assert lib.autograd.gradcheck(lambda a: (a.sum(), a * c), (x[:, :2].detach()
                                                                     .requires_grad_(),))
        assert lib.autograd.gradcheck(lambda a, k: a.sigmoid() * k, (x.t(), c.unsqueeze(1)))
        assert lib.autograd.gradgradcheck(lambda a: (a ** 3).sum(), (x,))
        bad = _bad_square(lib)
        assert lib.autograd.gradcheck(bad, (x,), raise_exception=False) is False
    e_msg, t_msg = raises_like(
        lambda m: m.autograd.gradcheck(
            _bad_square(m), (m.tensor([1., 2., 3.], dtype=m.float64, requires_grad=True),)),
        match="Jacobian mismatch for output 0 with respect to input 0")
    assert e_msg == t_msg
    from ember.autograd.gradcheck import GradcheckError
    assert issubclass(GradcheckError, RuntimeError)
    raises_like(lambda m: m.autograd.gradcheck(lambda a: a * 2, (m.ones(2, dtype=m.float64),)),
                match="gradcheck expects at least one input tensor to require gradient")


@given(n=st.integers(1, 3), k=st.integers(1, 3), seed=st.integers(0, 99))
@settings(max_examples=10, deadline=None)
def test_linear_layer_grads(n, k, seed):
    rng = np.random.default_rng(seed)
    xs, ws, bs = (rng.standard_normal(s).astype(np.float32) for s in [(n, k), (2, k), (2,)])

    def run(m):
        x, w, b = m.tensor(xs), m.tensor(ws, requires_grad=True), m.tensor(bs, requires_grad=True)
        y = m.addmm(b, x, w.t())
        loss = ((y.sigmoid() - 0.5) ** 2).mean()
        loss.backward()
        return loss.detach(), w.grad, b.grad, graph(y.grad_fn)
    (*e, ge), (*t, gt) = run(ember), run(torch)
    for a, b in zip(e, t):
        assert_same(a, b, rtol=1e-5, atol=1e-6)
    assert ge == gt


# -- errors of bad calls ---------------------------------------------------------------------
MISMATCH = "mat1 and mat2 shapes cannot be multiplied (1x5 and 1x5)"
ERRORS = [
    (lambda m: m.mm(m.ones(1, 5), m.ones(1, 5)), MISMATCH),
    (lambda m: m.ones(1, 5) @ m.ones(1, 5), MISMATCH),
    (lambda m: m.matmul(m.ones(2, 3), m.ones(4)), "size mismatch"),
    (lambda m: m.ones(2, 3).view(4), "shape '[4]' is invalid for input of size 6"),
    (lambda m: m.ones(2, 3).t().view(6), "view size is not compatible with input tensor's size"),
    (lambda m: m.ones(2, 3).reshape(5), "shape '[5]' is invalid for input of size 6"),
    (lambda m: m.ones(2, 3) + m.ones(3, 2),
     "The size of tensor a (3) must match the size of tensor b (2)"),
    (lambda m: m.ones(2, 3).expand(3, 3), "The expanded size of the tensor (3) must match"),
    (lambda m: m.ones(2, 3).add_(m.ones(2, 2, 3)), "doesn't match the broadcast shape"),
    (lambda m: m.tensor([1, 2]).mean(), "mean(): could not infer output dtype. Input dtype must "
                                        "be either a floating point or complex dtype. Got: Long"),
    (lambda m: m.tensor([True]).mean(), "mean(): could not infer output dtype"),
    (lambda m: m.ones(3)[3], "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda m: m.ones(2, 3)[0, 5], "index 5 is out of bounds for dimension 1 with size 3"),
    (lambda m: m.ones(3)[m.tensor([0, 3])], "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda m: m.ones(3)[m.tensor([0., 1.])],
     "tensors used as indices must be long, int, byte or bool"),
    (lambda m: m.ones(3)[1.5], "only integers, slices"),
    (lambda m: m.ones(2, 3).sum(2),
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)]),
     "Sizes of tensors must match except in dimension 0"),
    (lambda m: m.stack([m.ones(2), m.ones(3)]), "stack expects each tensor to be equal size"),
    (lambda m: m.ones(2, dtype=m.int64).add_(1.5),
     "result type Float can't be cast to the desired output type Long"),
    (lambda m: m.ones(2, 2).mm(m.ones(2, 2, dtype=m.float64)),
     "expected m1 and m2 to have the same dtype"),
    (lambda m: m.ones(2).unsqueeze(3), "Dimension out of range"),
    (lambda m: m.ones(2, 3).permute(0), "number of dimensions in the tensor input does not match"),
    (lambda m: m.ones(3).dot(m.ones(4)), "inconsistent tensor size"),
]


@pytest.mark.parametrize("call,match", ERRORS, ids=[e[1][:40] for e in ERRORS])
def test_error_types_and_messages(call, match):
    raises_like(call, match=match)
