"""Plausible wrong answers to the exercises of 06-rnn-lstm, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole cell (see
tests/test_known_mistakes.py). At least two per exercise, including those the assignment's
issue names: gates in the wrong order, tanh missing on the cell before the output gate,
dh from the step above not added, a forget gate applied to the input; and those issue 25
added: a transposed W_h (the visible check's W_h is not symmetric), z and 1 - z swapped
(its z is not 1/2), the gradient dc from the next step dropped (its dc is not zero); and those issue 26 added with
its new exercises: clipping tensor by tensor or by value, a temperature that multiplies the
logits, argmax at every temperature, an exp that overflows at small temperatures, the
generator ignored, a generation loop that drops the state or feeds back the wrong character."""

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
    "ex3_clip_gradients": {
        "each tensor clipped on its own": visible(edit("ex3_clip_gradients", (
            "scale = max_norm / total_norm if total_norm > max_norm else 1.0\n    clipped = [g * scale for g in grads]",
            "clipped = [g * min(1.0, max_norm / g.norm().item()) for g in grads]")),
            hint="one common factor for all the tensors"),
        "always rescaled to max_norm, even below it": visible(edit("ex3_clip_gradients", (
            " if total_norm > max_norm else 1.0", "")),
            hint="below max_norm the gradients must be left as they are"),
        "the norm after clipping returned": visible(edit("ex3_clip_gradients", (
            "return clipped, total_norm", "return clipped, min(total_norm, max_norm)")),
            hint="return the norm before clipping"),
        "global norm as the sum of the tensors' norms": visible(edit("ex3_clip_gradients", (
            "torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).item()",
            "sum(g.double().norm() for g in grads).item()")),
            hint="every entry of every tensor taken together"),
        "clipped by value, entry by entry": visible(edit("ex3_clip_gradients", (
            "clipped = [g * scale for g in grads]", "clipped = [g.clamp(-max_norm, max_norm) for g in grads]")),
            hint="the direction of the whole gradient is kept"),
        "factor upside down": visible(edit("ex3_clip_gradients", (
            "scale = max_norm / total_norm if", "scale = total_norm / max_norm if")),
            hint="chosen so that the global norm becomes max_norm"),
    },
    "ex4_lstm_step": {
        "gates in the order f, i, g, o": visible(edit("ex4_lstm_step", (
            "i = sigmoid(a[:, :H])\n    f = sigmoid(a[:, H:2 * H])",
            "f = sigmoid(a[:, :H])\n    i = sigmoid(a[:, H:2 * H])")),
            hint="torch's order i, f, g, o"),
        "gates in the order i, f, o, g": visible(edit("ex4_lstm_step", (
            "g = np.tanh(a[:, 2 * H:3 * H])\n    o = sigmoid(a[:, 3 * H:])",
            "o = sigmoid(a[:, 2 * H:3 * H])\n    g = np.tanh(a[:, 3 * H:])")),
            hint="torch's order i, f, g, o"),
        "sigmoid on the candidate": visible(edit("ex4_lstm_step", ("g = np.tanh(a[:, 2 * H:3 * H])",
                                                                  "g = sigmoid(a[:, 2 * H:3 * H])")),
                                            hint="the candidate g, the tanh of the third"),
        "tanh on the output gate": visible(edit("ex4_lstm_step", (
            "o = sigmoid(a[:, 3 * H:])", "o = np.tanh(a[:, 3 * H:])")),
                                           hint="o the sigmoid of the fourth block"),
        "rows cut instead of columns": visible(edit("ex4_lstm_step", (
            "i = sigmoid(a[:, :H])\n    f = sigmoid(a[:, H:2 * H])\n"
            "    g = np.tanh(a[:, 2 * H:3 * H])\n    o = sigmoid(a[:, 3 * H:])",
            "i = sigmoid(a[:H])\n    f = sigmoid(a[H:2 * H])\n"
            "    g = np.tanh(a[2 * H:3 * H])\n    o = sigmoid(a[3 * H:])")),
            hint="cut its columns (axis 1) into four blocks of H, not its rows"),
        "H taken as the width of a (4H)": visible(edit("ex4_lstm_step", ("H = h_prev.shape[1]", "H = Wx.shape[1]")),
                                                  hint="has 4H columns"),
        "bias left out": visible(edit("ex4_lstm_step", ("a = x @ Wx + h_prev @ Wh + b ", "a = x @ Wx + h_prev @ Wh ")),
                                 hint="the bias b is part of a"),
        "tanh missing on the cell before the output gate": visible(edit("ex4_lstm_step", (
            "o * np.tanh(c), c", "o * c, c")),
                                                                   hint="not o * c"),
        "forget gate applied to the input": visible(edit("ex4_lstm_step", (
            "c = f * c_prev + i * g", "c = i * c_prev + f * g")),
            hint="keeps the OLD cell"),
        "output computed from the previous cell": visible(edit("ex4_lstm_step", (
            "o * np.tanh(c), c", "o * np.tanh(c_prev), c")),
                                                          hint="not o * tanh(c_prev)"),
        "(c, h) returned in place of (h, c)": visible(edit("ex4_lstm_step", ("return o * np.tanh(c), c",
                                                                            "return c, o * np.tanh(c)")),
                                                      hint="return (h, c), state first"),
        "input gate left out of the cell update": visible(edit("ex4_lstm_step", (
            "c = f * c_prev + i * g", "c = f * c_prev + g")),
            hint="writes the candidate g"),
        "tanh taken after the output gate": visible(edit("ex4_lstm_step", ("o * np.tanh(c), c", "np.tanh(o * c), c")),
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
    "ex8_sample_next": {
        "temperature multiplies the logits": visible(edit("ex8_sample_next", (
            "scaled = logits / temperature", "scaled = logits * temperature")),
            hint="divided by the temperature before the softmax"),
        "argmax at every temperature": visible(edit("ex8_sample_next", (
            "if temperature == 0:", "if temperature >= 0:")),
                                               hint="only temperature 0 is greedy"),
        "no shift before exp: overflow at small temperatures": visible(edit("ex8_sample_next", (
            "torch.exp(scaled - scaled.max(dim=1, keepdim=True).values)", "torch.exp(scaled)")),
            hint="unless you shift the logits first"),
        "the generator ignored": visible(edit("ex8_sample_next", (
            "torch.multinomial(probabilities, 1, generator=generator)", "torch.multinomial(probabilities, 1)")),
            hint="use the generator passed in"),
        "temperature 0 not handled (division by zero)": visible(edit("ex8_sample_next", (
            "    if temperature == 0:\n        return logits.argmax(dim=1)\n", "")),
            hint="temperature 0 means greedy"),
        "probabilities divided by the temperature after the softmax": visible(edit("ex8_sample_next", (
            "scaled = logits / temperature", "scaled = logits"), (
            "probabilities = weights / weights.sum(dim=1, keepdim=True)",
            "probabilities = weights / weights.sum(dim=1, keepdim=True) / temperature")),
            hint="divided by the temperature before the softmax"),
        "softmax down the rows": visible(edit("ex8_sample_next", (
            "scaled.max(dim=1, keepdim=True)", "scaled.max(dim=0, keepdim=True)"), (
            "weights.sum(dim=1, keepdim=True)", "weights.sum(dim=0, keepdim=True)")),
            hint="not down the N rows"),
        "one row drawn for every text": visible(edit("ex8_sample_next", (
            "return torch.multinomial(probabilities, 1, generator=generator)[:, 0]",
            "return torch.multinomial(probabilities[0], len(logits), replacement=True, generator=generator)")),
            hint="normalise each row on its own"),
        "an (N, 1) tensor returned": visible(edit("ex8_sample_next", (
            "generator=generator)[:, 0]", "generator=generator)")),
            hint="a tensor of shape (N,)"),
        "greedy down the columns": visible(edit("ex8_sample_next", (
            "return logits.argmax(dim=1)", "return logits.argmax(dim=0)")),
            hint="return one index per row of logits"),
        "torch's own generator seeded, the one passed in ignored": visible(edit("ex8_sample_next", (
            "torch.multinomial(probabilities, 1, generator=generator)",
            "torch.multinomial(probabilities, 1, generator=torch.manual_seed(0))")),
            hint="do not seed it, nor torch's own generator"),
    },
    "ex9_generate": {
        "state not carried": visible(edit("ex9_generate", (
            "model(torch.tensor([[code]], device=device), state)", "model(torch.tensor([[code]], device=device))")),
            hint="carry the state the model returned"),
        "the seed's last character fed back every time": visible(edit("ex9_generate", (
            "model(torch.tensor([[code]], device=device), state)",
            "model(torch.tensor([codes[-1:]], device=device), state)")),
            hint="feed the character just drawn back in"),
        "scores of the seed's first position": visible(edit("ex9_generate", (
            "sampler(logits[:, -1],", "sampler(logits[:, 0],")),
                                                      hint="sample from the logits at its LAST position"),
        "temperature not passed on": visible(edit("ex9_generate", (
            "sampler(logits[:, -1], temperature, generator)", "sampler(logits[:, -1], 1.0, generator)")),
            hint="temperature and generator on to the sampler unchanged"),
        "generator not passed on": visible(edit("ex9_generate", (
            "sampler(logits[:, -1], temperature, generator)", "sampler(logits[:, -1], temperature, None)")),
            hint="temperature and generator on to the sampler unchanged"),
        "unknown characters read as the first of alphabet": visible(edit("ex9_generate", (
            'position.get(ch, position["?"])', "position.get(ch, 0)")),
            hint="is read as '?', wherever '?' stands in alphabet"),
        "probabilities handed to the sampler": visible(edit("ex9_generate", (
            "sampler(logits[:, -1], temperature, generator)",
            "sampler(torch.softmax(logits[:, -1], dim=1), temperature, generator)")),
            hint="no softmax: the sampler applies it"),
        "stop compared with the whole string": visible(edit("ex9_generate", (
            "if alphabet[code] in stop:", "if alphabet[code] == stop:")),
            hint="one of the characters of stop"),
        "model left in training mode": visible(edit("ex9_generate", ("    model.eval()\n", "")),
                                               hint="switch the model to evaluation mode"),
        "stops before the stop character": visible(edit("ex9_generate", (
            "produced.append(alphabet[code])\n        if alphabet[code] in stop:\n            break",
            "if alphabet[code] in stop:\n            break\n        produced.append(alphabet[code])")),
            hint="keeping that character"),
        "seed left out of the result": visible(edit("ex9_generate", (
            'return seed + "".join(produced)', 'return "".join(produced)')),
                                               hint="return the seed followed by"),
        "one character too few": visible(edit("ex9_generate", (
            "for _ in range(length):", "for _ in range(length - 1):")),
                                         hint="the length characters drawn"),
    },
}
