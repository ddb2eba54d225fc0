"""Plausible wrong answers to the exercises of 06-rnn-lstm, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole cell (see
tests/test_known_mistakes.py). At least two per exercise, including those the assignment's
issue names: gates in the wrong order, tanh missing on the cell before the output gate,
dh from the step above not added, a forget gate applied to the input; and those issue 25
added: a transposed W_h (the visible check's W_h is not symmetric), z and 1 - z swapped
(its z is not 1/2), the gradient dc from the next step dropped (its dc is not zero)."""

from known_mistakes.mistakes import edits_of, hidden_only, visible, whole

edit = edits_of("06-rnn-lstm")

MISTAKES = {
    "ex1_rnn_step": {
        "no nonlinearity": visible(edit("ex1_rnn_step", (
            "return np.tanh(x @ Wx + h_prev @ Wh + b)", "return x @ Wx + h_prev @ Wh + b")),
            hint="the step is tanh(x @ Wx + b)"),
        "sigmoid instead of tanh": visible(edit("ex1_rnn_step", (
            "return np.tanh(x @ Wx + h_prev @ Wh + b)", "return 1 / (1 + np.exp(-(x @ Wx + h_prev @ Wh + b)))")),
            hint="the step is tanh(x @ Wx + b)"),
        "bias added outside the tanh": visible(edit("ex1_rnn_step", (
            "return np.tanh(x @ Wx + h_prev @ Wh + b)", "return np.tanh(x @ Wx + h_prev @ Wh) + b")),
            hint="the bias inside the tanh"),
        "W_h transposed": visible(edit("ex1_rnn_step", (
            "np.tanh(x @ Wx + h_prev @ Wh + b)", "np.tanh(x @ Wx + h_prev @ Wh.T + b)")),
                                  hint="not h_prev @ Wh.T"),
    },
    "ex2_bptt": {
        "dh from the step above not added": visible(edit("ex2_bptt", ("dh[:, t] + dh_future", "dh[:, t]")),
                                                    hint="gets dh[:, t] + the dh_prev of step t + 1"),
        "weight gradients overwritten, not accumulated": visible(edit("ex2_bptt", (
            "dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t", "dWx, dWh, db = dWx_t, dWh_t, db_t")),
            hint="weight gradients add up over the steps"),
        "loop forwards in time": visible(edit("ex2_bptt", ("reversed(range(T))", "range(T)")),
                                         hint="for t = T - 1 down to 0"),
        "step 0 left out of the loop": visible(edit("ex2_bptt", ("reversed(range(T))", "range(T - 1, 0, -1)")),
                                               hint="for t = T - 1 down to 0"),
        "the future's gradient added after the step's backward pass": visible(edit("ex2_bptt", (
            "dx[:, t], dh_future, dWx_t, dWh_t, db_t = np_rnn.rnn_step_backward(dh[:, t] + dh_future, cache[t])",
            "dx[:, t], dh_step, dWx_t, dWh_t, db_t = np_rnn.rnn_step_backward(dh[:, t], cache[t])\n"
            "        dh_future = dh_future + dh_step")),
            hint="gets dh[:, t] + the dh_prev of step t + 1"),
    },
    "ex3_gates": {
        "gates in the order f, i, g, o": visible(edit("ex3_gates", (
            "sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])", "sigmoid(a[:, H:2 * H]), sigmoid(a[:, :H])")),
            hint="torch's order is i, f, g, o"),
        "gates in the order i, f, o, g": visible(edit("ex3_gates", (
            "np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])", "np.tanh(a[:, 3 * H:]), sigmoid(a[:, 2 * H:3 * H])")),
            hint="torch's order is i, f, g, o"),
        "sigmoid on the candidate": visible(edit("ex3_gates", (
            "np.tanh(a[:, 2 * H:3 * H])", "sigmoid(a[:, 2 * H:3 * H])")),
            hint="the candidate g uses tanh"),
        "tanh on the output gate": visible(edit("ex3_gates", ("sigmoid(a[:, 3 * H:])", "np.tanh(a[:, 3 * H:])")),
                                           hint="the three gates the sigmoid"),
        "rows cut instead of columns": visible(edit("ex3_gates", (
            "sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])",
            "sigmoid(a[:H]), sigmoid(a[H:2 * H]), np.tanh(a[2 * H:3 * H]), sigmoid(a[3 * H:])")),
            hint="cut the columns of a (axis 1) into four blocks, not its rows"),
        "H from len(a), the batch size": visible(edit("ex3_gates", ("H = a.shape[1] // 4", "H = len(a) // 4")),
                                                 hint="H = a.shape[1] // 4"),
    },
    "ex4_cell_update": {
        "tanh missing on the cell before the output gate": visible(edit("ex4_cell_update", ("o * np.tanh(c)", "o * c")),
                                                                   hint="not o * c"),
        "forget gate applied to the input": visible(edit("ex4_cell_update", (
            "    c = f * c_prev + i * g", "    c = i * c_prev + f * g")),
            hint="f keeps the OLD cell"),
        "output computed from the previous cell": visible(edit("ex4_cell_update", ("np.tanh(c)", "np.tanh(c_prev)")),
                                                          hint="not o * tanh(c_prev)"),
        "(h, c) returned in place of (c, h)": visible(edit("ex4_cell_update", ("return c, o * np.tanh(c)",
                                                                              "return o * np.tanh(c), c")),
                                                      hint="return (c, h), cell first"),
        "input gate left out of the cell update": visible(edit("ex4_cell_update", (
            "    c = f * c_prev + i * g", "    c = f * c_prev + g")),
            hint="i writes the candidate"),
        "tanh taken after the output gate": visible(edit("ex4_cell_update", ("o * np.tanh(c)", "np.tanh(o * c)")),
                                                    hint="not tanh(o * c)"),
    },
    "ex5_lstm_backward": {
        "path through h into the cell forgotten": visible(edit("ex5_lstm_backward", (
            "dc_total = dc + dh * o * (1 - tanh_c**2)", "dc_total = dc")),
            hint="c_t still reaches the loss through h_t = o * tanh(c_t)"),
        "tanh derivative missing on the candidate": visible(edit("ex5_lstm_backward", ("dg * (1 - g**2)", "dg")),
                                                            hint="through each gate's own nonlinearity"),
        "dc_prev without the forget gate": visible(edit("ex5_lstm_backward", ("dc_total * f,", "dc_total,")),
                                                   hint="through its product with the forget gate f"),
        "dc from the next step dropped": visible(edit("ex5_lstm_backward", (
            "dc_total = dc + dh * o * (1 - tanh_c**2)", "dc_total = dh * o * (1 - tanh_c**2)")),
            hint="the sum of what both send back"),
        "di and dg swapped": visible(edit("ex5_lstm_backward", (
            "di, df, dg = dh * tanh_c, dc_total * g, dc_total * c_prev, dc_total * i",
            "di, df, dg = dh * tanh_c, dc_total * i, dc_total * c_prev, dc_total * g")),
            hint="times that partner"),
        "db summed over the wrong axis": visible(edit("ex5_lstm_backward", ("da.sum(axis=0)", "da.sum(axis=1)")),
                                                 hint="db is summed over the batch, axis 0"),
        "dWx without the transpose of x": visible(edit("ex5_lstm_backward", ("x.T @ da", "da.T @ x")),
                                                  hint="a gradient has the shape of its variable"),
    },
    "ex6_torch_lstm": {
        "bias in both bias_ih and bias_hh": visible(edit("ex6_torch_lstm", (
            "lstm.bias_hh_l0.zero_()", "lstm.bias_hh_l0.copy_(torch.tensor(b))")),
            hint="their sum must be b"),
        "input weights reshaped instead of transposed": visible(edit("ex6_torch_lstm", (
            "torch.tensor(Wx.T)", "torch.tensor(Wx.reshape(Wx.shape[1], Wx.shape[0]))")),
            hint="nn.LSTM stores the transpose"),
        "bias_hh left at torch's random initialisation": visible(edit("ex6_torch_lstm", (
            "\n        lstm.bias_hh_l0.zero_()", "")),
            hint="torch starts both at random values"),
        "recurrent weights reshaped instead of transposed": visible(edit("ex6_torch_lstm", (
            "torch.tensor(Wh.T)", "torch.tensor(Wh.reshape(Wh.shape[1], Wh.shape[0]))")),
            hint="transposed, not reshaped"),
        "gate blocks reordered to i, f, o, g": visible(edit("ex6_torch_lstm", (
            "    with torch.no_grad():",
            "    order = np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]  # i, f, o, g\n"
            "    Wx, Wh, b = Wx[:, order], Wh[:, order], b[order]\n"
            "    with torch.no_grad():")),
            hint="its gate blocks already in our order i, f, g, o"),
    },
    "ex7_gru": {
        'delegates to the library': hidden_only(whole("""
def gru_step(x, h_prev, Wx, Wh, bx, bh):
    return np_rnn.gru_step_forward(x, h_prev, Wx, Wh, bx, bh)[0]
"""), why="delegation: the library's GRU computes the right values, so no check run in the student's notebook can "
          "tell; grading's shortcut check and sealed reference take the points"),
        "bias of the candidate's hidden part outside the reset product": visible(edit("ex7_gru", (
            "r * ah[:, 2 * H:]", "r * (h_prev @ Wh[:, 2 * H:]) + bh[2 * H:]")),
            hint="r * (h Wh_n + bh_n)"),
        "z and 1 - z swapped": visible(edit("ex7_gru", ("(1 - z) * n + z * h_prev", "z * n + (1 - z) * h_prev")),
                                       hint="z = 1 keeps the old state"),
        "gates read in the order z, r, n": visible(edit("ex7_gru", (
            "r = sigmoid(ax[:, :H] + ah[:, :H])\n    z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])",
            "z = sigmoid(ax[:, :H] + ah[:, :H])\n    r = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])")),
            hint="z from the second block (order r, z, n)"),
        "reset gate left out of the candidate": visible(edit("ex7_gru", ("r * ah[:, 2 * H:]", "ah[:, 2 * H:]")),
                                                        hint="r * (h Wh_n + bh_n)"),
        "reset gate applied to h_prev before the product (Cho et al.'s form, not torch's)": visible(edit("ex7_gru", (
            "r * ah[:, 2 * H:]", "(r * h_prev) @ Wh[:, 2 * H:] + bh[2 * H:]")),
            hint="r * (h Wh_n + bh_n)"),
        "update gate in the candidate in place of the reset gate": visible(edit("ex7_gru", (
            "r * ah[:, 2 * H:]", "z * ah[:, 2 * H:]")),
            hint="r (first block) scales the hidden part of the candidate n"),
    },
}
