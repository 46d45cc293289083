"""The latent plane: how a d-dimensional code is shown on, and recovered from, a 2-D plot.

A plane is an origin o (d,) and a basis V (d, 2) with orthonormal columns: either two
chosen latent dimensions, or the top two principal directions of the encoded means.

    to_plane(z)         p = Vᵀ (z - o)
    to_latent(p, z_cur) z = z_cur + V (p - Vᵀ (z_cur - o))

`to_latent` sets the in-plane coordinates of the current code to p and keeps every
other coordinate (the sliders' values), so to_plane(to_latent(p, z)) = p exactly and
the plot and the sliders always agree. For a 2-D model with the dims plane, the plot
is the latent space itself. A 1-D model is drawn against its single dimension on x;
its basis is (1, 0) and y is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.core.errors import ConfigError


@dataclass(frozen=True)
class Plane:
    origin: np.ndarray  # o: (d,)
    basis: np.ndarray  # V: (d, 2), orthonormal columns (d ≥ 2)
    axis_labels: tuple[str, str]  # what x and y mean, for the plot's axes
    kind: str  # "dims" or "pca"
    shares: tuple[float, float] | None = None  # a PCA plane: the codes' variance along x, y

    @property
    def latent_dim(self) -> int:
        return len(self.origin)

    def to_plane(self, z: np.ndarray) -> np.ndarray:
        """Codes (..., d) -> plane coordinates (..., 2)."""
        return (np.asarray(z, dtype=np.float64) - self.origin) @ self.basis

    def points(self, codes: np.ndarray) -> np.ndarray:
        """Many codes (N, d) -> plane coordinates (N, 2) in float32, for drawing them.

        V^T z - V^T o in single precision: to_plane's float64 copy of all the codes would
        be made every training epoch on the GUI thread (`scripts/bench_ui.py --only
        scatter`). Points on screen need no more than float32; the cursor's maths stays in
        to_plane.
        """
        basis = self.basis.astype(np.float32)
        offset = (self.origin @ self.basis).astype(np.float32)  # V^T o
        return np.asarray(codes, dtype=np.float32) @ basis - offset

    def to_latent(self, p: np.ndarray, z_current: np.ndarray) -> np.ndarray:
        """Plane point(s) p: (..., 2) -> code(s) (..., d), off-plane parts from z_current."""
        z_current = np.asarray(z_current, dtype=np.float64)
        delta = np.asarray(p, dtype=np.float64) - self.to_plane(z_current)
        return z_current + delta @ self.basis.T


def dims_plane(latent_dim: int, x: int = 0, y: int = 1) -> Plane:
    """The plane of latent dimensions x and y (through the origin)."""
    if latent_dim == 1:
        return Plane(np.zeros(1), np.array([[1.0, 0.0]]), ("z0", ""), "dims")
    if not (0 <= x < latent_dim and 0 <= y < latent_dim) or x == y:
        raise ConfigError(
            f"plane dimensions must be two different numbers in 0..{latent_dim - 1}, "
            f"got {x} and {y}"
        )
    basis = np.zeros((latent_dim, 2))
    basis[x, 0] = basis[y, 1] = 1.0
    return Plane(np.zeros(latent_dim), basis, (f"z{x}", f"z{y}"), "dims")


def pca_plane(codes: np.ndarray) -> Plane:
    """The plane of the two principal directions of `codes` (N, d), through their mean.

    Signs are fixed so the largest entry of each direction is positive: retraining or
    re-encoding does not flip the picture at random.
    """
    codes = np.asarray(codes, dtype=np.float64)
    d = codes.shape[1]
    if d < 2:
        return dims_plane(d)
    mean = codes.mean(0)
    centred = codes - mean
    # Eigenvectors of the d×d scatter matrix: the SVD of the N×d codes gives the same
    # directions but also N×d left vectors nobody uses, several times the work, and a
    # plane is fitted every epoch (`scripts/bench_ui.py --only train`).
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred)  # ascending
    var = np.clip(eigenvalues[::-1], 0.0, None)
    basis = eigenvectors[:, ::-1][:, :2].copy()
    for j in range(2):
        if basis[np.argmax(np.abs(basis[:, j])), j] < 0:
            basis[:, j] *= -1
    share = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
    # The shares are not in the axis labels: they change every training epoch, and a
    # new label redraws the plot's gridded axes, tens of milliseconds of the GUI thread.
    return Plane(mean, basis, ("PC1", "PC2"), "pca", (float(share[0]), float(share[1])))
