"""Torch twin of ``dlcourse.np.pca``: principal component analysis on tensors.

Legend: N samples, D features, k components.

    components, mean, variance = pca(X, k)        X: (N, D) -> (k, D), (D,), (k,)

The components are rows, as in sklearn's ``PCA.components_``; the results are on X's
device and in X's (floating) dtype.
"""

from numbers import Integral

import torch


def pca(X, k):
    """Torch twin of np.pca.pca: (components: (k, D), mean: (D,),
    explained_variance: (k,)) of X: (N, D), on X's device and in X's dtype.

    The same centring, SVD, sign convention (each component's largest-|.| entry
    positive) and variance S**2 / (N - 1) as the NumPy reference.
    """
    if not isinstance(X, torch.Tensor) or X.ndim != 2:
        raise ValueError(f"X must be a tensor (N, D), got shape {tuple(getattr(X, 'shape', ()))}")
    N, D = X.shape
    if N < 2:
        raise ValueError(f"X must hold at least 2 samples to have a variance, got shape {tuple(X.shape)}")
    if isinstance(k, bool) or not isinstance(k, Integral) or not 1 <= k <= min(N, D):
        raise ValueError(f"k must be an int with 1 <= k <= min(N, D) = {min(N, D)} for X: {tuple(X.shape)}, "
                         f"got {k!r}")
    if not X.is_floating_point():
        X = X.to(torch.get_default_dtype())
    mean = X.mean(dim=0)                                                # (D,)
    _, S, Vt = torch.linalg.svd(X - mean, full_matrices=False)          # S: (min(N, D),), Vt: (min(N, D), D)
    k = int(k)
    components = Vt[:k]                                                 # (k, D)
    rows = torch.arange(k, device=X.device)
    largest = components[rows, components.abs().argmax(dim=1)]         # (k,)
    components = components * torch.where(largest < 0, -1.0, 1.0).to(X.dtype)[:, None]
    return components, mean, S[:k] ** 2 / (N - 1)
