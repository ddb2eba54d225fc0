"""Plausible wrong answers to the exercises of 07-embeddings, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole cell (see
tests/test_known_mistakes.py). At least two per exercise, including those the assignment's
issue names: the window counted on one side only, the query words not excluded from the
analogy's answer, the log of zero in PPMI, the sigmoid's sign flipped for noise words. Each is
tagged with how the student hears of it before grading (issue 25): ``visible`` with the words
its failing visible check prints, or ``hidden_only`` with the reason no visible check can."""

from known_mistakes.mistakes import edits_of, hidden_only, visible, whole

edit = edits_of("07-embeddings")

MISTAKES = {
    "ex1_cooccurrence": {
        "window counted on one side only": visible(
            edit("ex1_cooccurrence", ("max(0, t - window)", "t + 1")),
            hint="count the neighbours on BOTH sides"),
        "windows cross sentence boundaries": visible(
            edit("ex1_cooccurrence", (
                "for sentence in sentences:",
                "for sentence in [[token for sentence in sentences for token in sentence]]:")),
            hint="windows stay inside a sentence"),
        "a position counted as its own neighbour": visible(
            edit("ex1_cooccurrence", ("if u != t and ", "if ")),
            hint="a position is never its own neighbour"),
        "window one short on the right": visible(
            edit("ex1_cooccurrence", ("t + window + 1)", "t + window)")),
            hint="range(start, stop) stops one short of stop"),
        "window start not clipped (a negative index wraps round)": visible(
            edit("ex1_cooccurrence", ("max(0, t - window)", "t - window")),
            hint="a negative index such as sentence[-1] wraps round"),
        "the same word skipped instead of the same position": visible(
            edit("ex1_cooccurrence", ("if u != t and ", "if sentence[u] != word and ")),
            hint="compare positions, not words"),
        "words outside vocab removed before the windows": visible(
            edit("ex1_cooccurrence", (
                "for sentence in sentences:",
                "for sentence in [[token for token in sentence if token in index] for sentence in sentences]:")),
            hint="keeps its place in the sentence"),
        "window end not clipped (IndexError past the sentence's end)": visible(
            edit("ex1_cooccurrence", ("min(len(sentence), t + window + 1)", "t + window + 1")),
            hint="clip the window at both ends of the sentence"),
        "slices with a negative end when the window is longer than the sentence": visible(
            whole("""
def cooccurrence_matrix(sentences, *, window=1, vocab=None):
    if vocab is None:
        vocab = list(dict.fromkeys(token for sentence in sentences for token in sentence))
    index = {word: i for i, word in enumerate(vocab)}
    M = np.zeros((len(vocab), len(vocab)))
    for sentence in sentences:
        ids = np.array([index.get(word, -1) for word in sentence], dtype=np.int64)
        for d in range(1, window + 1):
            left, right = ids[:len(ids) - d], ids[d:]
            both = (left >= 0) & (right >= 0)
            np.add.at(M, (left[both], right[both]), 1)
            np.add.at(M, (right[both], left[both]), 1)
    return M, vocab
"""),
            hint="a window may be longer than the sentence"),
    },
    "ex2_ppmi": {
        "log of zero (nan for a word never seen)": visible(
            edit("ex2_ppmi", (
                ("    out = np.zeros_like(M)\n"
                 "    seen = M > 0\n"
                 "    out[seen] = np.maximum(np.log(M[seen] * total / (row * column)[seen]), 0.0)\n"
                 "    return out"),
                "    return np.maximum(np.log(M * total / (row * column)), 0.0)")),
            hint="compute log(...) only where M > 0"),
        "negative PMI kept": visible(
            edit("ex2_ppmi", (
                "np.maximum(np.log(M[seen] * total / (row * column)[seen]), 0.0)",
                "np.log(M[seen] * total / (row * column)[seen])")),
            hint="keeps only the positive part of PMI"),
        "counts instead of probabilities": visible(
            edit("ex2_ppmi", ("M[seen] * total /", "M[seen] /")),
            hint="scaling every count changes nothing"),
        "log base 2 instead of the natural log": visible(
            edit("ex2_ppmi", ("np.maximum(np.log(M[seen]", "np.maximum(np.log2(M[seen]")),
            hint="PMI takes the natural log (np.log)"),
        "p(j) from the row sums (right only for a symmetric M)": visible(
            edit("ex2_ppmi", ("column = M.sum(axis=0, keepdims=True)", "column = M.sum(axis=1, keepdims=True).T")),
            hint="p(j) comes from the sum of COLUMN j (axis=0)"),
    },
    "ex3_cosine": {
        "divided by one length only": visible(
            edit("ex3_cosine", ("sims = unit_a @ unit_b.T", "sims = unit_a @ B.T")),
            hint="divide the dot product by BOTH lengths"),
        "rows normalised along the wrong axis": visible(
            edit("ex3_cosine",
                 ("np.linalg.norm(A, axis=1,", "np.linalg.norm(A, axis=0,"),
                 ("np.linalg.norm(B, axis=1,", "np.linalg.norm(B, axis=0,")),
            hint="normalise each ROW (axis=1)"),
        "zero vectors give nan": visible(
            edit("ex3_cosine",
                 ("np.divide(A, norm_a, out=np.zeros_like(A), where=norm_a > 0)", "A / norm_a"),
                 ("np.divide(B, norm_b, out=np.zeros_like(B), where=norm_b > 0)", "B / norm_b")),
            hint="0 / 0 is nan"),
        "norms without keepdims (each column divided by one row's norm)": visible(
            edit("ex3_cosine",
                 ("np.linalg.norm(A, axis=1, keepdims=True)", "np.linalg.norm(A, axis=1)"),
                 ("np.linalg.norm(B, axis=1, keepdims=True)", "np.linalg.norm(B, axis=1)")),
            hint="divide each row by ITS OWN length"),
    },
    "ex4_analogy": {
        "query words not excluded from the answer": visible(
            edit("ex4_analogy", (
                ("    if exclude_inputs:\n"
                 "        scores[[index[a], index[b], index[c]]] = -np.inf\n"), "")),
            hint="the question words a, b and c are never answers"),
        "vectors not scaled to unit length (the notes' formula on raw vectors)": visible(
            edit("ex4_analogy", (
                "unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)", "unit = vectors")),
            hint="scale every row of `vectors` to unit length"),
        "a - b + c instead of b - a + c": visible(
            edit("ex4_analogy", ("unit[index[b]] - unit[index[a]]", "unit[index[a]] - unit[index[b]]")),
            hint="the query is w_b - w_a + w_c"),
        "question words scored 0 instead of -inf": visible(
            edit("ex4_analogy", ("scores[[index[a], index[b], index[c]]] = -np.inf",
                                 "scores[[index[a], index[b], index[c]]] = 0.0")),
            hint="so 0 is not low enough"),
        "exclude_inputs ignored (question words always excluded)": visible(
            edit("ex4_analogy", (
                ("    if exclude_inputs:\n"
                 "        scores[[index[a], index[b], index[c]]] = -np.inf\n"),
                "    scores[[index[a], index[b], index[c]]] = -np.inf\n")),
            hint="with exclude_inputs=False the question words are candidates too"),
        "the index of the answer returned instead of the word": visible(
            edit("ex4_analogy", ("return vocab[int(np.argmax(scores))]", "return int(np.argmax(scores))")),
            hint="return the word itself"),
    },
    "ex5_negative_sampling": {
        "sigmoid sign flipped for the noise words": visible(
            edit("ex5_negative_sampling",
                 ("np.logaddexp(0, neg)", "np.logaddexp(0, -neg)"),
                 ("g_neg = 0.5 * (1 + np.tanh(neg / 2))", "g_neg = 0.5 * (1 + np.tanh(neg / 2)) - 1")),
            hint="the noise words enter as log sigmoid(MINUS their score)"),
        "dv without the noise words' sum": visible(
            edit("ex5_negative_sampling", (' + np.einsum("nk,nkd->nd", g_neg, u_neg)', "")),
            hint="dv collects the true word's term AND the sum over the K noise words"),
        "log(sigmoid) computed naively (overflows at large scores)": visible(
            edit("ex5_negative_sampling", (
                "np.logaddexp(0, -pos).sum() + np.logaddexp(0, neg).sum()",
                "-np.log(1 / (1 + np.exp(-pos))).sum() - np.log(1 / (1 + np.exp(neg))).sum()")),
            hint="compute -log(sigmoid(x)) as np.logaddexp(0, -x)"),
        "delegates to the library": hidden_only(
            whole("""
def negative_sampling_loss(v, u_pos, u_neg):
    return np_emb.negative_sampling_loss(v, u_pos, u_neg)
"""),
            why="delegation to the library: in the notebook the reference answers for the student; grading "
                "seals it and the shortcut check refuses the call"),
        "loss averaged over the batch instead of summed": visible(
            edit("ex5_negative_sampling", (
                "np.logaddexp(0, -pos).sum() + np.logaddexp(0, neg).sum()",
                "np.logaddexp(0, -pos).mean() + np.logaddexp(0, neg).mean()")),
            hint="sum, not mean"),
        "du_pos with the sign of 1 - sigmoid": visible(
            edit("ex5_negative_sampling", ("du_pos = g_pos[:, None] * v", "du_pos = -g_pos[:, None] * v")),
            hint="mind the minus sign in front of log"),
        "du_neg without the inner minus sign of sigmoid(-s)": visible(
            edit("ex5_negative_sampling", ("du_neg = g_neg[:, :, None] * v[:, None, :]",
                                           "du_neg = -g_neg[:, :, None] * v[:, None, :]")),
            hint="mind that inner minus sign"),
        "the noise words' derivative taken at +s (1 - sigmoid(s) for sigmoid(s))": visible(
            edit("ex5_negative_sampling", ("g_neg = 0.5 * (1 + np.tanh(neg / 2))",
                                           "g_neg = 1 - 0.5 * (1 + np.tanh(neg / 2))")),
            hint="d/dx log sigmoid(x) = 1 - sigmoid(x) at x = -s"),
        "scores squeezed (the batch axis lost when N = 1)": visible(
            edit("ex5_negative_sampling", ('neg = np.einsum("nkd,nd->nk", u_neg, v)',
                                           "neg = (u_neg @ v[:, :, None]).squeeze()")),
            hint="np.squeeze (or .squeeze()) drops the batch axis"),
    },
    "ex6_subsample": {
        "the paper's sqrt(t / f) taken as the keep probability": visible(
            edit("ex6_subsample", (
                "np.minimum((np.sqrt(f / sample) + 1) * sample / f, 1.0)", "np.minimum(np.sqrt(sample / f), 1.0)")),
            hint="not the paper's sqrt(t / f)"),
        "raw counts instead of frequencies": visible(
            edit("ex6_subsample", ("f = counts / counts.sum()", "f = counts")),
            hint="the word's share of all tokens"),
        "capped with np.maximum (every token kept)": visible(
            edit("ex6_subsample", ("np.minimum(", "np.maximum(")),
            hint="cap p_keep at 1 with the smaller of the two (np.minimum)"),
        "the tokens to drop marked instead of those to keep": visible(
            edit("ex6_subsample", ("rng.random(len(ids)) < p_keep[ids]", "rng.random(len(ids)) >= p_keep[ids]")),
            hint="which tokens to KEEP"),
        "one draw per word, not per occurrence": visible(
            edit("ex6_subsample", ("rng.random(len(ids)) < p_keep[ids]", "(rng.random(len(counts)) < p_keep)[ids]")),
            hint="draw one number per occurrence"),
        "drawn from np.random, not from the rng given": visible(
            edit("ex6_subsample", ("rng.random(len(ids))", "np.random.random(len(ids))")),
            hint="draw with the rng passed in"),
    },
    "ex7_skipgram_epoch": {
        "fancy-index update: a repeated centre row moves once": visible(
            edit("ex7_skipgram_epoch", ("np.add.at(W_in, c, -rate * dv)", "W_in[c] -= rate * dv")),
            hint="np.add.at(W, rows, ...) adds them all"),
        "fancy-index update of the output rows": visible(
            edit("ex7_skipgram_epoch", ("np.add.at(W_out, o, -rate * du_pos)", "W_out[o] -= rate * du_pos"),
                 ("np.add.at(W_out, neg, -rate * du_neg)", "W_out[neg] -= rate * du_neg")),
            hint="each with np.add.at"),
        "the noise words' output vectors never move": visible(
            edit("ex7_skipgram_epoch", ("np.add.at(W_out, neg, -rate * du_neg)", "pass")),
            hint="AND of the noise words"),
        "gradients averaged over the batch instead of summed": visible(
            edit("ex7_skipgram_epoch", ("-rate * dv)", "-rate * dv / len(batch))"),
                 ("-rate * du_pos)", "-rate * du_pos / len(batch))"),
                 ("-rate * du_neg)", "-rate * du_neg / len(batch))")),
            hint="the SUM of its per-pair gradients"),
        "noise from the plain unigram distribution (no 3/4 power)": visible(
            edit("ex7_skipgram_epoch", ("dtype=float) ** 0.75", "dtype=float)")),
            hint="counts ** 0.75 normalised"),
        "noise words drawn uniformly": visible(
            edit("ex7_skipgram_epoch", ("rng.choice(len(noise), size=(len(batch), negative), p=noise)",
                                        "rng.integers(len(noise), size=(len(batch), negative))")),
            hint="the unigram distribution to the power 3/4"),
        "the pairs never shuffled": visible(
            edit("ex7_skipgram_epoch", ("order = rng.permutation(len(centres))", "order = np.arange(len(centres))")),
            hint="draw a fresh order of the pairs with rng.permutation"),
        "centres and contexts shuffled separately": visible(
            edit("ex7_skipgram_epoch", ("c, o = centres[batch], contexts[batch]",
                                        "c, o = centres[batch], contexts[rng.permutation(len(order))[:len(batch)]]")),
            hint="shuffle centres and contexts with the SAME order"),
        "the last, shorter batch dropped": visible(
            edit("ex7_skipgram_epoch", ("range(0, len(order), batch_size)",
                                        "range(0, len(order) - batch_size + 1, batch_size)")),
            hint="every pair once per epoch"),
        "the rate never falls to lr_end": visible(
            edit("ex7_skipgram_epoch", ("rate = lr + (lr_end - lr) * start / len(order)", "rate = lr")),
            hint="the rate falls linearly from lr to lr_end"),
        "the mean of the batch losses returned": visible(
            edit("ex7_skipgram_epoch", ("total += loss", "total += loss / len(batch) * batch_size")),
            hint="the sum of the batches' losses divided by P"),
        "a step up the gradient": visible(
            edit("ex7_skipgram_epoch", ("-rate * dv)", "rate * dv)"), ("-rate * du_pos)", "rate * du_pos)"),
                 ("-rate * du_neg)", "rate * du_neg)")),
            hint="by -lr times the SUM of its per-pair gradients"),
    },
}
