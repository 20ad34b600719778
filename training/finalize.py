"""After the last epoch: turn the best checkpoint into the served model.

1. Prior correction: with pos_weight w the loss treats every counterfeit as w photos, so the
   network learns log-odds shifted by log(w). Subtracting log(w) from the head's bias gives
   back log-odds at the training data's own class balance, before any calibration.
2. Calibration (temperature T and logit shift) fitted on the validation logits
   (calibration.py); the shift goes into the head's bias too. ECE before and after.
3. Priority thresholds on the calibrated validation scores (calibration.py).
4. Metrics on val and, when there is one, test (with the calibrated scores and the bands),
   each with group-bootstrap 95% intervals of ROC-AUC, AP and accuracy (bootstrap.py; the
   seed `counterscan evaluate` uses too, ~0.3 s per split).
5. best.pt rewritten with all of that in its meta (stage "final"), exported to model.onnx,
   model_card.md and summary.json written.
Running it again (`--resume` of a finished run) gives the same files: a checkpoint already at
stage "final" first gets its bias shift (recorded in its meta) taken back out.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import torch

from counterscan.contract import Thresholds
from counterscan.datasets.reader import Sample
from counterscan.model.checkpoint import load_checkpoint, save_checkpoint
from counterscan.model.export import export_from_checkpoint
from counterscan.model.preprocess import NormalizeUint8
from counterscan.training import bootstrap, calibration, engine, metrics
from counterscan.training.config import TrainConfig
from counterscan.training.data import PhotoDataset, decode_photos, eval_loader
from counterscan.training.model_card import render_model_card
from counterscan.training.rundir import RunDir, read_jsonl, write_json
from counterscan.training.transforms import eval_transform

COMPACT_KEYS = ("n", "roc_auc", "average_precision", "accuracy", "ece", "recall_at_precision_0.9")


def _logits(model: torch.nn.Module, images: np.ndarray, config: TrainConfig) -> np.ndarray:
    model_config = model.config
    dataset = PhotoDataset(images, [0] * len(images), eval_transform(config.image_size))
    return engine.predict_logits(
        model,
        eval_loader(dataset, config.eval_batch_size),
        NormalizeUint8(model_config),
        device=torch.device("cpu"),
        channels_last=config.channels_last,
        progress=False,
    )


def _shift_head(model: torch.nn.Module, shift: float) -> None:
    """Add `shift` to the logit (and to every CAM cell, which includes the head's bias)."""
    with torch.no_grad():
        model.classifier.bias += shift


def counts(samples: list[Sample]) -> dict[str, dict[str, int]]:
    """Photos and groups per split and class; a group holding both classes counts for both."""
    out: dict[str, dict[str, int]] = {}
    for split in ("train", "val", "test"):
        part = [s for s in samples if s.split == split]
        if part:
            n_pos = sum(s.target for s in part)
            genuine_groups = {s.group_key for s in part if not s.target}
            counterfeit_groups = {s.group_key for s in part if s.target}
            out[split] = {
                "genuine": len(part) - n_pos,
                "counterfeit": n_pos,
                "total": len(part),
                "genuine_groups": len(genuine_groups),
                "counterfeit_groups": len(counterfeit_groups),
                "groups": len(genuine_groups | counterfeit_groups),
            }
    return out


def _report(
    part: list[Sample], y: np.ndarray, scores: np.ndarray, thresholds: Thresholds
) -> dict[str, Any]:
    """classification_report plus its group-bootstrap intervals."""
    report = metrics.classification_report(y, scores, thresholds)
    report["ci95"] = bootstrap.group_bootstrap(y, scores, [s.group_key for s in part])
    return report


def finalize(
    run: RunDir,
    samples: list[Sample],
    config: TrainConfig,
    *,
    pos_weight: float,
    val_images: np.ndarray,
    manifest_sha: str,
    training: dict[str, Any],
    started: float,
    progress: bool = True,
) -> dict[str, Any]:
    ckpt = load_checkpoint(run.best)
    model = ckpt.model  # eval mode, CPU
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if ckpt.meta.get("stage") == "final":  # finalized before: back to the trained weights
        _shift_head(model, -float(ckpt.meta["train"]["bias_shift"]))
    prior_shift = -math.log(pos_weight) if pos_weight > 0 else 0.0
    _shift_head(model, prior_shift)

    val = [s for s in samples if s.split == "val"]
    y_val = np.array([s.target for s in val])
    val_logits = _logits(model, val_images, config)  # prior-corrected, uncalibrated
    fitted = calibration.fit_calibration(val_logits, y_val)
    raw_scores = metrics.sigmoid(val_logits)
    val_scores = fitted.apply(val_logits)
    choice = calibration.choose_thresholds(y_val, val_scores)
    val_report = _report(val, y_val, val_scores, choice.thresholds)
    val_report["ece_before_scaling"] = metrics.expected_calibration_error(y_val, raw_scores)
    val_report["log_loss_before_scaling"] = metrics.log_loss(y_val, raw_scores)

    reports = {"val": val_report}
    test = [s for s in samples if s.split == "test"]
    if test:
        test_images = decode_photos(
            [s.path for s in test], config.image_size, progress=progress, desc="decoding test"
        )
        y_test = np.array([s.target for s in test])
        test_logits = _logits(model, test_images, config)
        test_scores = fitted.apply(test_logits)
        reports["test"] = _report(test, y_test, test_scores, choice.thresholds)
        raw_test = metrics.sigmoid(test_logits)
        reports["test"]["ece_before_scaling"] = metrics.expected_calibration_error(y_test, raw_test)
        reports["test"]["log_loss_before_scaling"] = metrics.log_loss(y_test, raw_test)

    created_at = ckpt.meta.get("created_at") or datetime.now(UTC).isoformat(timespec="seconds")
    stamp = created_at.replace("-", "").replace(":", "").split("+")[0]
    meta = {
        "stage": "final",
        "model_version": ckpt.meta.get("model_version") or f"{stamp}-{manifest_sha[:8]}",
        "created_at": created_at,
        "temperature": fitted.temperature,
        "thresholds": {"high": choice.thresholds.high, "low": choice.thresholds.low},
        "metrics": {
            name: {k: r.get(k) for k in (*COMPACT_KEYS, "ece_before_scaling")}
            for name, r in reports.items()
        },
        "manifest_sha256": manifest_sha,
        "counts": counts(samples),
        "train": {
            **training,
            "prior_shift": prior_shift,
            "calibration_shift": fitted.shift,
            "bias_shift": prior_shift + fitted.shift,  # added to the head's bias in total
            "config": config.to_dict(),
        },
    }
    _shift_head(model, fitted.shift)  # the graph then computes sigmoid(logit / T) only
    save_checkpoint(run.best, model, ckpt.config, meta)
    export = export_from_checkpoint(run.best, run.onnx, threads=max(1, torch.get_num_threads()))

    summary = {
        "run_dir": str(run.root),
        "onnx": str(run.onnx),
        "model_card": str(run.model_card),
        "model_version": meta["model_version"],
        "manifest_sha256": manifest_sha,
        "counts": meta["counts"],
        "model": {"backbone": ckpt.config.backbone, "num_features": ckpt.config.num_features},
        "temperature": fitted.temperature,
        "calibration_shift": fitted.shift,
        "thresholds": choice.to_dict(),
        "metrics": reports,
        "training": meta["train"],
        "history": read_jsonl(run.metrics),
        "export": {k: export.get("fp32", {}).get(k) for k in ("exporter", "opset", "parity")},
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    run.model_card.write_text(render_model_card(summary), encoding="utf-8")
    write_json(run.summary, summary)
    return summary
