"""Reference score distributions reweighted to a window's mix of strata, and distances.

Scores live on [0, 1]; every histogram uses the same ``BINS`` bins of it, so a window, a
stratum of the reference and their mixtures compare bin by bin. The Wasserstein-1 distance
of two histograms on the same bins is the area between their CDFs; the binning error is at
most one bin width (0.002) and the same on both sides of every comparison.
"""

from __future__ import annotations

import numpy as np

from monitoring.strata import backoff, hour_block_count, stratum_count
from ontime.settings.monitoring import ProfileSettings

BINS = 500
WIDTH = 1.0 / BINS


def score_bins(scores: np.ndarray) -> np.ndarray:
    """Each score's bin index."""
    return np.clip((np.asarray(scores, dtype="float64") * BINS).astype(np.int64), 0, BINS - 1)


def histogram(scores: np.ndarray, stratum: np.ndarray, settings: ProfileSettings) -> np.ndarray:
    """Counts per stratum and bin (strata x bins)."""
    cells = np.asarray(stratum) * BINS + score_bins(scores)
    size = stratum_count(settings) * BINS
    return np.bincount(cells, minlength=size).reshape(-1, BINS).astype("float64")


def mixture(counts: np.ndarray, weights: np.ndarray, settings: ProfileSettings) -> np.ndarray:
    """The reference distribution (bins) for a window with ``weights`` rows per stratum.

    Each stratum's own scores stand in for it when it has ``min_stratum_rows``; otherwise
    its hour block pooled over every day group does, and failing that the whole reference.
    """
    sizes = counts.sum(axis=1)
    blocks = hour_block_count(settings)
    pooled = np.zeros((blocks, BINS))
    np.add.at(pooled, backoff(np.arange(len(counts)), settings), counts)
    overall = counts.sum(axis=0)
    out = np.zeros(BINS)
    for stratum in np.flatnonzero(weights > 0):
        if sizes[stratum] >= settings.min_stratum_rows:
            part = counts[stratum]
        else:
            block = pooled[stratum % blocks]
            part = block if block.sum() >= settings.min_stratum_rows else overall
        out += weights[stratum] * part / max(part.sum(), 1.0)
    total = out.sum()
    return out / total if total > 0 else overall / max(overall.sum(), 1.0)


def wasserstein(counts: np.ndarray, distribution: np.ndarray) -> np.ndarray:
    """W1 between histogram(s) ``counts`` (one per row, or one) and a distribution."""
    cdf_u = np.cumsum(counts, axis=-1) / np.sum(counts, axis=-1, keepdims=True)
    cdf_v = np.cumsum(distribution) / np.sum(distribution)
    return np.sum(np.abs(cdf_u - cdf_v), axis=-1) * WIDTH
