"""Plausible wrong answers to the exercises of 06-rnn-lstm, as whole answer cells (see
tests/test_known_mistakes.py). At least two per exercise, including those the assignment's
issue names: gates in the wrong order, tanh missing on the cell before the output gate,
dh from the step above not added, a forget gate applied to the input."""

_BPTT = '''
def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx, dWh, db = 0.0, 0.0, 0.0
    dh_future = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t], dh_future, dWx_t, dWh_t, db_t = np_rnn.rnn_step_backward(UPSTREAM, cache[t])
        ACCUMULATE
    return dx, dh_future, dWx, dWh, db
'''


def _bptt(upstream="dh[:, t] + dh_future", accumulate="dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t"):
    return _BPTT.replace("UPSTREAM", upstream).replace("ACCUMULATE", accumulate)


_GATES = '''
def lstm_gates(a):
    H = a.shape[1] // 4
    first, second, third, fourth = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    return RESULT
'''


def _gates(result):
    return _GATES.replace("RESULT", result)


_CELL = '''
def lstm_cell_update(i, f, g, o, c_prev):
    c = CELL
    return c, OUTPUT
'''


def _cell(cell="f * c_prev + i * g", output="o * np.tanh(c)"):
    return _CELL.replace("CELL", cell).replace("OUTPUT", output)


_LSTM_BACKWARD = '''
def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c = cache
    dc_total = DC_TOTAL
    do, di, df, dg = dh * tanh_c, dc_total * g, dc_total * c_prev, dc_total * i
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), DG, do * o * (1 - o)], axis=1)
    return da @ Wx.T, da @ Wh.T, DC_PREV, x.T @ da, h_prev.T @ da, da.sum(axis=0)
'''


def _lstm_backward(dc_total="dc + dh * o * (1 - tanh_c**2)", dg="dg * (1 - g**2)", dc_prev="dc_total * f"):
    return _LSTM_BACKWARD.replace("DC_TOTAL", dc_total).replace("DG", dg).replace("DC_PREV", dc_prev)


_TORCH = '''
def to_torch_lstm(Wx, Wh, b):
    D, H = Wx.shape[0], Wh.shape[0]
    lstm = nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.tensor(WIH))
        lstm.weight_hh_l0.copy_(torch.tensor(Wh.T))
        lstm.bias_ih_l0.copy_(torch.tensor(b))
        BIAS_HH
    return lstm
'''


def _torch(wih="Wx.T", bias_hh="lstm.bias_hh_l0.zero_()"):
    return _TORCH.replace("WIH", wih).replace("BIAS_HH", bias_hh)


_GRU = '''
def gru_step(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    ax, ah = x @ Wx + bx, h_prev @ Wh + bh
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
    n = CANDIDATE
    return UPDATE
'''


def _gru(candidate="np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])", update="(1 - z) * n + z * h_prev"):
    return _GRU.replace("CANDIDATE", candidate).replace("UPDATE", update)


MISTAKES = {
    "ex1_rnn_step": {
        "no nonlinearity": '''
def rnn_step(x, h_prev, Wx, Wh, b):
    return x @ Wx + h_prev @ Wh + b
''',
        "sigmoid instead of tanh": '''
def rnn_step(x, h_prev, Wx, Wh, b):
    return 1 / (1 + np.exp(-(x @ Wx + h_prev @ Wh + b)))
''',
    },
    "ex2_bptt": {
        "dh from the step above not added": _bptt(upstream="dh[:, t]"),
        "weight gradients overwritten, not accumulated": _bptt(accumulate="dWx, dWh, db = dWx_t, dWh_t, db_t"),
    },
    "ex3_gates": {
        "gates in the order f, i, g, o": _gates("(sigmoid(second), sigmoid(first), np.tanh(third), sigmoid(fourth))"),
        "gates in the order i, f, o, g": _gates("(sigmoid(first), sigmoid(second), np.tanh(fourth), sigmoid(third))"),
        "sigmoid on the candidate": _gates("(sigmoid(first), sigmoid(second), sigmoid(third), sigmoid(fourth))"),
    },
    "ex4_cell_update": {
        "tanh missing on the cell before the output gate": _cell(output="o * c"),
        "forget gate applied to the input": _cell(cell="i * c_prev + f * g"),
        "output computed from the previous cell": _cell(output="o * np.tanh(c_prev)"),
    },
    "ex5_lstm_backward": {
        "path through h into the cell forgotten": _lstm_backward(dc_total="dc"),
        "tanh derivative missing on the candidate": _lstm_backward(dg="dg"),
        "dc_prev without the forget gate": _lstm_backward(dc_prev="dc_total"),
    },
    "ex6_torch_lstm": {
        "bias in both bias_ih and bias_hh": _torch(bias_hh="lstm.bias_hh_l0.copy_(torch.tensor(b))"),
        "input weights reshaped instead of transposed": _torch(wih="Wx.reshape(Wx.shape[1], Wx.shape[0])"),
        "bias_hh left at torch's random initialisation": _torch(bias_hh="pass"),
    },
    "ex7_gru": {
        'delegates to the library': """
def gru_step(x, h_prev, Wx, Wh, bx, bh):
    return np_rnn.gru_step_forward(x, h_prev, Wx, Wh, bx, bh)[0]
""",
        "bias of the candidate's hidden part outside the reset product": _gru(
            candidate="np.tanh(ax[:, 2 * H:] + r * (h_prev @ Wh[:, 2 * H:]) + bh[2 * H:])"),
        "z and 1 - z swapped": _gru(update="z * n + (1 - z) * h_prev"),
    },
}
