"""Our skip-gram (dlcourse.pt.embeddings, batched PyTorch) against gensim's Word2Vec.

Both train skip-gram with negative sampling on the same articles of the text excerpt
(331k stemmed tokens), with the same settings: 100 dimensions, window 5, 5 noise words,
min_count 5, subsampling 1e-3, learning rate 0.025 falling to 1e-4. Both are scored on the
WordSim-353 pairs (stemmed) inside the vocabulary and on the Google analogy questions, and
the ratios are taken within this one run, on this machine.

    python benchmarks/bench_word2vec.py                 # 20 epochs, about 1.5 minutes on 2 cores
    python benchmarks/bench_word2vec.py --epochs 5 --max-tokens 100000

gensim runs 2 worker threads (its results vary slightly between runs for that reason);
torch uses as many threads as it finds (torch.get_num_threads()).
"""

import argparse
import os
import platform
import time

import torch

from dlcourse import data
from dlcourse.pt import embeddings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=None, help="train on the first tokens only")
    parser.add_argument("--workers", type=int, default=2, help="gensim's worker threads")
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")

    articles = data.load_text_excerpt(articles=True, max_tokens=args.max_tokens)
    wordsim, analogies = data.load_wordsim353(stem=True), data.load_analogies(stem=True)
    config = embeddings.SkipGramConfig(dim=100, window=5, negative=5, min_count=5, epochs=args.epochs, seed=0)
    print(f"machine: {platform.machine()}, os.cpu_count() = {os.cpu_count()}, torch threads = "
          f"{torch.get_num_threads()}, gensim workers = {args.workers}, torch {torch.__version__}")
    print(f"{sum(map(len, articles)):,} tokens in {len(articles)} articles; {config}\n")

    results = {}
    for name, train in (("gensim Word2Vec", lambda: embeddings.train_gensim_skipgram(
                            articles, config, workers=args.workers)),
                        ("dlcourse skip-gram", lambda: embeddings.train_skipgram(
                            articles, config, progress=False))):
        start = time.perf_counter()
        vectors, vocab = train()
        seconds = time.perf_counter() - start
        results[name] = dict(seconds=seconds, vocab=len(vocab),
                             **embeddings.evaluate_word_vectors(vectors, vocab, wordsim=wordsim, analogies=analogies))

    print(f"{'':20s} {'time':>8s} {'vocab':>6s} {'Spearman (pairs)':>17s} {'analogies (used)':>18s}")
    for name, r in results.items():
        print(f"{name:20s} {r['seconds']:7.1f}s {r['vocab']:6d} {r['spearman']:9.3f} ({r['pairs_used']:3d})"
              f" {r['analogy_accuracy']:10.3f} ({r['analogies_used']})")
    ours, theirs = results["dlcourse skip-gram"], results["gensim Word2Vec"]
    print(f"\ntime: ours / gensim's          = {ours['seconds'] / theirs['seconds']:.2f}x  (aim: at most 5x)")
    print(f"Spearman: ours / gensim's      = {ours['spearman'] / theirs['spearman']:.2f}   (aim: at least 0.9)")


if __name__ == "__main__":
    main()
