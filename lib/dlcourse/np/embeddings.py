"""Word vectors from counts and from prediction, in NumPy.

Legend: V vocabulary, D vector dimensions, N pairs in a batch, K negative samples per pair.

    M, vocab = cooccurrence_matrix(sentences, window=1)        M: (V, V) counts, vocab: list of V words
    P = ppmi(M)                                                 (V, V), positive pointwise mutual information
    W = svd_embeddings(M, k)                                    (V, k): rows are word vectors
    cosine_similarity(a, b)                                     a: (D,) or (N, D), b: (D,) or (M, D)
    d = analogy("man", "woman", "king", vectors, vocab)         man : woman :: king : d
    loss, dv, du_pos, du_neg = negative_sampling_loss(v, u_pos, u_neg)
                                                                v, u_pos: (N, D), u_neg: (N, K, D)
    p = keep_probability(counts, sample=1e-3)                   (V,): word2vec's subsampling
    rho, used = wordsim_spearman(vectors, vocab, pairs)         rank correlation with human scores
    accuracy, used = analogy_accuracy(vectors, vocab, questions)

A sentence is a list of tokens (strings); windows never cross from one sentence into the
next. Vectors are rows: ``vectors[vocab.index(word)]``. Skip-gram's training, batched, is in
the torch twin ``dlcourse.pt.embeddings`` (train_skipgram).
"""

from collections import Counter

import numpy as np


def build_vocabulary(sentences, *, min_count: int = 1) -> tuple[list[str], np.ndarray]:
    """The words seen at least ``min_count`` times, most frequent first (ties in order of
    first appearance; gensim puts ties the other way round), and their counts: (vocab, counts (V,))."""
    counts = Counter(token for sentence in sentences for token in sentence)
    kept = [(word, count) for word, count in counts.items() if count >= min_count]
    kept.sort(key=lambda pair: -pair[1])  # a stable sort keeps first appearance among ties
    return [word for word, _ in kept], np.array([count for _, count in kept], dtype=np.int64)


def _check_sentences(sentences):
    if isinstance(sentences, str) or not all(isinstance(s, (list, tuple)) for s in sentences):
        raise ValueError("sentences must be a list of sentences, each a list of tokens, such as "
                         "[['I', 'like', 'NLP', '.']]: split your text first")


def cooccurrence_matrix(sentences, *, window: int = 1, vocab=None) -> tuple[np.ndarray, list[str]]:
    """Counts M[i, j] of word j appearing within ``window`` tokens of word i, on either
    side, within one sentence. M is symmetric with float64 counts.

    ``vocab`` fixes the rows' order (and leaves out other words); by default it is every
    word in the order of its first appearance.
    """
    _check_sentences(sentences)
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    if vocab is None:
        vocab = list(dict.fromkeys(token for sentence in sentences for token in sentence))
    index = {word: i for i, word in enumerate(vocab)}
    if len(index) != len(vocab):
        raise ValueError("vocab lists a word twice")
    ids = [np.array([index.get(token, -1) for token in sentence], dtype=np.int64) for sentence in sentences]
    rows, columns = [], []
    for d in range(1, window + 1):          # word t and word t + d, in each sentence
        for sentence in ids:
            left, right = sentence[:-d], sentence[d:]
            both = (left >= 0) & (right >= 0)
            rows.append(left[both])
            columns.append(right[both])
    rows, columns = np.concatenate(rows or [np.zeros(0, np.int64)]), np.concatenate(columns or [np.zeros(0, np.int64)])
    M = np.zeros((len(vocab), len(vocab)))
    np.add.at(M, (rows, columns), 1.0)      # add.at, not M[rows, columns] += 1: a pair can repeat
    np.add.at(M, (columns, rows), 1.0)      # and the other side of the window
    return M, list(vocab)


def ppmi(M) -> np.ndarray:
    """Positive pointwise mutual information of a count matrix M: (V, V):

        PPMI[i, j] = max(0, log(p(i, j) / (p(i) p(j)))),  p(i, j) = M[i, j] / sum(M),

    with p(i) and p(j) the row and column sums over sum(M). Pairs never seen (and rows of
    words never seen) get 0, not log 0.
    """
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2 or (M < 0).any():
        raise ValueError(f"M must be a 2-D array of counts (no negative entries), got shape {M.shape}")
    total = M.sum()
    row = M.sum(axis=1, keepdims=True)
    column = M.sum(axis=0, keepdims=True)
    out = np.zeros_like(M)
    seen = M > 0
    # p(i,j) / (p(i) p(j)) = M[i,j] * total / (row[i] * column[j]); only where M[i,j] > 0
    ratio = M[seen] * total / (row * column)[seen]
    out[seen] = np.maximum(np.log(ratio), 0.0)
    return out


def svd_embeddings(M, k: int) -> np.ndarray:
    """k-dimensional word vectors from the truncated SVD M ~ U_k S_k V_k^T: the rows of
    U_k S_k. U_k S_k V_k^T is the best rank-k approximation of M in least squares
    (Eckart-Young). Signs are fixed so that each column's largest entry is positive."""
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2 or not 1 <= k <= min(M.shape):
        raise ValueError(f"k must be between 1 and {min(M.shape) if M.ndim == 2 else '?'}, got {k}")
    U, S, _ = np.linalg.svd(M, full_matrices=False)
    vectors = U[:, :k] * S[:k]  # (V, k)
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(k)])
    return vectors * np.where(signs == 0, 1.0, signs)


def cosine_similarity(a, b) -> np.ndarray:
    """Cosine of the angle between every row of ``a`` and every row of ``b``.

    a: (D,) or (N, D); b: (D,) or (M, D). Returns (N, M), with the axis of a 1-D argument
    dropped ((M,), (N,) or a scalar). A zero vector has cosine 0 with everything.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim not in (1, 2) or b.ndim not in (1, 2) or a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a and b must be vectors or matrices of rows of the same length: got {a.shape} and {b.shape}")
    a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
    a_norm = np.linalg.norm(a2, axis=1, keepdims=True)  # (N, 1)
    b_norm = np.linalg.norm(b2, axis=1, keepdims=True)  # (M, 1)
    unit_a = np.divide(a2, a_norm, out=np.zeros_like(a2), where=a_norm > 0)
    unit_b = np.divide(b2, b_norm, out=np.zeros_like(b2), where=b_norm > 0)
    out = unit_a @ unit_b.T  # (N, M)
    if a.ndim == 1:
        out = out[0]
    if b.ndim == 1:
        out = out[..., 0]
    return out


def _unit_rows(vectors):
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def analogy(a: str, b: str, c: str, vectors, vocab, *, exclude_inputs: bool = True) -> str:
    """The word d of "a is to b as c is to d" (man : woman :: king : queen):

        d = argmax_x (w_b - w_a + w_c) . w_x / ||w_b - w_a + w_c||

    on vectors scaled to unit length first (3CosAdd, Mikolov et al. 2013, and gensim's
    most_similar). On raw vectors the rule above is no cosine (||w_x|| is missing) and
    long vectors win whatever their direction. a, b and c themselves are not answers
    unless ``exclude_inputs=False``.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    index = {word: i for i, word in enumerate(vocab)}
    missing = [word for word in (a, b, c) if word not in index]
    if missing:
        raise KeyError(f"not in the vocabulary: {', '.join(map(repr, missing))}")
    unit = _unit_rows(vectors)
    query = unit[index[b]] - unit[index[a]] + unit[index[c]]
    scores = unit @ query / max(np.linalg.norm(query), 1e-12)  # (V,)
    if exclude_inputs:
        scores[[index[a], index[b], index[c]]] = -np.inf
    return vocab[int(np.argmax(scores))]


def _log_sigmoid(x):
    """log(1 / (1 + e^-x)) without overflow: -log(1 + e^-x) = -logaddexp(0, -x)."""
    return -np.logaddexp(0.0, -x)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def negative_sampling_loss(v, u_pos, u_neg):
    """Skip-gram's negative-sampling loss, summed over N (input word, context word) pairs:

        L = sum_n [ -log s(u_pos[n] . v[n]) - sum_k log s(-u_neg[n, k] . v[n]) ]

    with s the logistic sigmoid: the true context word should score high, the K noise
    words low. v: (N, D) input vectors, u_pos: (N, D) output vectors of the context words,
    u_neg: (N, K, D) output vectors of the noise words. Returns (L, dv, du_pos, du_neg),
    the gradients in the shapes of their arguments; row n of each belongs to pair n alone,
    as word2vec's per-pair SGD update uses it.
    """
    v, u_pos, u_neg = (np.asarray(t, dtype=np.float64) for t in (v, u_pos, u_neg))
    if v.ndim != 2 or u_pos.shape != v.shape or u_neg.ndim != 3 or u_neg.shape[::2] != v.shape:
        raise ValueError(f"expected v: (N, D), u_pos: (N, D), u_neg: (N, K, D); got {v.shape}, "
                         f"{u_pos.shape}, {u_neg.shape}")
    pos = np.sum(u_pos * v, axis=1)                # (N,)
    neg = np.einsum("nkd,nd->nk", u_neg, v)        # (N, K)
    loss = -_log_sigmoid(pos).sum() - _log_sigmoid(-neg).sum()
    g_pos = _sigmoid(pos) - 1.0                    # dL/dpos, (N,)
    g_neg = _sigmoid(neg)                          # dL/dneg, (N, K)
    dv = g_pos[:, None] * u_pos + np.einsum("nk,nkd->nd", g_neg, u_neg)
    du_pos = g_pos[:, None] * v
    du_neg = g_neg[:, :, None] * v[:, None, :]
    return loss, dv, du_pos, du_neg


def keep_probability(counts, *, sample: float = 1e-3) -> np.ndarray:
    """The chance that word2vec keeps each occurrence of a word when subsampling:

        p = (sqrt(f / t) + 1) * t / f,  capped at 1,

    with f = count / total the word's frequency and t = ``sample``. It is the formula of
    word2vec.c and gensim; the paper's discard probability 1 - sqrt(t / f) is close to it
    for frequent words. counts: (V,). Words rarer than about 2.6 t are always kept.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or (counts <= 0).any():
        raise ValueError("counts must be a 1-D array of positive word counts")
    if sample <= 0:
        raise ValueError(f"sample must be positive, got {sample}")
    frequency = counts / counts.sum()
    return np.minimum((np.sqrt(frequency / sample) + 1.0) * sample / frequency, 1.0)


def _rank(values):
    """Ranks 1..n, ties sharing their average rank (as Spearman's rho needs)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(x, y) -> float:
    """Spearman's rank correlation: Pearson's correlation of the ranks."""
    rx, ry = _rank(x), _rank(y)
    return float(np.corrcoef(rx, ry)[0, 1])


def wordsim_spearman(vectors, vocab, pairs) -> tuple[float, int]:
    """Spearman's correlation between the cosine similarities of the vectors and human
    scores, over the (word1, word2, score) pairs whose words are both in the vocabulary.
    Returns (rho, pairs used); rho is nan when fewer than two pairs are usable."""
    vectors = np.asarray(vectors, dtype=np.float64)
    index = {word: i for i, word in enumerate(vocab)}
    usable = [(index[a], index[b], score) for a, b, score in pairs if a in index and b in index]
    if len(usable) < 2:
        return float("nan"), len(usable)
    first, second, human = (np.array(column) for column in zip(*usable))
    unit = _unit_rows(vectors)
    model = np.sum(unit[first] * unit[second], axis=1)
    return spearman(model, human), len(usable)


def analogy_accuracy(vectors, vocab, questions, *, batch: int = 1024) -> tuple[float, int]:
    """Share of analogy questions (a, b, c, d) answered d by ``analogy`` (inputs
    excluded), over the questions whose four words are in the vocabulary. Returns
    (accuracy, questions used); accuracy is nan when none is usable."""
    vectors = np.asarray(vectors, dtype=np.float64)
    index = {word: i for i, word in enumerate(vocab)}
    usable = np.array([[index[w] for w in q] for q in questions if all(w in index for w in q)],
                      dtype=np.int64).reshape(-1, 4)
    if len(usable) == 0:
        return float("nan"), 0
    unit = _unit_rows(vectors)
    correct = 0
    for start in range(0, len(usable), batch):
        a, b, c, d = usable[start:start + batch].T
        query = unit[b] - unit[a] + unit[c]   # (Q, D); the query's norm does not change the argmax
        scores = query @ unit.T               # (Q, V)
        rows = np.arange(len(a))
        for excluded in (a, b, c):
            scores[rows, excluded] = -np.inf
        correct += int(np.sum(scores.argmax(axis=1) == d))
    return correct / len(usable), len(usable)
