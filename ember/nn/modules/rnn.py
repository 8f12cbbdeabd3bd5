"""Recurrent layers (torch.nn.modules.rnn): RNN (tanh/relu), LSTM, GRU over layers and
directions, and their single-step cells. Written with ember ops, so autograd runs through
every step; the input projection of a whole sequence is one matmul per layer and direction.

Gate layouts are torch's: LSTM (i, f, g, o), GRU (r, z, n); parameters are named
weight_ih_l{k}[_reverse], weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} (weight_hr_l{k} with
proj_size) and initialised U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
"""
import math
import numbers
import warnings

from ...ops.creation import zeros
from ...ops.linalg import addmm
from ...ops.shape import cat, stack
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module
from .utils import _empty

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


# -- one time step: gi is this step's input projection, x W_ih^T + b_ih (+ b_hh except for
# GRU, whose b_hn sits inside r * (.)); w_hh_t is W_hh^T ---------------------------------------
def _input_gates(x, w_ih, b_ih, b_hh, step):
    if b_ih is None:
        return F.linear(x, w_ih)
    return F.linear(x, w_ih, b_ih if step is _gru_step else b_ih + b_hh)


def _tanh_step(gi, h, w_hh_t, b_hh):
    return addmm(gi, h, w_hh_t).tanh()


def _relu_step(gi, h, w_hh_t, b_hh):
    return F.relu(addmm(gi, h, w_hh_t))


def _gru_step(gi, h, w_hh_t, b_hh):
    i_r, i_z, i_n = gi.chunk(3, -1)
    gh = addmm(b_hh, h, w_hh_t) if b_hh is not None else h.mm(w_hh_t)
    h_r, h_z, h_n = gh.chunk(3, -1)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return n + z * (h - n)


def _lstm_step(gi, state, w_hh_t, b_hh, w_hr=None):
    h, c = state
    i, f, g, o = addmm(gi, h, w_hh_t).chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


_STEPS = {"RNN_TANH": _tanh_step, "RNN_RELU": _relu_step, "GRU": _gru_step, "LSTM": _lstm_step}
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


def _rows(state, n):
    return tuple(s[:n] for s in state) if isinstance(state, tuple) else state[:n]


def _merge(new, old, n):
    """The state with its first n rows replaced by `new` (the sequences still running)."""
    if n == (old[0] if isinstance(old, tuple) else old).shape[0]:
        return new
    if isinstance(old, tuple):
        return tuple(cat([a, b[n:]]) for a, b in zip(new, old))
    return cat([new, old[n:]])


def _run_direction(step, gi_steps, state, weights, batch_sizes, reverse):
    """Run `step` over the time steps (reversed for the backward direction); with packed
    input only the first batch_sizes[t] rows take part in step t. Returns the list of
    per-step outputs (in time order) and the final state."""
    order = range(len(gi_steps) - 1, -1, -1) if reverse else range(len(gi_steps))
    outputs = [None] * len(gi_steps)
    for t in order:
        n = gi_steps[t].shape[0]
        new = step(gi_steps[t], _rows(state, n) if batch_sizes is not None else state,
                   *weights)
        state = _merge(new, state, n) if batch_sizes is not None else new
        outputs[t] = new[0] if isinstance(new, tuple) else new
    return outputs, state


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrence shared by RNN, LSTM and GRU."""

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
                     "dropout", "bidirectional", "proj_size"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        self._check_args(dropout, num_layers, bias, batch_first, input_size, hidden_size,
                         proj_size, mode)
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                shapes = [(gate_size, layer_input), (gate_size, real_hidden)]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    shapes += [(gate_size,), (gate_size,)]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    shapes.append((proj_size, hidden_size))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(_empty(shape, device, dtype)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @staticmethod
    def _check_args(dropout, num_layers, bias, batch_first, input_size, hidden_size, proj_size,
                    mode):
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or \
                not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                                  ("input_size", input_size, int),
                                  ("hidden_size", hidden_size, int)):
            if not isinstance(value, kind):
                raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                                f"{type(value).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """A no-op (no cuDNN weight buffer in ember)."""

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # -- forward ---------------------------------------------------------------------------
    def _check_input(self, input, batch_sizes):
        weight = self._flat_weights[0]
        if input.dtype != weight.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({weight.dtype}). Convert input: input.to({weight.dtype}), or "
                             f"convert model: model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError("input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def _expected_hidden(self, input, batch_sizes, size):
        batch = int(batch_sizes[0]) if batch_sizes is not None else \
            input.size(0 if self.batch_first else 1)
        return (self.num_layers * (2 if self.bidirectional else 1), batch, size)

    @staticmethod
    def _check_hidden(hx, expected, msg="Expected hidden size {}, got {}"):
        if tuple(hx.shape) != expected:
            raise RuntimeError(msg.format(expected, list(hx.size())))

    def _prepare(self, input, name):
        """Common input handling: packed / unbatched / batch_first; returns
        (x (T, B, I) or packed data, batch_sizes, sorted, unsorted, batched)."""
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_idx, unsorted_idx = input
            return data, batch_sizes._host(), sorted_idx, unsorted_idx, True
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                             + ("tensor instead" if name == "RNN" else "instead"))
        batched = input.dim() == 3
        if not batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        return input, None, None, None, batched

    def _run(self, x, state, batch_sizes):
        """The recurrence over layers and directions; `state` is (L*D, B, H) or (h, c) of
        those. Returns (output, final state) with output (T, B, D*H) or packed data."""
        step = _STEPS[self.mode]
        num_dirs = 2 if self.bidirectional else 1
        lstm = self.mode == "LSTM"
        finals = []
        for layer in range(self.num_layers):
            outs = []
            for d in range(num_dirs):
                weights = self.all_weights[layer * num_dirs + d]
                w_ih, w_hh = weights[0], weights[1]
                b_ih, b_hh = (weights[2], weights[3]) if self.bias else (None, None)
                extra = (weights[-1],) if self.proj_size > 0 else ()
                gi = _input_gates(x, w_ih, b_ih, b_hh, step)
                gi_steps = gi.split([int(b) for b in batch_sizes]) if batch_sizes is not None \
                    else gi.unbind(0)
                k = layer * num_dirs + d
                init_state = (state[0][k], state[1][k]) if lstm else state[k]
                steps, final = _run_direction(step, gi_steps, init_state,
                                              (w_hh.t(), b_hh) + extra, batch_sizes,
                                              reverse=d == 1)
                outs.append(cat(steps) if batch_sizes is not None else stack(steps))
                finals.append(final)
            x = outs[0] if num_dirs == 1 else cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        if lstm:
            return x, (stack([f[0] for f in finals]), stack([f[1] for f in finals]))
        return x, stack(finals)

    def _forward(self, input, hx, name):
        orig = input
        x, batch_sizes, sorted_idx, unsorted_idx, batched = self._prepare(input, name)
        lstm = self.mode == "LSTM"
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if hx is None:
            shape = self._expected_hidden(x, batch_sizes, real_hidden)
            h0 = zeros(shape, dtype=x.dtype, device=x.device)
            hx = (h0, zeros(shape[:2] + (self.hidden_size,), dtype=x.dtype,
                            device=x.device)) if lstm else h0
        else:
            hx = self._adapt_hidden(hx, batched, batch_sizes is not None)
        self._check_input(x, batch_sizes)
        if lstm:
            self._check_hidden(hx[0], self._expected_hidden(x, batch_sizes, real_hidden),
                               "Expected hidden[0] size {}, got {}")
            self._check_hidden(hx[1], self._expected_hidden(x, batch_sizes, self.hidden_size),
                               "Expected hidden[1] size {}, got {}")
        else:
            self._check_hidden(hx, self._expected_hidden(x, batch_sizes, self.hidden_size))
        if sorted_idx is not None:
            hx = _permute(hx, sorted_idx)
        if batch_sizes is None and self.batch_first:
            x = x.transpose(0, 1)
        output, hidden = self._run(x, hx, batch_sizes)
        if isinstance(orig, PackedSequence):
            return (PackedSequence(output, orig.batch_sizes, sorted_idx, unsorted_idx),
                    _permute(hidden, unsorted_idx))
        if self.batch_first:
            output = output.transpose(0, 1)
        if not batched:
            output = output.squeeze(0 if self.batch_first else 1)
            hidden = tuple(h.squeeze(1) for h in hidden) if lstm else hidden.squeeze(1)
        return output, hidden

    def _adapt_hidden(self, hx, batched, packed):
        """Check the rank of a user-given hx and add the batch dim for unbatched input."""
        if self.mode == "LSTM":
            d0, d1 = hx[0].dim(), hx[1].dim()
            if packed or batched:
                if not packed and (d0 != 3 or d1 != 3):
                    raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but "
                                       f"got ({d0}-D, {d1}-D) tensors")
                return hx
            if d0 != 2 or d1 != 2:
                raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but "
                                   f"got ({d0}-D, {d1}-D) tensors")
            return hx[0].unsqueeze(1), hx[1].unsqueeze(1)
        if packed:
            return hx
        if batched:
            if hx.dim() != 3:
                raise RuntimeError("For batched 3-D input, hx should also be 3-D but got "
                                   f"{hx.dim()}-D tensor")
            return hx
        if hx.dim() != 2:
            raise RuntimeError("For unbatched 2-D input, hx should also be 2-D but got "
                               f"{hx.dim()}-D tensor")
        return hx.unsqueeze(1)


def _permute(hx, permutation):
    if permutation is None:
        return hx
    if isinstance(hx, tuple):
        return tuple(h.index_select(1, permutation) for h in hx)
    return hx.index_select(1, permutation)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        """(output, h_n)."""
        return self._forward(input, hx, "RNN")


class LSTM(RNNBase):
    """Long short-term memory; returns (output, (h_n, c_n))."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward(input, hx, "LSTM")


class GRU(RNNBase):
    """Gated recurrent unit; returns (output, h_n)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward(input, hx, "GRU")


class RNNCellBase(Module):
    """weight_ih (gates*hidden, input), weight_hh (gates*hidden, hidden), biases; torch's
    uniform initialisation."""

    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(_empty((num_chunks * hidden_size, input_size), device, dtype))
        self.weight_hh = Parameter(_empty((num_chunks * hidden_size, hidden_size), device,
                                          dtype))
        if bias:
            self.bias_ih = Parameter(_empty(num_chunks * hidden_size, device, dtype))
            self.bias_hh = Parameter(_empty(num_chunks * hidden_size, device, dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _cell(self, name, step, input, hx, lstm=False):
        """Check ranks, add the batch dim for unbatched input, run one step."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        states = hx if lstm and hx is not None else (hx,)
        for i, h in enumerate(states):
            if h is not None and h.dim() not in (1, 2):
                what = f"hx[{i}]" if lstm else "hidden"
                raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {h.dim()}D "
                                 "instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            h0 = zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            hx = (h0, h0) if lstm else h0
        elif not batched:
            hx = tuple(h.unsqueeze(0) for h in hx) if lstm else hx.unsqueeze(0)
        gi = _input_gates(input, self.weight_ih, self.bias_ih, self.bias_hh, step)
        out = step(gi, hx, self.weight_hh.t(), self.bias_hh)
        if not batched:
            out = tuple(o.squeeze(0) for o in out) if lstm else out.squeeze(0)
        return out


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity == "tanh":
            step = _tanh_step
        elif self.nonlinearity == "relu":
            step = _relu_step
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return self._cell("RNNCell", step, input, hx)


class LSTMCell(RNNCellBase):
    """One LSTM step; hx is (h, c) and the result (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        return self._cell("LSTMCell", _lstm_step, input, hx, lstm=True)


class GRUCell(RNNCellBase):
    """One GRU step."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        return self._cell("GRUCell", _gru_step, input, hx)
