"""Plausible wrong answers to the exercises of 07-embeddings, as whole answer cells (see
tests/test_known_mistakes.py). At least two per exercise, including those the assignment's
issue names: the window counted on one side only, the query words not excluded from the
analogy's answer, the log of zero in PPMI, the sigmoid's sign flipped for noise words."""

_COOCCURRENCE = '''
def cooccurrence_matrix(sentences, *, window=1, vocab=None):
    if vocab is None:
        vocab = list(dict.fromkeys(token for sentence in sentences for token in sentence))
    index = {word: i for i, word in enumerate(vocab)}
    M = np.zeros((len(vocab), len(vocab)))
    for sentence in SENTENCES:
        for t, word in enumerate(sentence):
            for u in range(NEIGHBOURS):
                if CONDITION and word in index and sentence[u] in index:
                    M[index[word], index[sentence[u]]] += 1
    return M, vocab
'''


def _cooccurrence(sentences="sentences", neighbours="max(0, t - window), min(len(sentence), t + window + 1)",
                  condition="u != t"):
    return (_COOCCURRENCE.replace("SENTENCES", sentences).replace("NEIGHBOURS", neighbours)
            .replace("CONDITION", condition))


_PPMI = '''
def ppmi(M):
    M = np.asarray(M, dtype=float)
    total = M.sum()
    row = M.sum(axis=1, keepdims=True)
    column = M.sum(axis=0, keepdims=True)
    BODY
'''


def _ppmi(body):
    return _PPMI.replace("BODY", body)


_COSINE = '''
def cosine_similarity(a, b):
    A, B = np.atleast_2d(np.asarray(a, dtype=float)), np.atleast_2d(np.asarray(b, dtype=float))
    BODY
    if np.ndim(a) == 1:
        sims = sims[0]
    if np.ndim(b) == 1:
        sims = sims[..., 0]
    return sims
'''


def _cosine(body):
    return _COSINE.replace("BODY", body)


_ANALOGY = '''
def analogy(a, b, c, vectors, vocab, *, exclude_inputs=True):
    vectors = np.asarray(vectors, dtype=float)
    index = {word: i for i, word in enumerate(vocab)}
    unit = UNIT
    query = QUERY
    scores = unit @ query / np.linalg.norm(query)
    if EXCLUDE:
        scores[[index[a], index[b], index[c]]] = -np.inf
    return vocab[int(np.argmax(scores))]
'''


def _analogy(unit="vectors / np.linalg.norm(vectors, axis=1, keepdims=True)",
             query="unit[index[b]] - unit[index[a]] + unit[index[c]]", exclude="exclude_inputs"):
    return _ANALOGY.replace("UNIT", unit).replace("QUERY", query).replace("EXCLUDE", exclude)


_NEGATIVE_SAMPLING = '''
def negative_sampling_loss(v, u_pos, u_neg):
    pos = np.sum(u_pos * v, axis=1)
    neg = np.einsum("nkd,nd->nk", u_neg, v)
    loss = LOSS
    g_pos = 0.5 * (1 + np.tanh(pos / 2)) - 1
    g_neg = G_NEG
    dv = DV
    du_pos = g_pos[:, None] * v
    du_neg = g_neg[:, :, None] * v[:, None, :]
    return loss, dv, du_pos, du_neg
'''


def _negative_sampling(loss="np.logaddexp(0, -pos).sum() + np.logaddexp(0, neg).sum()",
                       g_neg="0.5 * (1 + np.tanh(neg / 2))",
                       dv='g_pos[:, None] * u_pos + np.einsum("nk,nkd->nd", g_neg, u_neg)'):
    return (_NEGATIVE_SAMPLING.replace("LOSS", loss).replace("G_NEG", g_neg).replace("DV", dv))


_KEEP = '''
def keep_probability(counts, *, sample=1e-3):
    counts = np.asarray(counts, dtype=float)
    f = FREQUENCY
    return RESULT
'''


def _keep(frequency="counts / counts.sum()", result="np.minimum((np.sqrt(f / sample) + 1) * sample / f, 1.0)"):
    return _KEEP.replace("FREQUENCY", frequency).replace("RESULT", result)


MISTAKES = {
    "ex1_cooccurrence": {
        "window counted on one side only": _cooccurrence(neighbours="t + 1, min(len(sentence), t + window + 1)"),
        "windows cross sentence boundaries": _cooccurrence(
            sentences="[[token for sentence in sentences for token in sentence]]"),
        "a position counted as its own neighbour": _cooccurrence(condition="True"),
        "window one short on the right": _cooccurrence(neighbours="max(0, t - window), min(len(sentence), t + window)"),
    },
    "ex2_ppmi": {
        "log of zero (nan for a word never seen)": _ppmi(
            "return np.maximum(np.log(M * total / (row * column)), 0.0)"),
        "negative PMI kept": _ppmi('''out = np.zeros_like(M)
    seen = M > 0
    out[seen] = np.log(M[seen] * total / (row * column)[seen])
    return out'''),
        "counts instead of probabilities": _ppmi('''out = np.zeros_like(M)
    seen = M > 0
    out[seen] = np.maximum(np.log(M[seen] / (row * column)[seen]), 0.0)
    return out'''),
    },
    "ex3_cosine": {
        "divided by one length only": _cosine('''sims = A @ B.T / np.linalg.norm(A, axis=1, keepdims=True)'''),
        "rows normalised along the wrong axis": _cosine('''sims = (A / np.linalg.norm(A, axis=0, keepdims=True)) @ (B / np.linalg.norm(B, axis=0, keepdims=True)).T'''),
        "zero vectors give nan": _cosine('''sims = (A / np.linalg.norm(A, axis=1, keepdims=True)) @ (B / np.linalg.norm(B, axis=1, keepdims=True)).T'''),
    },
    "ex4_analogy": {
        "query words not excluded from the answer": _analogy(exclude="False"),
        "vectors not scaled to unit length (the notes' formula on raw vectors)": _analogy(unit="vectors"),
        "a - b + c instead of b - a + c": _analogy(query="unit[index[a]] - unit[index[b]] + unit[index[c]]"),
    },
    "ex5_negative_sampling": {
        "sigmoid sign flipped for the noise words": _negative_sampling(
            loss="np.logaddexp(0, -pos).sum() + np.logaddexp(0, -neg).sum()",
            g_neg="0.5 * (1 + np.tanh(neg / 2)) - 1"),
        "dv without the noise words' sum": _negative_sampling(dv="g_pos[:, None] * u_pos"),
        "log(sigmoid) computed naively (overflows at large scores)": _negative_sampling(
            loss="-np.log(1 / (1 + np.exp(-pos))).sum() - np.log(1 / (1 + np.exp(neg))).sum()"),
        'delegates to the library': """
def negative_sampling_loss(v, u_pos, u_neg):
    return np_emb.negative_sampling_loss(v, u_pos, u_neg)
""",
    },
    "ex6_keep_probability": {
        "the paper's sqrt(t / f) taken as the keep probability": _keep(
            result="np.minimum(np.sqrt(sample / f), 1.0)"),
        "raw counts instead of frequencies": _keep(frequency="counts"),
        "not capped at 1": _keep(result="(np.sqrt(f / sample) + 1) * sample / f"),
    },
}
