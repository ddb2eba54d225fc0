"""Principal component analysis and the angles between subspaces, in NumPy.

Legend: N samples, D features, k components (m the rows of a second basis).

    components, mean, variance = pca(X, k)        X: (N, D) -> (k, D), (D,), (k,)
    Z = pca_transform(X, components, mean)        (N, D) -> (N, k) coordinates
    X_hat = pca_reconstruct(Z, components, mean)  (N, k) -> (N, D), the projection of X
    angles = principal_angles(A, B)               A: (k, D), B: (m, D) -> radians, ascending

The components are rows, as in sklearn's ``PCA.components_``: unit vectors, orthogonal
to each other, the direction of greatest variance first. A linear autoencoder trained to
reconstruct X learns a basis of the same subspace, though not these very vectors:
``principal_angles`` measures how far two subspaces are apart whatever basis spans them.
"""

from numbers import Integral

import numpy as np

from dlcourse.check import shown


def _check_2d(name, array, width=None, what="(N, D)"):
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 2 or (width is not None and array.shape[1] != width):
        raise ValueError(f"{name} must be {what}, got shape {array.shape}")
    return array


def pca(X, k):
    """The top ``k`` principal components of X: (N, D).

    X is centred by its column means and factorised, Xc = U S Vt (an SVD); the components
    are the first k rows of Vt, each with its sign fixed so that its entry of largest
    absolute value is positive (an SVD's signs are arbitrary; this makes them
    reproducible). explained_variance = S[:k]**2 / (N - 1), the variance of the data
    along each component (sklearn's convention, the unbiased estimate).

    Returns (components: (k, D), mean: (D,), explained_variance: (k,)), the variances in
    decreasing order.
    """
    X = _check_2d("X", X)
    N, D = X.shape
    if N < 2:
        raise ValueError(f"X must hold at least 2 samples to have a variance, got shape {X.shape}")
    if isinstance(k, bool) or not isinstance(k, Integral) or not 1 <= k <= min(N, D):
        raise ValueError(f"k must be an int with 1 <= k <= min(N, D) = {min(N, D)} for X: {X.shape}, got {shown(k)}")
    mean = X.mean(axis=0)                                      # (D,)
    _, S, Vt = np.linalg.svd(X - mean, full_matrices=False)    # S: (min(N, D),), Vt: (min(N, D), D)
    components = Vt[:k]                                        # (k, D)
    largest = components[np.arange(k), np.abs(components).argmax(axis=1)]  # (k,)
    components = components * np.where(largest < 0, -1.0, 1.0)[:, None]
    return components, mean, S[:k] ** 2 / (N - 1)


def _check_basis(components, mean):
    components = _check_2d("components", components, what="(k, D)")
    mean = np.asarray(mean, dtype=np.float64)
    if mean.shape != (components.shape[1],):
        raise ValueError(f"mean must be ({components.shape[1]},) to match components: {components.shape}, "
                         f"got shape {mean.shape}")
    return components, mean


def pca_transform(X, components, mean):
    """The coordinates of X: (N, D) along the components: (k, D), after subtracting
    mean: (D,). Returns Z = (X - mean) @ components.T: (N, k)."""
    components, mean = _check_basis(components, mean)
    X = _check_2d("X", X, components.shape[1], f"(N, {components.shape[1]})")
    return (X - mean) @ components.T


def pca_reconstruct(Z, components, mean):
    """Back from coordinates Z: (N, k) to X_hat = Z @ components + mean: (N, D).

    pca_reconstruct(pca_transform(X, ...), ...) is the orthogonal projection of X onto
    the affine subspace through the mean spanned by the components: X itself when k = D.
    """
    components, mean = _check_basis(components, mean)
    Z = _check_2d("Z", Z, components.shape[0], f"(N, {components.shape[0]})")
    return Z @ components + mean


def _orthonormal_columns(name, M, tol):
    """An orthonormal basis, as columns (D, r), of the space spanned by the rows of M."""
    Q, R = np.linalg.qr(M.T)                                   # M.T: (D, k) = Q (D, k) R (k, k)
    scale = max(np.abs(R).max(), np.finfo(np.float64).tiny)
    if np.abs(np.diag(R)).min() <= tol * scale:
        raise ValueError(f"the rows of {name}: {M.shape} must be linearly independent (a basis)")
    return Q


def principal_angles(A, B, *, tol=1e-10):
    """The principal angles between span(rows of A) and span(rows of B), in radians,
    ascending: the first is the smallest angle between any vector of one subspace and
    any vector of the other, the next the smallest among directions orthogonal to those,
    and so on (Bjorck & Golub 1973).

    A: (k, D), B: (m, D), each a basis (linearly independent rows, not necessarily
    orthonormal). Each is orthonormalised, A.T = Qa Ra and B.T = Qb Rb (QR); the
    singular values of Qa.T @ Qb: (k, m) are the cosines of the angles. Returns
    min(k, m) angles in [0, pi/2]: all zero when one subspace contains the other, all
    pi/2 when they are orthogonal. A change of basis (B replaced by M @ B, M invertible)
    leaves them unchanged. As arccos loses precision near 0, angles below about 1e-8
    read as 0 or about 1e-8.
    """
    A = _check_2d("A", A, what="(k, D)")
    B = _check_2d("B", B, A.shape[1], f"(m, {A.shape[1]}) to match A: {A.shape}")
    Qa, Qb = _orthonormal_columns("A", A, tol), _orthonormal_columns("B", B, tol)  # (D, k), (D, m)
    cosines = np.linalg.svd(Qa.T @ Qb, compute_uv=False)      # (min(k, m),), descending
    return np.arccos(np.clip(cosines, -1.0, 1.0))             # ascending
