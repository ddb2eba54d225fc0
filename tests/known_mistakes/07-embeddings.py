"""Plausible wrong answers to the exercises of 07-embeddings, each an edit of the solution's
answer cell (tests/known_mistakes/mistakes.py) or, where it is no slip, a whole cell (see
tests/test_known_mistakes.py). At least two per exercise, including those the assignment's
issue names: the window counted on one side only, the query words not excluded from the
analogy's answer, the log of zero in PPMI, the sigmoid's sign flipped for noise words."""

from known_mistakes.mistakes import edits_of, whole

edit = edits_of("07-embeddings")

MISTAKES = {
    "ex1_cooccurrence": {
        "window counted on one side only": edit("ex1_cooccurrence", ("max(0, t - window)", "t + 1")),
        "windows cross sentence boundaries": edit("ex1_cooccurrence", (
            "for sentence in sentences:",
            "for sentence in [[token for sentence in sentences for token in sentence]]:")),
        "a position counted as its own neighbour": edit("ex1_cooccurrence", ("if u != t and ", "if ")),
        "window one short on the right": edit("ex1_cooccurrence", ("t + window + 1)", "t + window)")),
    },
    "ex2_ppmi": {
        "log of zero (nan for a word never seen)": edit("ex2_ppmi", (
            ("    out = np.zeros_like(M)\n"
             "    seen = M > 0\n"
             "    out[seen] = np.maximum(np.log(M[seen] * total / (row * column)[seen]), 0.0)\n"
             "    return out"),
            "    return np.maximum(np.log(M * total / (row * column)), 0.0)")),
        "negative PMI kept": edit("ex2_ppmi", (
            "np.maximum(np.log(M[seen] * total / (row * column)[seen]), 0.0)",
            "np.log(M[seen] * total / (row * column)[seen])")),
        "counts instead of probabilities": edit("ex2_ppmi", ("M[seen] * total /", "M[seen] /")),
    },
    "ex3_cosine": {
        "divided by one length only": edit("ex3_cosine", ("sims = unit_a @ unit_b.T", "sims = unit_a @ B.T")),
        "rows normalised along the wrong axis": edit("ex3_cosine",
                                                     ("np.linalg.norm(A, axis=1,", "np.linalg.norm(A, axis=0,"),
                                                     ("np.linalg.norm(B, axis=1,", "np.linalg.norm(B, axis=0,")),
        "zero vectors give nan": edit("ex3_cosine",
                                      ("np.divide(A, norm_a, out=np.zeros_like(A), where=norm_a > 0)", "A / norm_a"),
                                      ("np.divide(B, norm_b, out=np.zeros_like(B), where=norm_b > 0)", "B / norm_b")),
    },
    "ex4_analogy": {
        "query words not excluded from the answer": edit("ex4_analogy", (
            ("    if exclude_inputs:\n"
             "        scores[[index[a], index[b], index[c]]] = -np.inf\n"), "")),
        "vectors not scaled to unit length (the notes' formula on raw vectors)": edit("ex4_analogy", (
            "unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)", "unit = vectors")),
        "a - b + c instead of b - a + c": edit("ex4_analogy", (
            "unit[index[b]] - unit[index[a]]", "unit[index[a]] - unit[index[b]]")),
    },
    "ex5_negative_sampling": {
        "sigmoid sign flipped for the noise words": edit("ex5_negative_sampling",
                                                         ("np.logaddexp(0, neg)", "np.logaddexp(0, -neg)"),
                                                         ("g_neg = 0.5 * (1 + np.tanh(neg / 2))",
                                                          "g_neg = 0.5 * (1 + np.tanh(neg / 2)) - 1")),
        "dv without the noise words' sum": edit("ex5_negative_sampling", (
            ' + np.einsum("nk,nkd->nd", g_neg, u_neg)', "")),
        "log(sigmoid) computed naively (overflows at large scores)": edit("ex5_negative_sampling", (
            "np.logaddexp(0, -pos).sum() + np.logaddexp(0, neg).sum()",
            "-np.log(1 / (1 + np.exp(-pos))).sum() - np.log(1 / (1 + np.exp(neg))).sum()")),
        'delegates to the library': whole("""
def negative_sampling_loss(v, u_pos, u_neg):
    return np_emb.negative_sampling_loss(v, u_pos, u_neg)
"""),
    },
    "ex6_keep_probability": {
        "the paper's sqrt(t / f) taken as the keep probability": edit("ex6_keep_probability", (
            "np.minimum((np.sqrt(f / sample) + 1) * sample / f, 1.0)", "np.minimum(np.sqrt(sample / f), 1.0)")),
        "raw counts instead of frequencies": edit("ex6_keep_probability", ("f = counts / counts.sum()", "f = counts")),
        "not capped at 1": edit("ex6_keep_probability", (
            "np.minimum((np.sqrt(f / sample) + 1) * sample / f, 1.0)", "(np.sqrt(f / sample) + 1) * sample / f")),
    },
}
