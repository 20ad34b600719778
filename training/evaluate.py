"""`counterscan evaluate MODEL.onnx DATA`: score labelled photos with the ONNX file itself.

Torch-free on purpose: the photos go through `counterscan.images.to_model_input` and ONNX
Runtime exactly as in the service, so the numbers are those of the served model (not of the
PyTorch checkpoint it came from). Thresholds, input size and temperature come from the file's
own contract (metadata_props).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from counterscan.contract import INPUT_NAME, OUTPUT_CAM, OUTPUT_PROB, ModelContract
from counterscan.datasets.reader import Sample, read_dataset
from counterscan.errors import CounterscanError
from counterscan.images import ImageDecodeError, to_model_input
from counterscan.progress import progress_bar
from counterscan.training import bootstrap
from counterscan.training.metrics import classification_report

BATCH = 16


@dataclass
class Scored:
    samples: list[Sample]  # the photos that could be decoded, in dataset order
    y: np.ndarray  # (N,) 0/1
    scores: np.ndarray  # (N,) calibrated probability of counterfeit
    cams: np.ndarray  # (N, h, w) in [0, 1]
    skipped: list[dict[str, str]]  # {"path", "reason"} for photos that could not be decoded


def open_model(path: str | Path, threads: int = 2) -> tuple[Any, ModelContract]:
    """An ONNX Runtime session and the contract read from the file's metadata."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise CounterscanError(f"model file {path} does not exist")
    if threads < 1:
        raise CounterscanError(f"--threads must be at least 1, got {threads}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph types
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CounterscanError(f"{path} is not a loadable ONNX model: {first}") from None
    try:
        contract = ModelContract.from_metadata(session.get_modelmeta().custom_metadata_map)
    except ValueError as e:
        raise CounterscanError(f"{path}: {e}") from None
    return session, contract


def select_split(samples: list[Sample], split: str | None, has_split: bool) -> list[Sample]:
    """The photos to evaluate: `split` when given, else test when the dataset has a split,
    else all of them."""
    if split in (None, "") and not has_split:
        return samples
    wanted = split or "test"
    if wanted == "all":
        return samples
    chosen = [s for s in samples if s.split == wanted]
    if not chosen:
        found = sorted({s.split for s in samples if s.split}) or ["none"]
        raise CounterscanError(
            f"the dataset has no photos in split {wanted!r} (splits: {', '.join(found)}); "
            "use --split all to evaluate every photo"
        )
    return chosen


def score_photos(
    session: Any, contract: ModelContract, samples: list[Sample], *, progress: bool = True
) -> Scored:
    """Run every photo through the served preprocessing and the ONNX graph, in batches."""
    size = contract.input_size
    kept: list[Sample] = []
    skipped: list[dict[str, str]] = []
    scores: list[np.ndarray] = []
    cams: list[np.ndarray] = []
    batch: list[np.ndarray] = []

    def flush() -> None:
        if batch:
            prob, cam = session.run([OUTPUT_PROB, OUTPUT_CAM], {INPUT_NAME: np.stack(batch)})
            scores.append(np.asarray(prob, dtype=np.float64).reshape(-1))
            cams.append(np.asarray(cam, dtype=np.float32))
            batch.clear()

    for sample in progress_bar(samples, desc="scoring", unit="photo", disable=not progress):
        try:
            batch.append(to_model_input(sample.path.read_bytes(), size))
        except (ImageDecodeError, OSError) as e:
            skipped.append({"path": sample.rel, "reason": str(e)})
            continue
        kept.append(sample)
        if len(batch) == BATCH:
            flush()
    flush()
    h = w = contract.cam_size or max(1, size // 32)
    return Scored(
        samples=kept,
        y=np.array([s.target for s in kept], dtype=np.int64),
        scores=np.concatenate(scores) if scores else np.zeros(0),
        cams=np.concatenate(cams) if cams else np.zeros((0, h, w), dtype=np.float32),
        skipped=skipped,
    )


def evaluate_model(
    model_path: str | Path,
    data_dir: str | Path,
    *,
    split: str | None = None,
    threads: int = 2,
    plots_dir: str | Path | None = None,
    progress: bool = True,
    resamples: int = bootstrap.RESAMPLES,
    seed: int = bootstrap.SEED,
) -> dict[str, Any]:
    """Every metric of the issue for the ONNX model on the chosen photos, JSON-friendly.

    With `resamples` > 0 the report gets "ci95": group-bootstrap intervals (bootstrap.py) of
    ROC-AUC, AP and accuracy, groups from the photos' `group` column.
    """
    bootstrap.check_resamples(resamples)  # before minutes of scoring
    session, contract = open_model(model_path, threads)
    dataset = read_dataset(data_dir, require_both=False)
    samples = select_split(dataset.samples, split, dataset.has_split)
    scored = score_photos(session, contract, samples, progress=progress)
    if len(scored.y) == 0:
        raise CounterscanError("none of the selected photos could be decoded")
    report: dict[str, Any] = {
        "model": str(model_path),
        "model_version": contract.model_version,
        "data": str(data_dir),
        "split": split or ("test" if dataset.has_split else "all"),
        **classification_report(scored.y, scored.scores, contract.thresholds),
        "thresholds": {"high": contract.thresholds.high, "low": contract.thresholds.low},
        "skipped": scored.skipped,
    }
    if resamples:
        groups = [s.group_key for s in scored.samples]
        report["ci95"] = bootstrap.group_bootstrap(
            scored.y, scored.scores, groups, resamples=resamples, seed=seed
        )
    if plots_dir is not None:
        from counterscan.training.plots import write_plots

        report["plots"] = write_plots(
            Path(plots_dir), scored.samples, scored.scores, scored.cams, contract.thresholds
        )
    return report


def format_report(report: dict[str, Any]) -> str:
    """The human-readable form printed by the command."""

    def f(v: Any) -> str:
        return "n/a" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)

    c = report["confusion"]
    ci = report.get("ci95")

    def interval(metric: str, resamples: bool = False) -> str:
        text = bootstrap.interval_text(ci, metric, resamples=resamples)
        return f" ({text})" if text else ""

    lines = [
        f"model {report['model_version']} on {report['data']} (split: {report['split']})",
        f"  photos           {report['n']} ({report['n_counterfeit']} counterfeit, "
        f"{report['n_genuine']} genuine, {len(report['skipped'])} skipped)",
        f"  ROC-AUC          {f(report['roc_auc'])}{interval('roc_auc', resamples=True)}",
        f"  average prec.    {f(report['average_precision'])}{interval('average_precision')}",
        f"  accuracy @0.5    {f(report['accuracy'])}{interval('accuracy')}",
        f"  ECE              {f(report['ece'])}",
        f"  precision @10    {f(report['precision_at_10'])}",
        f"  precision @50    {f(report['precision_at_50'])}",
        f"  recall @prec 0.9 {f(report['recall_at_precision_0.9'])}",
        "  bands            "
        + ", ".join(
            f"{name}: {b['n']} ({f(b['precision'])} counterfeit)"
            for name, b in report["bands"].items()
        ),
        f"  confusion @0.5   true genuine: {c['tn']} ok / {c['fp']} flagged; "
        f"true counterfeit: {c['tp']} caught / {c['fn']} missed",
    ]
    if "plots" in report:
        lines.append("  plots            " + ", ".join(report["plots"].values()))
    return "\n".join(lines)
