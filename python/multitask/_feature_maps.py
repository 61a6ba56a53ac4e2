r"""Explicit feature maps z(x) whose inner products reproduce or approximate an input kernel.

Two maps feed the primal route of :class:`MultiTaskKernelRidge` (``solver="nystroem"``
and ``solver="random_features"``):

* **Nyström** (Williams & Seeger 2001): m landmarks L drawn from the training inputs
  and :math:`z(x) = k(x, L)\, U \Lambda^{-1/2}` over the positive eigenpairs of
  :math:`k(L, L) = U \Lambda U^T`, so that :math:`\langle z(x), z(x')\rangle =
  k(x, L)\, k(L, L)^{+} k(L, x')`: exact on the span of the landmarks, and equal to
  k on the training inputs when every training input is a landmark. The kernel
  values k(x, L) come from the estimator (the C++ input kernels or a callable); this
  module holds the landmarks and the projection :math:`U\Lambda^{-1/2}`.
* **Random Fourier features** (Rahimi & Recht 2007): for a shift-invariant kernel
  :math:`k(x, x') = \int p(\omega) \cos(\omega^T (x - x'))\, d\omega`,
  :math:`z(x) = \sqrt{2/m}\, \cos(W^T x + b)` with the m columns of W drawn from
  p and b uniform on [0, 2π) has :math:`E\langle z(x), z(x')\rangle = k(x, x')`.
  The rbf kernel exp(-γ‖δ‖²) has p = N(0, 2γ I); the Laplacian kernel
  exp(-γ‖δ‖₁) = Π_j exp(-γ|δ_j|) has independent Cauchy(0, γ) coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._sparse_input import is_sparse

__all__ = [
    "FEATURE_CHUNK_ROWS",
    "RANDOM_FEATURE_KERNELS",
    "NystroemMap",
    "RandomFourierMap",
    "fill_features",
    "nystroem_projection",
]

# Rows of a feature matrix computed at a time: bounds the temporaries of a map
# (a chunk of kernel values or of W^T x) to 8192 x m, however many rows there are.
FEATURE_CHUNK_ROWS = 8192

RANDOM_FEATURE_KERNELS = ("rbf", "laplacian")


def fill_features(features: Callable[[np.ndarray], np.ndarray], X: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write ``features(X)`` into ``out`` (n, r) chunk by chunk, so that no second (n, r) array exists.

    Parameters
    ----------
    features : callable
        Maps rows (k, d) to their features (k, r).
    X : ndarray of shape (n, d)
    out : ndarray of shape (n, r)
        Written in place (any strides).

    Returns
    -------
    out : ndarray of shape (n, r)
    """
    for start in range(0, X.shape[0], FEATURE_CHUNK_ROWS):
        stop = min(start + FEATURE_CHUNK_ROWS, X.shape[0])
        out[start:stop] = features(X[start:stop])
    return out


def nystroem_projection(landmark_gram: np.ndarray, dtype: type) -> np.ndarray:
    r"""The projection :math:`U_+ \Lambda_+^{-1/2}` (m, r) of the Nyström map.

    Parameters
    ----------
    landmark_gram : ndarray of shape (m, m)
        k(L, L), symmetric positive semidefinite up to round-off (float64).
    dtype : type
        dtype the features are computed in: its machine epsilon sets which
        eigenvalues count as positive.

    Returns
    -------
    ndarray of shape (m, r)
        Columns :math:`u_k / \sqrt{\lambda_k}` for the r eigenvalues above
        :math:`m\,\epsilon\,\lambda_{max}`. Smaller ones are round-off of a singular
        k(L, L) (duplicate or nearly collinear landmarks): dividing by their square
        root would only amplify the rounding errors of k(x, L) in the features.
    """
    gram = 0.5 * (landmark_gram + landmark_gram.T)
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    largest = max(float(eigenvalues[-1]), 0.0)
    positive = eigenvalues > gram.shape[0] * np.finfo(dtype).eps * largest
    if largest == 0.0 or not np.any(positive):
        raise ValueError("the kernel matrix of the Nyström landmarks is zero: the kernel gives no features")
    return eigenvectors[:, positive] / np.sqrt(eigenvalues[positive])


@dataclass
class NystroemMap:
    r"""The Nyström map :math:`z(x) = k(x, L)\, P` (P = ``projection``).

    Attributes
    ----------
    landmarks : ndarray of shape (m, d)
        The landmark inputs L, rows of the training inputs.
    landmark_indices : ndarray of shape (m,)
        Their rows among the training inputs (in the caller's order).
    projection : ndarray of shape (m, r)
        :math:`U_+ \Lambda_+^{-1/2}`, float64 (see :func:`nystroem_projection`).
    """

    landmarks: np.ndarray
    landmark_indices: np.ndarray
    projection: np.ndarray

    @property
    def n_components(self) -> int:
        """Number r of features (positive eigenvalues of k(L, L))."""
        return int(self.projection.shape[1])


@dataclass
class RandomFourierMap:
    r"""Random Fourier features :math:`z(x) = \sqrt{2/m}\cos(x W + b)`.

    Attributes
    ----------
    frequencies : ndarray of shape (d, m)
        W, one frequency per column, drawn from the kernel's spectral density.
    phases : ndarray of shape (m,)
        b, uniform on [0, 2π).
    """

    frequencies: np.ndarray
    phases: np.ndarray

    @classmethod
    def draw(
        cls,
        kernel: str,
        gamma: float,
        n_features: int,
        n_components: int,
        rng: np.random.Generator | np.random.RandomState,
        dtype: type,
    ) -> "RandomFourierMap":
        """Draw W and b for ``kernel`` ("rbf" or "laplacian") with scale ``gamma``.

        Parameters
        ----------
        kernel : {"rbf", "laplacian"}
        gamma : float
            Scale of the kernel, > 0.
        n_features : int
            Input dimension d.
        n_components : int
            Number m of features.
        rng : numpy.random.RandomState or numpy.random.Generator
        dtype : type
            float32 or float64: the dtype the features are computed in.

        Returns
        -------
        RandomFourierMap
        """
        shape = (n_features, n_components)
        if kernel == "rbf":
            # exp(-gamma ||delta||^2) = E cos(w^T delta) for w ~ N(0, 2 gamma I).
            frequencies = rng.normal(scale=np.sqrt(2.0 * gamma), size=shape)
        elif kernel == "laplacian":
            # exp(-gamma |delta_j|) is the characteristic function of Cauchy(0, gamma).
            frequencies = gamma * rng.standard_cauchy(size=shape)
        else:
            raise ValueError(f"kernel must be one of {RANDOM_FEATURE_KERNELS} for random Fourier features, got {kernel!r}")
        phases = rng.uniform(0.0, 2.0 * np.pi, size=n_components)
        return cls(np.ascontiguousarray(frequencies, dtype=dtype), phases.astype(dtype))

    @property
    def n_components(self) -> int:
        """Number m of features."""
        return int(self.phases.shape[0])

    def transform(self, X: np.ndarray) -> np.ndarray:
        """z(X) (n, m) for rows X (n, d), in the dtype of the map; in place after the one product."""
        rows = X.astype(self.frequencies.dtype) if is_sparse(X) else np.asarray(X, dtype=self.frequencies.dtype)
        features = np.asarray(rows @ self.frequencies)
        features += self.phases
        np.cos(features, out=features)
        features *= np.sqrt(2.0 / self.n_components).astype(features.dtype)
        return features

    def expansion(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """z(X) @ weights (n, w), a chunk of z(X) at a time.

        Parameters
        ----------
        X : ndarray of shape (n, d)
        weights : ndarray of shape (m, w)

        Returns
        -------
        ndarray of shape (n, w)
        """
        dtype = np.result_type(self.frequencies.dtype, weights.dtype)
        out = np.empty((X.shape[0], weights.shape[1]), dtype=dtype)
        return fill_features(lambda rows: self.transform(rows) @ weights, X, out)
