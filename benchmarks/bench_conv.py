"""How fast is each convolution? Loops, im2col and torch on one CIFAR-sized batch.

x: (64, 3, 32, 32), w: (16, 3, 3, 3), pad 1, stride 1, float64 throughout (NumPy's dtype),
plus torch in float32 for reference. Each time is the median of --repeat runs (the naive
loops run once: they take seconds). Ratios are taken within this one run, on this machine.

    python benchmarks/bench_conv.py [--repeat N]
    OMP_NUM_THREADS=1 python benchmarks/bench_conv.py   # one thread for NumPy's BLAS and torch

NumPy's matrix product and torch use as many threads as they find; in a container with a
CPU quota below its core count, multithreaded times can come out throttled in steps of a
few milliseconds, and one thread is the fairer comparison.
"""

import argparse
import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F

from dlcourse.np import conv as np_conv


def blas_threads():
    """The threads of NumPy's BLAS, where threadpoolctl (optional) can tell."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    counts = [str(pool["num_threads"]) for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return ", ".join(counts) or "unknown"


def median_seconds(fn, repeat):
    """The median wall time of ``repeat`` calls of fn(), after one call to warm up."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per method (median reported)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(64, 3, 32, 32)), rng.normal(size=(16, 3, 3, 3)), rng.normal(size=16)
    pad = 1
    n_filters, _, kh, kw = w.shape
    xt, wt, bt = torch.tensor(x), torch.tensor(w), torch.tensor(b)
    xt32, wt32, bt32 = xt.float(), wt.float(), bt.float()
    cols = np_conv.im2col(x, kh, kw, pad=pad)
    w_mat = w.reshape(n_filters, -1)

    print(f"machine: {platform.machine()} {platform.processor() or ''}".rstrip()
          + f", os.cpu_count() = {os.cpu_count()}, torch threads = {torch.get_num_threads()},"
          f" NumPy BLAS threads = {blas_threads()}, numpy {np.__version__}, torch {torch.__version__}")
    print(f"x {x.shape}, w {w.shape}, pad {pad}: cols {cols.shape}, "
          f"{np_conv.conv2d_cost(3, 32, 32, 16, 3, pad=pad)['multiply_adds'] * 64:,} multiply-adds")

    # the outputs agree before anything is timed
    reference = F.conv2d(xt, wt, bt, padding=pad).numpy()
    start = time.perf_counter()
    naive, _ = np_conv.conv2d_forward_naive(x, w, b, pad=pad)
    naive_s = time.perf_counter() - start
    fast, _ = np_conv.conv2d_forward(x, w, b, pad=pad)
    for name, out in (("naive", naive), ("im2col", fast)):
        error = np.abs(out - reference).max()
        assert error < 1e-10, f"{name} differs from F.conv2d by {error:.3g}"
    print(f"outputs agree: max |naive - torch| = {np.abs(naive - reference).max():.1e},"
          f" max |im2col - torch| = {np.abs(fast - reference).max():.1e}")

    times = {
        "naive loops (np, 1 run)": naive_s,
        "im2col + matmul (np)": median_seconds(lambda: np_conv.conv2d_forward(x, w, b, pad=pad), args.repeat),
        "  im2col alone (np)": median_seconds(lambda: np_conv.im2col(x, kh, kw, pad=pad), args.repeat),
        "  bare matmul w_mat @ cols (np)": median_seconds(lambda: w_mat @ cols, args.repeat),
        "F.conv2d (torch, float64)": median_seconds(lambda: F.conv2d(xt, wt, bt, padding=pad), args.repeat),
        "F.conv2d (torch, float32)": median_seconds(lambda: F.conv2d(xt32, wt32, bt32, padding=pad), args.repeat),
    }
    torch_s = times["F.conv2d (torch, float64)"]
    print(f"\nmedian of {args.repeat} runs (naive: one run)\n")
    print(f"{'method':34s} {'time':>11s} {'/ torch f64':>12s}")
    for name, seconds in times.items():
        print(f"{name:34s} {seconds * 1e3:8.2f} ms {seconds / torch_s:11.1f}x")
    im2col_s, matmul_s = times["im2col + matmul (np)"], times["  bare matmul w_mat @ cols (np)"]
    print(f"\nnaive / im2col            = {naive_s / im2col_s:8.1f}x")
    print(f"im2col / bare matmul      = {im2col_s / matmul_s:8.1f}x  (the rest is building cols and reshaping)")
    print(f"im2col / torch float64    = {im2col_s / torch_s:8.1f}x")


if __name__ == "__main__":
    main()
