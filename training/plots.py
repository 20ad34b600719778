"""PNG plots of `counterscan evaluate --plots DIR` (matplotlib, Agg backend, no display).

pr_curve.png      precision against recall, with the high/low band cuts marked
reliability.png   observed counterfeit rate against predicted probability, per bin
top_scored.png    the highest-scoring photos with their heat map (CAM) laid over them
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from counterscan.contract import Thresholds
from counterscan.datasets.reader import Sample
from counterscan.images import to_model_input
from counterscan.training import metrics

TOP_N = 16  # photos in the grid (4 x 4)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_plots(
    out_dir: Path,
    samples: list[Sample],
    scores: np.ndarray,  # (N,) calibrated probability of counterfeit
    cams: np.ndarray,  # (N, h, w) in [0, 1]
    thresholds: Thresholds,
) -> dict[str, str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "pr_curve": out_dir / "pr_curve.png",
        "reliability": out_dir / "reliability.png",
        "top_scored": out_dir / "top_scored.png",
    }
    y = np.array([s.target for s in samples], dtype=np.int64)  # (N,) 0/1
    pr_curve(paths["pr_curve"], y, scores, thresholds)
    reliability(paths["reliability"], y, scores)
    top_scored(paths["top_scored"], samples, scores, cams)
    return {name: str(path) for name, path in paths.items()}


def pr_curve(path: Path, y: np.ndarray, p: np.ndarray, thresholds: Thresholds) -> None:
    plt = _pyplot()
    cuts, precision, recall = metrics.pr_points(y, p)
    ap = metrics.average_precision(y, p)
    fig, ax = plt.subplots(figsize=(5, 4.5), dpi=100)
    ax.step(np.r_[0.0, recall], np.r_[1.0, precision], where="post", color="tab:blue")
    for name, cut, colour in (
        ("high", thresholds.high, "tab:red"),
        ("low", thresholds.low, "tab:orange"),
    ):
        at = cuts >= cut
        if at.any():
            i = int(np.flatnonzero(at)[-1])  # the lowest cut still >= the threshold
            ax.plot(recall[i], precision[i], "o", color=colour, label=f"{name} >= {cut:.3f}")
    ax.set(
        xlabel="recall (counterfeits found)",
        ylabel="precision (share counterfeit)",
        xlim=(0, 1.02),
        ylim=(0, 1.02),
    )
    ax.set_title(f"Precision-recall, AP = {ap:.4f}" if ap is not None else "Precision-recall")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def reliability(path: Path, y: np.ndarray, p: np.ndarray) -> None:
    plt = _pyplot()
    bins = metrics.reliability_bins(y, p)
    ece = metrics.expected_calibration_error(y, p)
    fig, (ax, ax_n) = plt.subplots(
        2, 1, figsize=(5, 5.5), dpi=100, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    centres = [(b["lower"] + b["upper"]) / 2 for b in bins]
    width = 1.0 / metrics.ECE_BINS
    ax.bar(
        centres,
        [b["observed"] for b in bins],
        width=width * 0.9,
        alpha=0.6,
        color="tab:blue",
        label="observed rate",
    )
    ax.plot(
        [b["predicted"] for b in bins],
        [b["observed"] for b in bins],
        "o",
        color="tab:red",
        label="mean prediction",
    )
    ax.set(ylabel="share counterfeit", xlim=(0, 1), ylim=(0, 1.02))
    ax.set_title(f"Reliability, ECE = {ece:.4f}" if ece is not None else "Reliability")
    ax.legend(loc="upper left")
    ax_n.bar(centres, [b["count"] for b in bins], width=width * 0.9, color="grey")
    ax_n.set(xlabel="predicted probability of counterfeit", ylabel="photos")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _overlay(rgb: np.ndarray, cam: np.ndarray, colormap) -> np.ndarray:
    """(S, S, 3) uint8 photo + (h, w) CAM in [0, 1] -> (S, S, 3) float blend in [0, 1]."""
    size = rgb.shape[0]
    heat = Image.fromarray((np.clip(cam, 0, 1) * 255).astype(np.uint8))
    heat = np.asarray(heat.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32) / 255
    colour = colormap(heat)[..., :3]  # (S, S, 3)
    alpha = 0.55 * heat[..., None]  # strong evidence shows, none leaves the photo as it is
    blend = (1 - alpha) * rgb.astype(np.float32) / 255 + alpha * colour
    return np.clip(blend, 0.0, 1.0)  # float rounding reaches 1.0000001: matplotlib warns


def top_scored(
    path: Path, samples: list[Sample], scores: np.ndarray, cams: np.ndarray, n: int = TOP_N
) -> None:
    plt = _pyplot()
    order = np.argsort(-scores, kind="mergesort")[:n]
    cols = 4
    rows = max(1, int(np.ceil(len(order) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.6, rows * 2.9), dpi=100, squeeze=False)
    colormap = plt.get_cmap("jet")
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), order, strict=False):
        sample = samples[i]
        rgb = to_model_input(sample.path.read_bytes(), 224)
        ax.imshow(_overlay(rgb, cams[i], colormap))
        colour = "tab:red" if sample.target == 1 else "tab:green"
        ax.set_title(f"{scores[i]:.3f} {sample.label}", fontsize=9, color=colour)
    fig.suptitle("Highest-scoring photos (heat map: evidence of counterfeit)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
