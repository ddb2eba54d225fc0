"""Plausible wrong answers to the exercises of 06-rnn-lstm, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole cell (see
tests/test_known_mistakes.py). At least two per exercise, including those the assignment's
issue names: gates in the wrong order, tanh missing on the cell before the output gate,
dh from the step above not added, a forget gate applied to the input."""

from known_mistakes.mistakes import edits_of, whole

edit = edits_of("06-rnn-lstm")

MISTAKES = {
    "ex1_rnn_step": {
        "no nonlinearity": edit("ex1_rnn_step", (
            "return np.tanh(x @ Wx + h_prev @ Wh + b)", "return x @ Wx + h_prev @ Wh + b")),
        "sigmoid instead of tanh": edit("ex1_rnn_step", (
            "return np.tanh(x @ Wx + h_prev @ Wh + b)", "return 1 / (1 + np.exp(-(x @ Wx + h_prev @ Wh + b)))")),
    },
    "ex2_bptt": {
        "dh from the step above not added": edit("ex2_bptt", ("dh[:, t] + dh_future", "dh[:, t]")),
        "weight gradients overwritten, not accumulated": edit("ex2_bptt", (
            "dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t", "dWx, dWh, db = dWx_t, dWh_t, db_t")),
    },
    "ex3_gates": {
        "gates in the order f, i, g, o": edit("ex3_gates", (
            "sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])", "sigmoid(a[:, H:2 * H]), sigmoid(a[:, :H])")),
        "gates in the order i, f, o, g": edit("ex3_gates", (
            "np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])", "np.tanh(a[:, 3 * H:]), sigmoid(a[:, 2 * H:3 * H])")),
        "sigmoid on the candidate": edit("ex3_gates", ("np.tanh(a[:, 2 * H:3 * H])", "sigmoid(a[:, 2 * H:3 * H])")),
    },
    "ex4_cell_update": {
        "tanh missing on the cell before the output gate": edit("ex4_cell_update", ("o * np.tanh(c)", "o * c")),
        "forget gate applied to the input": edit("ex4_cell_update", (
            "    c = f * c_prev + i * g", "    c = i * c_prev + f * g")),
        "output computed from the previous cell": edit("ex4_cell_update", ("np.tanh(c)", "np.tanh(c_prev)")),
    },
    "ex5_lstm_backward": {
        "path through h into the cell forgotten": edit("ex5_lstm_backward", (
            "dc_total = dc + dh * o * (1 - tanh_c**2)", "dc_total = dc")),
        "tanh derivative missing on the candidate": edit("ex5_lstm_backward", ("dg * (1 - g**2)", "dg")),
        "dc_prev without the forget gate": edit("ex5_lstm_backward", ("dc_total * f,", "dc_total,")),
    },
    "ex6_torch_lstm": {
        "bias in both bias_ih and bias_hh": edit("ex6_torch_lstm", (
            "lstm.bias_hh_l0.zero_()", "lstm.bias_hh_l0.copy_(torch.tensor(b))")),
        "input weights reshaped instead of transposed": edit("ex6_torch_lstm", (
            "torch.tensor(Wx.T)", "torch.tensor(Wx.reshape(Wx.shape[1], Wx.shape[0]))")),
        "bias_hh left at torch's random initialisation": edit("ex6_torch_lstm", (
            "\n        lstm.bias_hh_l0.zero_()", "")),
    },
    "ex7_gru": {
        'delegates to the library': whole("""
def gru_step(x, h_prev, Wx, Wh, bx, bh):
    return np_rnn.gru_step_forward(x, h_prev, Wx, Wh, bx, bh)[0]
"""),
        "bias of the candidate's hidden part outside the reset product": edit("ex7_gru", (
            "r * ah[:, 2 * H:]", "r * (h_prev @ Wh[:, 2 * H:]) + bh[2 * H:]")),
        "z and 1 - z swapped": edit("ex7_gru", ("(1 - z) * n + z * h_prev", "z * n + (1 - z) * h_prev")),
    },
}
