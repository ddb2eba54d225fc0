"""Torch twin of ``dlcourse.np.embeddings`` for prediction-based word vectors: skip-gram with
negative sampling (word2vec, Mikolov et al. 2013) in PyTorch, batched.

Legend: V vocabulary, D vector dimensions, N pairs in a batch, K negative samples per pair,
T tokens, P (input, context) pairs of an epoch.

    loss, dv, du_pos, du_neg = negative_sampling_loss(v, u_pos, u_neg)   the twin of NumPy's
    vectors, vocab = train_skipgram(sentences, SkipGramConfig(dim=100, window=5, min_count=5, epochs=5))
    scores = evaluate_word_vectors(vectors, vocab, wordsim=data.load_wordsim353(stem=True),
                                   analogies=data.load_analogies(stem=True))
    vectors, vocab = train_gensim_skipgram(sentences, SkipGramConfig(...))   the same with gensim

The counting methods (co-occurrences, PPMI, SVD) and the scores (cosine similarity,
analogies, Spearman's rho) are NumPy's: ``dlcourse.np.embeddings``.

What word2vec.c and gensim do, and this does too: words rarer than ``min_count`` are
dropped; each occurrence of a frequent word is dropped with the subsampling probability
1 - keep_probability; each position draws its own window 1..``window`` (nearer words count
more); each (input word, context word) pair is one positive and ``negative`` noise words
drawn from the unigram distribution to the power 3/4; the learning rate falls linearly
from ``lr`` to ``min_lr`` over the whole training.

What differs: gensim updates the vectors after every pair; here N pairs (``batch_size``,
shuffled within each epoch) are scored with the same vectors and their per-pair updates
added together (``index_add_``). A word seen many times in one batch moves by the sum of
its updates, so very large batches need a smaller ``lr``.

Weights: ``W_in`` (V, D) holds the vectors returned, ``W_out`` (V, D) the output
("context") vectors, initialised as in word2vec (uniform in +-0.5/D and zeros).
"""

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from dlcourse import runtime
from dlcourse.np import embeddings as np_embeddings


def negative_sampling_loss(v, u_pos, u_neg):
    """Torch twin of np.embeddings.negative_sampling_loss: the loss summed over N
    pairs and its gradients (loss, dv, du_pos, du_neg), computed by hand (no autograd).

    v: (N, D), u_pos: (N, D), u_neg: (N, K, D); results follow v's device and dtype.
    """
    if v.ndim != 2 or u_pos.shape != v.shape or u_neg.ndim != 3 or u_neg.shape[::2] != v.shape:
        raise ValueError(f"expected v: (N, D), u_pos: (N, D), u_neg: (N, K, D); got {tuple(v.shape)}, "
                         f"{tuple(u_pos.shape)}, {tuple(u_neg.shape)}")
    loss, dv, du = _loss_and_gradients(v, torch.cat([u_pos.unsqueeze(1), u_neg], dim=1))
    return loss, dv, du[:, 0], du[:, 1:]


def _loss_and_gradients(v, u):
    """The loss and gradients with the output vectors stacked: u: (N, 1 + K, D), the true
    context word first. One gather, one score product and one update serve all 1 + K."""
    scores = torch.bmm(u, v.unsqueeze(2)).squeeze(2)           # (N, 1 + K)
    scores[:, 0].neg_()                                        # the true word wants s(+score), noise s(-score)
    loss = -torch.nn.functional.logsigmoid(-scores).sum()
    g = torch.sigmoid(scores)                                  # dL/d(+-score), (N, 1 + K)
    g[:, 0].neg_()                                             # back to dL/dscore: s(score) - 1 for the true word
    dv = torch.bmm(g.unsqueeze(1), u).squeeze(1)               # (N, D)
    du = g.unsqueeze(2) * v.unsqueeze(1)                       # (N, 1 + K, D)
    return loss, dv, du


def _as_sentences(tokens) -> list[list[str]]:
    """A list of sentences from either one stream of tokens or a list of sentences."""
    if isinstance(tokens, str):
        raise ValueError("tokens must be a list of words (or of sentences), not one string: "
                         "use text.split()")
    tokens = list(tokens)
    if tokens and all(isinstance(t, str) for t in tokens):
        return [tokens]
    if all(isinstance(t, (list, tuple)) for t in tokens):
        return [list(t) for t in tokens]
    raise ValueError("tokens must be a list of strings or a list of lists of strings")


def skipgram_pairs(ids: np.ndarray, sentence_of: np.ndarray, *, window: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """All (input, context) pairs of one pass: every position draws its window b in
    1..window and pairs with the words up to b positions before and after it in the same
    sentence. ids, sentence_of: (T,) word ids and sentence numbers, after subsampling.
    Returns (inputs, contexts), each (P,)."""
    reach = rng.integers(1, window + 1, size=len(ids))  # (T,)
    inputs, contexts = [], []
    for d in range(1, window + 1):
        same = sentence_of[d:] == sentence_of[:-d]         # positions t and t + d, (T - d,)
        left = same & (reach[:-d] >= d)                    # t + d is within t's window
        right = same & (reach[d:] >= d)                    # t is within (t + d)'s window
        inputs += [ids[d:][left], ids[:-d][right]]
        contexts += [ids[:-d][left], ids[d:][right]]
    return np.concatenate(inputs), np.concatenate(contexts)


@dataclass(frozen=True)
class SkipGramConfig:
    """The settings of skip-gram with negative sampling, named and defaulted as in gensim's
    Word2Vec (dim: vector_size, lr: alpha, min_lr: min_alpha).

    dim: D, the vectors' length; window: the largest distance between an input word and a
    context word (each position draws its own window 1..window); negative: K noise words
    per pair; min_count: words seen fewer times are dropped; epochs: passes over the text;
    lr falling linearly to min_lr over the whole training; sample: the subsampling
    threshold t of keep_probability (0: no subsampling); batch_size: N pairs scored with the
    same vectors (train_skipgram only: gensim updates after every pair); seed: every random
    draw (initial vectors, subsampling, windows, shuffling, noise words).
    """

    dim: int = 100
    window: int = 5
    negative: int = 5
    min_count: int = 5
    epochs: int = 5
    lr: float = 0.025
    min_lr: float = 1e-4
    sample: float = 1e-3
    batch_size: int = 1024
    seed: int = 0


def _check_config(config) -> SkipGramConfig:
    if not isinstance(config, SkipGramConfig):
        raise TypeError(f"config must be a SkipGramConfig, such as SkipGramConfig(dim=100, epochs=5), "
                        f"got {type(config).__name__}")
    return config


def train_skipgram(tokens, config: SkipGramConfig, *, device=None, progress: bool | None = None,
                   history: list | None = None,
                   keep_probability=np_embeddings.keep_probability,
                   subsample=None) -> tuple[torch.Tensor, list[str]]:
    """Train skip-gram with negative sampling; returns (vectors (V, D) on ``device``, vocab).

    ``tokens`` is one list of words or a list of sentences (windows stay inside a
    sentence); config: a SkipGramConfig. ``device`` defaults to the CPU: pass
    ``runtime.default_device()`` for a GPU. The vocabulary is sorted by frequency.
    ``history``, when given a list, receives one (epoch, mean loss per pair, seconds) tuple
    per epoch. ``keep_probability(counts: (V,), *, sample) -> (V,)`` gives each word's chance
    to be kept by subsampling (not called when config.sample is 0); a notebook passes its
    own answer, the default is np.embeddings.keep_probability. ``subsample(ids: (T,), counts: (V,), *,
    sample, rng) -> (T,) bool``, when given, replaces it: it draws, once per epoch and with the
    training's ``rng``, which occurrences of the text to keep (the notebook's Exercise 6).
    """
    config = _check_config(config)
    dim, window, negative, min_count, epochs = (config.dim, config.window, config.negative, config.min_count,
                                                config.epochs)
    lr, min_lr, sample, batch_size, seed = config.lr, config.min_lr, config.sample, config.batch_size, config.seed
    sentences = _as_sentences(tokens)
    if dim < 1 or window < 1 or negative < 1 or epochs < 1 or batch_size < 1:
        raise ValueError("dim, window, negative, epochs and batch_size must be at least 1")
    vocab, counts = np_embeddings.build_vocabulary(sentences, min_count=min_count)
    if len(vocab) < 2:
        raise ValueError(f"only {len(vocab)} word(s) occur at least min_count={min_count} times: "
                         "give more text or lower min_count")
    device = torch.device("cpu") if device is None else torch.device(device)
    index = {word: i for i, word in enumerate(vocab)}
    ids, sentence_of = [], []
    for number, sentence in enumerate(sentences):
        known = [index[t] for t in sentence if t in index]
        ids += known
        sentence_of += [number] * len(known)
    ids, sentence_of = np.array(ids, dtype=np.int64), np.array(sentence_of, dtype=np.int64)

    rng = np.random.default_rng(seed)
    generator = torch.Generator(device=device).manual_seed(seed)
    W_in = ((torch.rand(len(vocab), dim, generator=generator, device=device) - 0.5) / dim)
    W_out = torch.zeros(len(vocab), dim, device=device)
    # word2vec.c's noise table: word i fills a share counts[i]^0.75 / sum of its cells,
    # so that a uniform cell index draws from the smoothed unigram distribution
    noise = counts.astype(np.float64) ** 0.75
    table_size = max(1_000_000, 100 * len(vocab))
    noise_table = torch.as_tensor(
        np.repeat(np.arange(len(vocab)), np.diff(np.round(np.cumsum(noise) / noise.sum() * table_size),
                                                 prepend=0).astype(np.int64)), device=device)
    keep = np.ones(len(vocab))
    if sample and subsample is None:
        keep = np.asarray(keep_probability(counts, sample=sample), dtype=np.float64)  # (V,)
        if keep.shape != (len(vocab),) or not np.all((keep >= 0) & (keep <= 1)):
            raise ValueError(f"keep_probability must return ({len(vocab)},) probabilities in [0, 1], one per "
                             f"word of the vocabulary; got shape {keep.shape}")

    bar = runtime.progress(range(epochs), desc="skip-gram", enabled=progress is not False)
    for epoch in bar:
        start = time.perf_counter()
        if sample and subsample is not None:
            kept = np.asarray(subsample(ids, counts, sample=sample, rng=rng))
            if kept.shape != ids.shape or kept.dtype != bool:
                raise ValueError(f"subsample must return a ({len(ids)},) boolean mask, one entry per token; got "
                                 f"shape {kept.shape}, dtype {kept.dtype}")
        else:
            kept = rng.random(len(ids)) < keep[ids]
        inputs, contexts = skipgram_pairs(ids[kept], sentence_of[kept], window=window, rng=rng)
        order = rng.permutation(len(inputs))
        inputs = torch.as_tensor(inputs[order], device=device)
        contexts = torch.as_tensor(contexts[order], device=device)
        total_loss = torch.zeros((), dtype=torch.float64, device=device)
        for first in range(0, len(inputs), batch_size):
            done = (epoch + first / len(inputs)) / epochs
            rate = lr - (lr - min_lr) * done
            x = inputs[first:first + batch_size]
            y = contexts[first:first + batch_size]
            noise_ids = noise_table[torch.randint(len(noise_table), (len(x), negative), generator=generator,
                                                  device=device)]                      # (N, K)
            targets = torch.cat([y.unsqueeze(1), noise_ids], dim=1)                  # (N, 1 + K)
            loss, dv, du = _loss_and_gradients(W_in.index_select(0, x),
                                               W_out.index_select(0, targets.flatten()).view(*targets.shape, dim))
            W_in.index_add_(0, x, dv, alpha=-rate)
            W_out.index_add_(0, targets.flatten(), du.view(-1, dim), alpha=-rate)
            total_loss += loss
        mean_loss = total_loss.item() / max(len(inputs), 1)
        if not math.isfinite(mean_loss):
            raise FloatingPointError(f"the loss became {mean_loss} in epoch {epoch + 1}: lower lr")
        if history is not None:
            history.append((epoch + 1, mean_loss, time.perf_counter() - start))
        bar.set_postfix(loss=f"{mean_loss:.3f}", pairs=len(inputs))
    return W_in, vocab


def evaluate_word_vectors(vectors, vocab, *, wordsim=None, analogies=None) -> dict:
    """Quality of word vectors: (V, D), torch or NumPy on any device, one row per word of
    ``vocab`` (a list of V words):

    - ``wordsim``: (word1, word2, human score) pairs, e.g. data.load_wordsim353(): Spearman's
      rho between cosine similarity and the human scores over the pairs whose words are in
      the vocabulary -> "spearman", "pairs_used", "pairs_total";
    - ``analogies``: (a, b, c, d) questions, or a dict of them by section as
      data.load_analogies() gives -> "analogy_accuracy", "analogies_used", "analogies_total".
    """
    from dlcourse.check import as_numpy

    vectors = as_numpy(vectors, name="vectors").astype(np.float64)
    if vectors.ndim != 2 or len(vectors) != len(vocab):
        raise ValueError(f"vectors must be (V, D) with V = len(vocab) = {len(vocab)}, got {vectors.shape}")
    result = {}
    if wordsim is not None:
        wordsim = list(wordsim)
        rho, used = np_embeddings.wordsim_spearman(vectors, vocab, wordsim)
        result.update(spearman=rho, pairs_used=used, pairs_total=len(wordsim))
    if analogies is not None:
        if isinstance(analogies, dict):
            analogies = [q for section in analogies.values() for q in section]
        analogies = list(analogies)
        accuracy, used = np_embeddings.analogy_accuracy(vectors, vocab, analogies)
        result.update(analogy_accuracy=accuracy, analogies_used=used, analogies_total=len(analogies))
    return result


def train_gensim_skipgram(tokens, config: SkipGramConfig, *, workers: int = 2) -> tuple[np.ndarray, list[str]]:
    """The baseline: gensim's Word2Vec (optimised C, one thread per worker) as skip-gram with
    negative sampling and the settings of ``config`` (its batch_size aside: gensim updates
    after every pair). Returns (vectors (V, D), vocab), vocab sorted by frequency as ours
    is. gensim's results vary slightly from run to run when workers > 1 (threads race on
    shared vectors)."""
    from gensim.models import Word2Vec

    config = _check_config(config)
    model = Word2Vec(_as_sentences(tokens), vector_size=config.dim, window=config.window, negative=config.negative,
                     min_count=config.min_count, epochs=config.epochs, alpha=config.lr, min_alpha=config.min_lr,
                     sample=config.sample, seed=config.seed, workers=workers, sg=1, hs=0)
    return model.wv.vectors.copy(), list(model.wv.index_to_key)
