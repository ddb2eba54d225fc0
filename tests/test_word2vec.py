"""Skip-gram with negative sampling (word2vec) in PyTorch: dlcourse.pt.embeddings' loss against
its NumPy twin (CPU, and CUDA where present), the (input, context) pairs against a reference
loop, training (shapes, seeds, history, words that co-occur end up close) and evaluation."""

import inspect
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import DEVICES, assert_torch_twin

from dlcourse import data
from dlcourse.np import embeddings as np_embeddings
from dlcourse.pt import embeddings as pt_embeddings
from dlcourse.pt.embeddings import SkipGramConfig

ASSIGNMENT = "07-embeddings"
pytestmark = pytest.mark.usefixtures("one_torch_thread")



# ---------------------------------------------------------------- the loss, a torch twin


def test_negative_sampling_loss_is_a_torch_twin():
    assert_torch_twin(np_embeddings, pt_embeddings, "negative_sampling_loss")


def test_negative_sampling_loss_twin_takes_the_same_parameters():
    ours = list(inspect.signature(pt_embeddings.negative_sampling_loss).parameters)
    assert ours == list(inspect.signature(np_embeddings.negative_sampling_loss).parameters)
    assert pt_embeddings.negative_sampling_loss.__doc__.startswith("Torch twin of")


@pytest.mark.parametrize("device", DEVICES)
def test_negative_sampling_loss_matches_numpy(device):
    rng = np.random.default_rng(23)
    N, K, D = 9, 5, 6
    arrays = rng.normal(size=(N, D)), rng.normal(size=(N, D)), rng.normal(size=(N, K, D))
    tensors = [torch.tensor(a, device=device) for a in arrays]
    copies = [t.clone() for t in tensors]
    reference = np_embeddings.negative_sampling_loss(*arrays)
    ours = pt_embeddings.negative_sampling_loss(*tensors)
    assert len(ours) == 4
    for value, expected, name in zip(ours, reference, ("loss", "dv", "du_pos", "du_neg")):
        assert value.device.type == device and value.dtype == torch.float64, name
        assert tuple(value.shape) == np.shape(expected), name
        np.testing.assert_allclose(value.cpu().numpy(), expected, rtol=1e-10, atol=1e-12, err_msg=name)
    for tensor, copy in zip(tensors, copies):
        assert torch.equal(tensor, copy), "the inputs are not modified"
    # float32 stays float32; large scores stay finite
    loss32, *grads32 = pt_embeddings.negative_sampling_loss(*(100 * t.float() for t in tensors))
    assert loss32.dtype == torch.float32 and torch.isfinite(loss32)
    assert all(g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads32)


def test_torch_negative_sampling_loss_rejects_bad_shapes():
    v, u_neg = torch.zeros(3, 4), torch.zeros(3, 2, 4)
    for args in ((v, torch.zeros(3, 5), u_neg), (v, v, torch.zeros(3, 4)), (v, v, torch.zeros(2, 2, 4))):
        with pytest.raises(ValueError, match=r"expected v: \(N, D\)"):
            pt_embeddings.negative_sampling_loss(*args)


# ---------------------------------------------------------------- (input, context) pairs


class _FixedReach:
    """A stand-in for np.random.Generator whose window draws are given in advance."""

    def __init__(self, reach):
        self.reach = np.asarray(reach)

    def integers(self, low, high, size=None):
        assert size == len(self.reach) and (low <= self.reach).all() and (self.reach < high).all()
        return self.reach


def _pairs(ids, sentence_of, window, rng):
    inputs, contexts = pt_embeddings.skipgram_pairs(np.asarray(ids), np.asarray(sentence_of),
                                                  window=window, rng=rng)
    assert inputs.shape == contexts.shape and inputs.ndim == 1
    return Counter(zip(inputs.tolist(), contexts.tolist()))


def test_skipgram_pairs_with_window_1_are_the_adjacent_words_both_ways():
    sentence_of = [0, 0, 0, 0, 1, 1, 2, 3, 3, 3]
    ids = list(range(len(sentence_of)))  # every position its own word, so pairs name positions
    expected = Counter()
    for t in range(len(ids) - 1):
        if sentence_of[t] == sentence_of[t + 1]:
            expected[(t, t + 1)] += 1
            expected[(t + 1, t)] += 1
    for seed in range(3):
        assert _pairs(ids, sentence_of, 1, np.random.default_rng(seed)) == expected
    assert _pairs(ids, sentence_of, 1, _FixedReach(np.ones(len(ids), dtype=int))) == expected
    assert len(expected) == 12  # 3 + 1 + 0 + 2 neighbours, both ways


def test_skipgram_pairs_follow_each_positions_own_window():
    rng = np.random.default_rng(29)
    sentence_of = np.repeat(np.arange(6), rng.integers(1, 9, size=6))
    ids = np.arange(len(sentence_of))
    reach = rng.integers(1, 4, size=len(ids))
    centre_predicted, centre_as_input = Counter(), Counter()
    for t in range(len(ids)):
        for j in range(len(ids)):
            if 0 < abs(j - t) <= reach[t] and sentence_of[j] == sentence_of[t]:
                centre_predicted[(j, t)] += 1  # word2vec.c: the context word's vector predicts the centre
                centre_as_input[(t, j)] += 1
    got = _pairs(ids, sentence_of, 3, _FixedReach(reach))
    assert got in (centre_predicted, centre_as_input)


def test_skipgram_pairs_with_window_3_stay_close_and_average_the_right_count():
    T, window, seeds = 500, 3, 40
    ids, sentence_of = np.arange(T), np.zeros(T, dtype=np.int64)
    # each position pairs with min(b, words on that side) words each side, b uniform in 1..window
    expected = sum(np.mean([min(b, t) + min(b, T - 1 - t) for b in range(1, window + 1)]) for t in range(T))
    assert expected == pytest.approx(T * (window + 1), rel=0.01)  # (window + 1) / 2 each side
    counts = []
    for seed in range(seeds):
        inputs, contexts = pt_embeddings.skipgram_pairs(ids, sentence_of, window=window,
                                                      rng=np.random.default_rng(seed))
        distance = np.abs(inputs - contexts)
        assert distance.min() >= 1 and distance.max() <= window
        counts.append(len(inputs))
    assert len(set(counts)) > 1, "each position draws its own window"
    assert np.mean(counts) == pytest.approx(expected, rel=0.01)  # about 5 standard errors


# ---------------------------------------------------------------- training


def _zipf_corpus(seed=0, sentences=60, length=12, words=40):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, words + 1)
    vocabulary = [f"w{i}" for i in range(words)]
    return [list(rng.choice(vocabulary, size=length, p=p / p.sum())) for _ in range(sentences)]


FAST = SkipGramConfig(dim=8, window=2, negative=3, epochs=2, batch_size=64)


def test_train_skipgram_returns_vectors_and_a_frequency_sorted_vocabulary():
    corpus = _zipf_corpus()
    vectors, vocab = pt_embeddings.train_skipgram(corpus, replace(FAST, min_count=3))
    expected_vocab, counts = np_embeddings.build_vocabulary(corpus, min_count=3)
    assert vocab == expected_vocab and counts.min() >= 3 and len(vocab) < 40
    assert isinstance(vectors, torch.Tensor) and tuple(vectors.shape) == (len(vocab), 8)
    assert vectors.device.type == "cpu" and vectors.dtype == torch.float32 and torch.isfinite(vectors).all()


def test_train_skipgram_is_reproducible_by_seed_and_takes_flat_token_lists():
    corpus = _zipf_corpus(1)
    first, vocab = pt_embeddings.train_skipgram(corpus, replace(FAST, min_count=1, seed=3))
    again, _ = pt_embeddings.train_skipgram(corpus, replace(FAST, min_count=1, seed=3))
    other, _ = pt_embeddings.train_skipgram(corpus, replace(FAST, min_count=1, seed=4))
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)
    flat = [token for sentence in corpus for token in sentence]
    as_one, vocab_one = pt_embeddings.train_skipgram(flat, replace(FAST, min_count=1, seed=3))
    as_list, vocab_list = pt_embeddings.train_skipgram([flat], replace(FAST, min_count=1, seed=3))
    assert vocab_one == vocab_list == vocab and torch.equal(as_one, as_list)
    assert not torch.equal(as_one, first), "windows cross sentence ends in one stream, not in sentences"
    tuples, _ = pt_embeddings.train_skipgram([tuple(s) for s in corpus], replace(FAST, min_count=1, seed=3))
    assert torch.equal(tuples, first)


def test_train_skipgram_rejects_bad_input():
    with pytest.raises(ValueError, match="not one string"):
        pt_embeddings.train_skipgram("the cat sat on the mat", replace(FAST, min_count=1))
    with pytest.raises(ValueError, match=r"only 1 word\(s\)"):
        pt_embeddings.train_skipgram(["cat"] * 10, replace(FAST, min_count=1))
    with pytest.raises(ValueError, match="lower min_count"):
        pt_embeddings.train_skipgram(["the", "cat", "sat"], replace(FAST, min_count=2))
    with pytest.raises(ValueError, match="list of strings or a list of lists"):
        pt_embeddings.train_skipgram([["a", "b"], "c"], replace(FAST, min_count=1))
    with pytest.raises(ValueError, match="at least 1"):
        pt_embeddings.train_skipgram(_zipf_corpus(), replace(FAST, min_count=1, window=0))
    with pytest.raises(TypeError, match="config must be a SkipGramConfig"):
        pt_embeddings.train_skipgram(_zipf_corpus(), {"dim": 8, "min_count": 1})


def test_train_skipgram_subsamples_with_the_keep_probability_it_is_given():
    """The notebook passes the student's keep_probability (Exercise 6): that function, not the
    library's, decides which words are dropped."""
    corpus = _zipf_corpus(1)
    config = replace(FAST, min_count=1, seed=3, sample=1e-2)
    calls = []

    def keep_all(counts, *, sample):
        calls.append((np.asarray(counts).copy(), sample))
        return np.ones(len(counts))

    kept_all, vocab = pt_embeddings.train_skipgram(corpus, config, keep_probability=keep_all)
    assert len(calls) == 1 and calls[0][1] == 1e-2
    np.testing.assert_array_equal(calls[0][0], np_embeddings.build_vocabulary(corpus, min_count=1)[1])
    no_subsampling, _ = pt_embeddings.train_skipgram(corpus, replace(config, sample=0))
    assert torch.equal(kept_all, no_subsampling), "keeping every word is training without subsampling"
    default, _ = pt_embeddings.train_skipgram(corpus, config)
    library, _ = pt_embeddings.train_skipgram(corpus, config, keep_probability=np_embeddings.keep_probability)
    assert torch.equal(default, library) and not torch.equal(default, kept_all)
    pt_embeddings.train_skipgram(corpus, replace(config, sample=0), keep_probability=lambda *a, **k: 1 / 0)
    with pytest.raises(ValueError, match=rf"keep_probability must return \({len(vocab)},\) probabilities"):
        pt_embeddings.train_skipgram(corpus, config, keep_probability=lambda counts, *, sample: np.ones(3))
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        pt_embeddings.train_skipgram(corpus, config, keep_probability=lambda counts, *, sample: counts)


def test_train_skipgram_subsamples_with_the_subsample_function_it_is_given():
    """The notebook passes the student's subsample (Exercise 6): it draws the kept tokens with the
    training's rng, once per epoch, and one that draws as the library does trains the same vectors."""
    corpus = _zipf_corpus(1)
    config = replace(FAST, min_count=1, seed=3, sample=1e-2)
    calls = []

    def like_the_library(ids, counts, *, sample, rng):
        calls.append((len(ids), sample))
        return rng.random(len(ids)) < np_embeddings.keep_probability(counts, sample=sample)[ids]

    mine, vocab = pt_embeddings.train_skipgram(corpus, config, subsample=like_the_library,
                                               keep_probability=lambda *a, **k: 1 / 0)
    assert len(calls) == config.epochs and calls[0] == (sum(map(len, corpus)), 1e-2)
    assert torch.equal(mine, pt_embeddings.train_skipgram(corpus, config)[0])
    kept_all, _ = pt_embeddings.train_skipgram(corpus, config, subsample=lambda ids, counts, *, sample, rng:
                                               np.ones(len(ids), dtype=bool))
    assert not torch.equal(kept_all, mine)
    pt_embeddings.train_skipgram(corpus, replace(config, sample=0), subsample=lambda *a, **k: 1 / 0)
    with pytest.raises(ValueError, match="boolean mask"):
        pt_embeddings.train_skipgram(corpus, config, subsample=lambda ids, counts, *, sample, rng: np.ones(len(ids)))
    with pytest.raises(ValueError, match="boolean mask"):
        pt_embeddings.train_skipgram(corpus, config, subsample=lambda ids, counts, *, sample, rng: np.ones(3, bool))


def test_train_skipgram_history_has_one_falling_entry_per_epoch():
    history = []
    config = SkipGramConfig(min_count=1, dim=16, window=2, negative=5, epochs=4, batch_size=64, sample=0)
    pt_embeddings.train_skipgram(_zipf_corpus(2, sentences=150), config, history=history)
    assert [epoch for epoch, _, _ in history] == [1, 2, 3, 4]
    losses = [loss for _, loss, _ in history]
    assert all(np.isfinite(losses)) and all(seconds >= 0 for *_, seconds in history)
    assert losses[-1] < losses[0] and losses[1] < losses[0]
    # at the start every score is 0: each pair costs (1 + K) log 2
    assert losses[0] < 6 * np.log(2)


def _two_groups(seed=0, sentences=300, length=10, size=8):
    rng = np.random.default_rng(seed)
    groups = [[f"a{i}" for i in range(size)], [f"b{i}" for i in range(size)]]
    return [list(rng.choice(groups[rng.integers(2)], size=length)) for _ in range(sentences)]


@pytest.mark.parametrize("device", DEVICES)
def test_words_that_share_contexts_end_up_close(device):
    corpus = _two_groups()
    config = SkipGramConfig(dim=16, window=2, negative=5, min_count=1, epochs=5, sample=0, batch_size=64, seed=0)
    vectors, vocab = pt_embeddings.train_skipgram(corpus, config, device=device)
    assert vectors.device.type == device and tuple(vectors.shape) == (16, 16)
    C = np_embeddings.cosine_similarity(vectors.cpu().numpy(), vectors.cpu().numpy())
    in_a = np.array([w.startswith("a") for w in vocab])
    same = (in_a[:, None] == in_a[None, :]) & ~np.eye(len(vocab), dtype=bool)
    different = in_a[:, None] != in_a[None, :]
    within, between = C[same].mean(), C[different].mean()
    assert within > 0.8 and within > between + 0.4, (within, between)


# ---------------------------------------------------------------- evaluation


def _evaluation_setup():
    pairs = data.load_wordsim353()
    sections = data.load_analogies()
    vocab = sorted({w for a, b, _ in pairs[:120] for w in (a, b)}
                   | {w for q in sections["capital-common-countries"] for w in q})
    vectors = np.random.default_rng(31).normal(size=(len(vocab), 12))
    return pairs, sections, vocab, vectors


def test_evaluate_word_vectors_reports_wordsim_and_analogies():
    pairs, sections, vocab, vectors = _evaluation_setup()
    questions = [q for section in sections.values() for q in section]
    result = pt_embeddings.evaluate_word_vectors(vectors, vocab, wordsim=pairs, analogies=sections)
    assert set(result) == {"spearman", "pairs_used", "pairs_total", "analogy_accuracy", "analogies_used",
                           "analogies_total"}
    rho, used = np_embeddings.wordsim_spearman(vectors, vocab, pairs)
    accuracy, answered = np_embeddings.analogy_accuracy(vectors, vocab, questions)
    assert result["spearman"] == rho and result["pairs_used"] == used and result["pairs_total"] == 353
    assert result["analogy_accuracy"] == accuracy and result["analogies_used"] == answered
    assert result["analogies_total"] == 19_544 and answered >= 506
    # the same from a torch tensor, from a list of questions, from a generator of pairs
    as_torch = pt_embeddings.evaluate_word_vectors(torch.tensor(vectors, dtype=torch.float32), vocab, wordsim=pairs,
                                    analogies=sections)
    assert as_torch.keys() == result.keys()
    for key, value in result.items():
        assert as_torch[key] == pytest.approx(value, rel=1e-5), key
    assert pt_embeddings.evaluate_word_vectors(vectors, vocab, wordsim=iter(pairs), analogies=questions) == result
    assert set(pt_embeddings.evaluate_word_vectors(vectors, vocab, wordsim=pairs)) == {
        "spearman", "pairs_used", "pairs_total"}
    assert set(pt_embeddings.evaluate_word_vectors(vectors, vocab, analogies=questions)) == {
        "analogy_accuracy", "analogies_used", "analogies_total"}
    assert pt_embeddings.evaluate_word_vectors(vectors, vocab) == {}


def test_evaluate_word_vectors_rejects_vectors_that_do_not_fit_the_vocabulary():
    pairs, _, vocab, vectors = _evaluation_setup()
    with pytest.raises(ValueError, match="V = len\\(vocab\\)"):
        pt_embeddings.evaluate_word_vectors(vectors[:-1], vocab, wordsim=pairs)
    with pytest.raises(ValueError, match="V = len\\(vocab\\)"):
        pt_embeddings.evaluate_word_vectors(torch.tensor(vectors[0]), vocab, wordsim=pairs)
