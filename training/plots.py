"""Evaluation plots as PNG files: calibration curve, precision-recall curve, score histogram.

matplotlib runs on the non-interactive Agg backend, chosen inside each call (not at import).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.calibration import calibration_table


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(figsize=(5.5, 4.2), dpi=110)


def calibration_curve(
    folder: Path, labels: np.ndarray, curves: dict[str, np.ndarray], buckets: int
) -> Path:
    """Mean predicted vs observed rate per risk bucket, one line per model."""
    plt, fig, ax = _figure()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    for name, probabilities in curves.items():
        table = calibration_table(probabilities, labels, buckets)
        ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", label=name)
    ax.set(xlabel="mean predicted probability", ylabel="observed rate", title="Calibration")
    ax.legend()
    return _save(plt, fig, folder / "calibration.png")


def pr_curve(folder: Path, labels: np.ndarray, curves: dict[str, np.ndarray]) -> Path:
    """Precision against recall, one line per model."""
    from sklearn.metrics import precision_recall_curve

    plt, fig, ax = _figure()
    for name, probabilities in curves.items():
        precision, recall, _ = precision_recall_curve(labels, probabilities)
        ax.plot(recall, precision, label=name)
    ax.axhline(float(np.mean(labels)), color="grey", linestyle=":", label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall")
    ax.legend()
    return _save(plt, fig, folder / "pr_curve.png")


def score_histogram(
    folder: Path, labels: np.ndarray, probabilities: np.ndarray, threshold: float
) -> Path:
    """Predicted probabilities of late and on-time rows, with the decision threshold."""
    plt, fig, ax = _figure()
    bins = np.linspace(0, 1, 41)
    ax.hist(probabilities[labels == 0], bins=bins, alpha=0.6, label="on time")
    ax.hist(probabilities[labels == 1], bins=bins, alpha=0.6, label="late")
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.2f}")
    ax.set(xlabel="predicted probability", ylabel="rows", title="Scores")
    ax.legend()
    return _save(plt, fig, folder / "scores.png")


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
