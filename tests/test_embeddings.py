"""Word vectors in NumPy: dlcourse.np.embeddings (co-occurrence counts, PPMI, SVD vectors,
cosine similarity, analogies, the negative-sampling loss, subsampling, evaluation) against
independent loops, scikit-learn, scipy, torch autograd and gensim; and dlcourse.data's word
data (the text excerpt as tokens, WordSim-353, the Google analogy questions)."""

import contextlib
import warnings

import numpy as np
import pytest
import torch

from dlcourse import data
from dlcourse.np import embeddings as E

ASSIGNMENT = "07-embeddings"

SENTENCES = [["I", "like", "deep", "learning", "."], ["I", "like", "NLP", "."], ["I", "enjoy", "flying", "."]]
VOCAB = ["I", "like", "enjoy", "deep", "learning", "NLP", "flying", "."]
EXPECTED = [[0, 2, 1, 0, 0, 0, 0, 0],
            [2, 0, 0, 1, 0, 1, 0, 0],
            [1, 0, 0, 0, 0, 0, 1, 0],
            [0, 1, 0, 0, 1, 0, 0, 0],
            [0, 0, 0, 1, 0, 0, 0, 1],
            [0, 1, 0, 0, 0, 0, 0, 1],
            [0, 0, 1, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 1, 1, 1, 0]]


@contextlib.contextmanager
def _strict():
    """Every warning and every NumPy floating-point problem but underflow (exp(-1000) is 0, and
    NumPy ignores it by default) becomes an error."""
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


# ---------------------------------------------------------------- vocabulary and counts


def test_build_vocabulary_sorts_by_count_then_first_appearance_and_filters():
    sentences = [["b", "a", "c", "a"], ["d", "c", "e", "b", "f", "f", "f"]]
    vocab, counts = E.build_vocabulary(sentences)
    assert vocab == ["f", "b", "a", "c", "d", "e"]  # f: 3; b, a, c: 2 each, in order of first appearance
    assert counts.dtype == np.int64 and counts.tolist() == [3, 2, 2, 2, 1, 1]
    vocab, counts = E.build_vocabulary(sentences, min_count=2)
    assert vocab == ["f", "b", "a", "c"] and counts.tolist() == [3, 2, 2, 2]
    assert E.build_vocabulary(sentences, min_count=4)[0] == []


def test_cooccurrence_matrix_of_the_three_sentences():
    M, vocab = E.cooccurrence_matrix(SENTENCES, window=1, vocab=VOCAB)
    assert vocab == VOCAB and M.shape == (8, 8) and M.dtype == np.float64
    np.testing.assert_array_equal(M, EXPECTED)
    # the default vocabulary is every word in the order of its first appearance
    M2, vocab2 = E.cooccurrence_matrix(SENTENCES, window=1)
    assert vocab2 == ["I", "like", "deep", "learning", ".", "NLP", "enjoy", "flying"]
    order = [VOCAB.index(w) for w in vocab2]
    np.testing.assert_array_equal(M2, np.asarray(EXPECTED)[np.ix_(order, order)])


def _brute_force_counts(sentences, window, vocab):
    index = {w: i for i, w in enumerate(vocab)}
    M = np.zeros((len(vocab), len(vocab)))
    for sentence in sentences:
        for i, a in enumerate(sentence):
            for j, b in enumerate(sentence):
                if i != j and abs(i - j) <= window and a in index and b in index:
                    M[index[a], index[b]] += 1
    return M


@pytest.mark.parametrize("window", [1, 2, 3])
def test_cooccurrence_matrix_matches_a_brute_force_count(window):
    rng = np.random.default_rng(window)
    words = list("abcdefg")
    sentences = [list(rng.choice(words, size=rng.integers(1, 12))) for _ in range(15)]
    M, vocab = E.cooccurrence_matrix(sentences, window=window)
    np.testing.assert_array_equal(M, _brute_force_counts(sentences, window, vocab))
    np.testing.assert_array_equal(M, M.T)
    # words outside a given vocabulary are left out, and the rows follow its order
    given = ["g", "a", "c", "zzz"]
    M, vocab = E.cooccurrence_matrix(sentences, window=window, vocab=given)
    assert vocab == given
    np.testing.assert_array_equal(M, _brute_force_counts(sentences, window, given))


def test_cooccurrence_windows_do_not_cross_sentences():
    M, vocab = E.cooccurrence_matrix([["a", "b"], ["c", "d"]], window=5)
    i = {w: k for k, w in enumerate(vocab)}
    assert M[i["b"], i["c"]] == 0 and M[i["a"], i["d"]] == 0
    assert M[i["a"], i["b"]] == 1 and M[i["c"], i["d"]] == 1 and M.sum() == 4
    # one joined sentence would count them
    assert E.cooccurrence_matrix([["a", "b", "c", "d"]], window=5)[0].sum() == 12


def test_cooccurrence_rejects_bad_input():
    with pytest.raises(ValueError, match="split your text"):
        E.cooccurrence_matrix("I like NLP .")
    with pytest.raises(ValueError, match="split your text"):
        E.cooccurrence_matrix(["I", "like", "NLP"])  # one flat sentence, not a list of sentences
    with pytest.raises(ValueError, match="window"):
        E.cooccurrence_matrix(SENTENCES, window=0)
    with pytest.raises(ValueError, match="twice"):
        E.cooccurrence_matrix(SENTENCES, vocab=["I", "like", "I"])


# ---------------------------------------------------------------- PPMI and SVD


def _ppmi_reference(M):
    total = M.sum()
    out = np.zeros_like(M)
    for i in range(M.shape[0]):
        for j in range(M.shape[1]):
            if M[i, j] > 0:
                p_ij = M[i, j] / total
                p_i = M[i].sum() / total
                p_j = M[:, j].sum() / total
                out[i, j] = max(0.0, np.log(p_ij / (p_i * p_j)))
    return out


def test_ppmi_matches_the_formula_without_warnings():
    rng = np.random.default_rng(3)
    M = rng.integers(0, 6, size=(7, 9)).astype(np.float64)  # not square, not symmetric
    M[2] = 0  # a word never seen
    M[:, 4] = 0  # a context never seen
    with _strict():
        P = E.ppmi(M)
        Z = E.ppmi(np.zeros((3, 3)))
        P_sym = E.ppmi(E.cooccurrence_matrix(SENTENCES, vocab=VOCAB)[0])
    np.testing.assert_allclose(P, _ppmi_reference(M), rtol=1e-12, atol=1e-15)
    assert (P >= 0).all() and (P[M == 0] == 0).all() and (P[2] == 0).all() and (P[:, 4] == 0).all()
    assert (P > 0).any()
    np.testing.assert_array_equal(Z, 0)
    np.testing.assert_allclose(P_sym, _ppmi_reference(np.asarray(EXPECTED, dtype=float)), rtol=1e-12)
    np.testing.assert_allclose(P_sym, P_sym.T)
    with pytest.raises(ValueError):
        E.ppmi(-M)


def test_svd_embeddings_are_u_times_s_with_fixed_signs():
    rng = np.random.default_rng(5)
    A = rng.poisson(2.0, size=(12, 12)).astype(np.float64)
    M = A + A.T
    U, S, Vt = np.linalg.svd(M)
    for k in (1, 3, 12):
        W = E.svd_embeddings(M, k)
        assert W.shape == (12, k)
        reference = U[:, :k] * S[:k]
        for c in range(k):
            sign = np.sign(W[:, c] @ reference[:, c])
            np.testing.assert_allclose(W[:, c], sign * reference[:, c], atol=1e-10)
            assert W[np.abs(W[:, c]).argmax(), c] > 0, "the largest entry of each column is positive"
        # Eckart-Young: projecting M onto the span of the vectors leaves the tail singular values
        projection = W @ np.linalg.pinv(W)
        error = np.linalg.norm(M - projection @ M)
        assert error == pytest.approx(np.sqrt(np.sum(S[k:] ** 2)), abs=1e-8)
    # -M = U S (-V^T) has the same U S up to LAPACK's choice of signs, which the convention removes
    np.testing.assert_allclose(E.svd_embeddings(-M, 4), E.svd_embeddings(M, 4), atol=1e-10)
    for k in (0, 13):
        with pytest.raises(ValueError, match="k must be between 1 and 12"):
            E.svd_embeddings(M, k)


# ---------------------------------------------------------------- cosine similarity and analogies


def test_cosine_similarity_shapes_and_sklearn():
    from sklearn.metrics.pairwise import cosine_similarity as sk_cosine

    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(4, 6)), rng.normal(size=(5, 6))
    a[1] = 0.0  # a zero vector
    with _strict():
        out = E.cosine_similarity(a, b)
        row = E.cosine_similarity(a[0], b)
        column = E.cosine_similarity(a, b[2])
        scalar = E.cosine_similarity(a[0], b[2])
        zero = E.cosine_similarity(np.zeros(6), b[2])
    assert out.shape == (4, 5) and row.shape == (5,) and column.shape == (4,) and np.ndim(scalar) == 0
    np.testing.assert_allclose(out, sk_cosine(a, b), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(row, out[0])
    np.testing.assert_allclose(column, out[:, 2])
    assert float(scalar) == pytest.approx(out[0, 2], rel=1e-12)
    assert (out[1] == 0).all() and float(zero) == 0.0
    assert float(E.cosine_similarity([1.0, 0.0], [-2.0, 0.0])) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="same length"):
        E.cosine_similarity(a, rng.normal(size=(5, 7)))
    with pytest.raises(ValueError):
        E.cosine_similarity(np.zeros((2, 3, 6)), b)


TOY = {"king": [0.30, 0.70], "man": [0.20, 0.20], "woman": [0.60, 0.30], "queen": [0.70, 0.80],
       "prince": [0.25, 0.75], "apple": [0.95, 0.05]}


def test_analogy_finds_queen_in_the_toy_space():
    vocab = list(TOY)
    vectors = np.array(list(TOY.values()))
    assert E.analogy("man", "woman", "king", vectors, vocab) == "queen"
    # a long vector pointing elsewhere wins a raw dot product, not the cosine
    giant = 100.0 * np.array([1.0, 0.2])
    query = vectors[vocab.index("woman")] - vectors[vocab.index("man")] + vectors[vocab.index("king")]
    assert giant @ query > vectors[vocab.index("queen")] @ query
    assert E.analogy("man", "woman", "king", np.vstack([vectors, giant]), vocab + ["giant"]) == "queen"


def test_analogy_excludes_its_inputs_unless_told_not_to():
    vocab = ["man", "woman", "king", "queen"]
    # man and woman point the same way, so the query is king itself
    vectors = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.3, 1.0]])
    assert E.analogy("man", "woman", "king", vectors, vocab, exclude_inputs=False) == "king"
    assert E.analogy("man", "woman", "king", vectors, vocab) == "queen"


def test_analogy_names_unknown_words():
    vocab, vectors = list(TOY), np.array(list(TOY.values()))
    with pytest.raises(KeyError, match="dragon"):
        E.analogy("man", "dragon", "king", vectors, vocab)


# ---------------------------------------------------------------- negative sampling and subsampling


def test_negative_sampling_loss_matches_torch_autograd():
    rng = np.random.default_rng(11)
    N, K, D = 7, 4, 5
    v, u_pos, u_neg = rng.normal(size=(N, D)), rng.normal(size=(N, D)), rng.normal(size=(N, K, D))
    loss, dv, du_pos, du_neg = E.negative_sampling_loss(v, u_pos, u_neg)
    tv, tp, tn = (torch.tensor(a, requires_grad=True) for a in (v, u_pos, u_neg))
    pos = (tp * tv).sum(1)
    neg = torch.einsum("nkd,nd->nk", tn, tv)
    reference = -torch.nn.functional.logsigmoid(pos).sum() - torch.nn.functional.logsigmoid(-neg).sum()
    reference.backward()
    assert float(loss) == pytest.approx(reference.item(), rel=1e-12)
    for ours, tensor, name in ((dv, tv, "dv"), (du_pos, tp, "du_pos"), (du_neg, tn, "du_neg")):
        assert ours.shape == tensor.shape, name
        np.testing.assert_allclose(ours, tensor.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_negative_sampling_loss_is_stable_for_large_scores():
    D = 4
    v = np.full((2, D), 10.0)
    u = np.full((2, D), 25.0)  # scores of +-1000
    u_pos = np.stack([u[0], -u[1]])  # pair 0 right (+1000), pair 1 wrong (-1000)
    u_neg = np.stack([-u[:1], u[1:]])  # its noise word: right (-1000), wrong (+1000)
    with _strict():
        loss, dv, du_pos, du_neg = E.negative_sampling_loss(v, u_pos, u_neg)
    assert np.isfinite(loss) and loss == pytest.approx(2000.0, rel=1e-9)
    assert all(np.isfinite(g).all() for g in (dv, du_pos, du_neg))
    np.testing.assert_allclose(du_pos, [[0.0] * D, [-10.0] * D], atol=1e-12)  # (s(score) - 1) v
    np.testing.assert_allclose(du_neg[:, 0], [[0.0] * D, [10.0] * D], atol=1e-12)  # s(score) v


def test_negative_sampling_loss_rejects_bad_shapes():
    v, u_neg = np.zeros((3, 4)), np.zeros((3, 2, 4))
    for args in ((v, np.zeros((3, 5)), u_neg), (v, v, np.zeros((3, 4))), (v, v, np.zeros((3, 2, 5))),
                 (v, v, np.zeros((2, 2, 4))), (np.zeros(4), np.zeros(4), u_neg)):
        with pytest.raises(ValueError, match=r"expected v: \(N, D\)"):
            E.negative_sampling_loss(*args)


@pytest.mark.parametrize("sample", [1e-3, 1e-4])
def test_keep_probability_matches_gensim(sample):
    from gensim.models import Word2Vec

    sentences = data.load_text_excerpt(articles=True, max_tokens=20_000)
    vocab, counts = E.build_vocabulary(sentences, min_count=1)
    keep = E.keep_probability(counts, sample=sample)
    model = Word2Vec(sample=sample, min_count=1, vector_size=10)
    model.build_vocab(sentences)
    assert sorted(model.wv.index_to_key) == sorted(vocab)
    assert [model.wv.get_vecattr(w, "count") for w in vocab] == counts.tolist()
    # gensim stores the chance as uint32(p * (2**32 - 1)), truncated
    theirs = np.array([model.wv.get_vecattr(w, "sample_int") for w in vocab]) / (2 ** 32 - 1)
    assert keep.shape == counts.shape
    np.testing.assert_allclose(keep, theirs, rtol=0, atol=1e-9)
    assert keep.max() == 1.0 and keep.min() < 0.5 and (keep[counts == 1] == 1.0).all()


def test_keep_probability_formula_cap_and_errors():
    counts = np.array([900, 90, 9, 1])
    f = counts / counts.sum()
    p = E.keep_probability(counts, sample=0.01)
    np.testing.assert_allclose(p, np.minimum((np.sqrt(f / 0.01) + 1) * 0.01 / f, 1.0), rtol=1e-12)
    assert p[0] < 1.0 and (p <= 1.0).all() and p[-1] == 1.0
    with pytest.raises(ValueError, match="positive word counts"):
        E.keep_probability(np.array([3, 0, 1]))
    with pytest.raises(ValueError, match="positive word counts"):
        E.keep_probability(np.ones((2, 2)))
    for sample in (0.0, -1e-3):
        with pytest.raises(ValueError, match="sample must be positive"):
            E.keep_probability(counts, sample=sample)


# ---------------------------------------------------------------- evaluation


def test_spearman_matches_scipy_with_ties():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(13)
    for n in (5, 30, 200):
        x = rng.integers(0, 6, size=n).astype(float)  # many ties
        y = x + rng.integers(-3, 4, size=n)
        assert E.spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, rel=1e-12)
        z = rng.normal(size=n)
        assert E.spearman(z, y) == pytest.approx(spearmanr(z, y).statistic, rel=1e-12, abs=1e-14)
    assert E.spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert E.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_wordsim_spearman_matches_gensim():
    from gensim.models import KeyedVectors

    pairs = data.load_wordsim353()
    # every other pair's words (and so parts of other pairs), and two words in no pair; without
    # "bank": WordSim has both (bank, money) and (money, bank), a tie in our symmetric cosine but
    # two values an ulp apart in gensim's, which ranks them apart
    words = sorted({w for a, b, _ in pairs[::2] for w in (a, b)} - {"bank"}) + ["zzfiller", "qqfiller"]
    rng = np.random.default_rng(17)
    vectors = rng.normal(size=(len(words), 8))
    kv = KeyedVectors(vector_size=8, dtype=np.float64)
    kv.add_vectors(words, vectors)
    _, (rho_gensim, _), oov_ratio = kv.evaluate_word_pairs(
        str(data.gensim_test_file("wordsim353.tsv")), case_insensitive=True, dummy4unknown=False)
    rho, used = E.wordsim_spearman(vectors, words, pairs)
    vocab = set(words)
    assert used == sum(a in vocab and b in vocab for a, b, _ in pairs)
    assert 176 < used < 353
    assert used == round(353 * (1 - oov_ratio / 100))
    assert rho == pytest.approx(rho_gensim, rel=1e-9)
    # too few usable pairs give nan
    rho, used = E.wordsim_spearman(vectors, words, [("tiger", "cat", 7.35), ("nope", "cat", 1.0)])
    assert np.isnan(rho) and used <= 1


def test_analogy_accuracy_matches_gensim():
    from gensim.models import KeyedVectors

    sections = data.load_analogies()
    questions = [q for section in sections.values() for q in section]
    words = sorted({w for name in ("capital-common-countries", "family") for q in sections[name] for w in q})
    # some questions unusable, and two words in none
    words = [w for w in words if w not in ("iraq", "sister")] + ["zzfiller", "qqfiller"]
    index = {w: i for i, w in enumerate(words)}
    rng = np.random.default_rng(19)
    vectors = rng.normal(size=(len(words), 10))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    planted, used_words = 0, set()
    # plant d = b - a + c for some questions, leaving the input words of planted answers untouched
    for a, b, c, d in questions:
        if all(w in index for w in (a, b, c, d)) and d not in used_words and not {a, b, c} & used_words:
            if rng.random() < 0.5:
                vectors[index[d]] = unit[index[b]] - unit[index[a]] + unit[index[c]]
                used_words.update((a, b, c, d))
                planted += 1
    assert planted > 3
    kv = KeyedVectors(vector_size=10, dtype=np.float64)
    kv.add_vectors(words, vectors)
    score, gensim_sections = kv.evaluate_word_analogies(
        str(data.gensim_test_file("questions-words.txt")), case_insensitive=True, dummy4unknown=False)
    total = gensim_sections[-1]
    accuracy, used = E.analogy_accuracy(vectors, words, questions)
    assert used == len(total["correct"]) + len(total["incorrect"])
    assert 0 < used < len(questions)
    assert used == sum(all(w in index for w in q) for q in questions)
    assert accuracy == pytest.approx(score, abs=1e-12) and 0 < accuracy < 1
    # batching does not change the answer
    assert E.analogy_accuracy(vectors, words, questions, batch=7) == (accuracy, used)
    accuracy, used = E.analogy_accuracy(vectors, words, [("no", "such", "words", "here")])
    assert np.isnan(accuracy) and used == 0


# ---------------------------------------------------------------- word data


def test_text_excerpt_as_tokens_and_articles():
    tokens = data.load_text_excerpt()
    articles = data.load_text_excerpt(articles=True)
    assert len(tokens) == 331_339 and len(articles) == 250
    assert all(isinstance(a, list) and a for a in articles)
    assert [t for a in articles for t in a] == tokens
    assert tokens == data.load_text_characters().split() and tokens[:3] == ["anarch", "greek", "rule"]
    first = data.load_text_excerpt(max_tokens=1000)
    assert first == tokens[:1000]
    cut = data.load_text_excerpt(articles=True, max_tokens=len(articles[0]) + 5)
    assert [len(a) for a in cut] == [len(articles[0]), 5]
    vocab, counts = E.build_vocabulary(articles, min_count=5)
    assert len(vocab) == 7_978 and counts.min() == 5
    for bad in (0, -3):
        with pytest.raises(ValueError, match="max_tokens must be at least 1"):
            data.load_text_excerpt(max_tokens=bad)


def test_wordsim353_pairs_and_their_stems():
    pairs = data.load_wordsim353()
    assert len(pairs) == 353 and ("tiger", "cat", 7.35) in pairs
    assert all(a == a.lower() and b == b.lower() and 0 <= s <= 10 for a, b, s in pairs)
    stemmed = data.load_wordsim353(stem=True)
    assert len(stemmed) == 353 and [s for *_, s in stemmed] == [s for *_, s in pairs]
    assert data.porter_stems(["philosophy", "Cats"]) == {"philosophy": "philosophi", "Cats": "cat"}
    vocab = set(E.build_vocabulary(data.load_text_excerpt(articles=True), min_count=5)[0])
    assert sum(a in vocab and b in vocab for a, b, _ in stemmed) == 274
    assert sum(a in vocab and b in vocab for a, b, _ in pairs) == 96


def test_analogy_questions():
    sections = data.load_analogies()
    assert len(sections) == 14 and sum(map(len, sections.values())) == 19_544
    assert list(sections)[0] == "capital-common-countries" and list(sections)[-1] == "gram9-plural-verbs"
    assert sections["capital-common-countries"][0] == ("athens", "greece", "baghdad", "iraq")
    assert all(len(q) == 4 and all(w == w.lower() for w in q) for s in sections.values() for q in s)
    stemmed = data.load_analogies(stem=True)
    assert {k: len(v) for k, v in stemmed.items()} == {k: len(v) for k, v in sections.items()}
    stems = data.porter_stems(sections["gram9-plural-verbs"][0])
    assert stemmed["gram9-plural-verbs"][0] == tuple(stems[w] for w in sections["gram9-plural-verbs"][0])


@pytest.mark.parametrize("load", [data.load_wordsim353, data.load_analogies, data.load_text_excerpt])
def test_missing_gensim_is_named_for_word_data(monkeypatch, load):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="ships with the gensim package.*make setup"):
        load()


def test_numpy_embeddings_do_not_import_torch():
    import subprocess
    import sys

    code = "import sys, dlcourse.np.embeddings; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_word_vector_widget_lists_neighbours_and_analogies(monkeypatch, capsys):
    """07's explorer: nearest words by cosine and 3CosAdd's ranked answers, through the cosine it is given."""
    import matplotlib.pyplot as plt

    from dlcourse import widgets

    words = ["king", "man", "woman", "queen", "emperor"]
    toy = np.array([[0.30, 0.70], [0.20, 0.20], [0.60, 0.30], [0.70, 0.80], [3.00, 1.50]])
    near = widgets.nearest_words("king", toy, words, k=4, cosine=E.cosine_similarity)
    assert [w for w, _ in near][0] == "queen" and "king" not in [w for w, _ in near] and len(near) == 4
    np.testing.assert_allclose([s for _, s in near], sorted(E.cosine_similarity(toy[0], toy)[1:], reverse=True))
    best = widgets.analogy_candidates("man", "woman", "king", toy, words, k=2, cosine=E.cosine_similarity)
    assert best[0][0] == "queen" and len(best) == 2 and best[0][1] >= best[1][1]
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(30)]
    vectors = rng.normal(size=(30, 5)) * rng.uniform(0.2, 5, size=(30, 1))
    for _ in range(10):
        a, b, c = (vocab[i] for i in rng.choice(30, size=3, replace=False))
        ranked = widgets.analogy_candidates(a, b, c, vectors, vocab, k=3, cosine=E.cosine_similarity)
        assert ranked[0][0] == E.analogy(a, b, c, vectors, vocab)
        assert not {a, b, c} & {w for w, _ in ranked}
    calls = []

    def counted(x, y):
        calls.append(1)
        return E.cosine_similarity(x, y)

    widgets.nearest_words("w1", vectors, vocab, cosine=counted)
    widgets.analogy_candidates("w1", "w2", "w3", vectors, vocab, cosine=counted)
    assert len(calls) == 2, "the notebook's own cosine is the one used"
    with pytest.raises(TypeError, match="cosine"):
        widgets.nearest_words("w1", vectors, vocab)  # no default: the widget never calls the library's answer
    with pytest.raises(KeyError, match="not in the vocabulary: 'nope'"):
        widgets.nearest_words("nope", vectors, vocab, cosine=counted)
    with pytest.raises(ValueError, match="V = len\\(vocab\\)"):
        widgets.nearest_words("w1", vectors[:3], vocab, cosine=counted)
    message = widgets.word_vector_figure("nope", "w1", "w2", "w3", vectors, vocab, cosine=counted)
    assert "not in the vocabulary: 'nope'" in message
    # stripped and lower-cased
    fig = widgets.word_vector_figure(" W1 ", "w1", "w2", "w3", vectors, vocab, k=5, cosine=counted)
    assert [ax.get_title() for ax in fig.axes] == ["nearest to 'w1'", "'w2' - 'w1' + 'w3'"]
    plt.close("all")
    for name in widgets.HEADLESS_ENV:
        monkeypatch.delenv(name, raising=False)
    explorer = widgets.word_vector_explorer(vectors, vocab, word="w0", a="w1", b="w2", c="w3", cosine=counted)
    assert [c.description for c in explorer.widget.children[:5]] == ["word", "a", "is to b", "as c is to ?", "k"]
    explorer.widget.children[0].value = "nope"   # a word outside the vocabulary: a message, no traceback
    assert "not in the vocabulary" in explorer.widget.children[-1].value
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    assert widgets.word_vector_explorer(vectors, vocab, word="w0", a="w1", b="w2", c="w3", cosine=counted) is None
    assert "static figure here" in capsys.readouterr().out
    plt.close("all")
