"""The few lines `counterscan train` prints at the end (the whole summary goes to --json)."""

from __future__ import annotations

from typing import Any

from counterscan.training.bootstrap import interval_text


def _f(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def format_summary(summary: dict[str, Any]) -> str:
    training = summary["training"]
    th = summary["thresholds"]
    lines = [
        f"model {summary['model_version']} -> {summary['onnx']}",
        f"  epochs {training['epochs_run']} (best {training['best_epoch']}), "
        f"training {training['train_seconds']} s, total {summary['total_seconds']} s",
        f"  temperature {summary['temperature']:.4f}; thresholds high {th['high']:.4f}, "
        f"low {th['low']:.4f}",
    ]
    for name, r in summary["metrics"].items():
        lines.append(
            f"  {name:<5} n {r['n']}: ROC-AUC {_f(r['roc_auc'])}, AP {_f(r['average_precision'])}, "
            f"accuracy {_f(r['accuracy'])}, ECE {_f(r['ece_before_scaling'])} -> {_f(r['ece'])}"
        )
        if r.get("ci95"):
            lines.append(
                f"        ROC-AUC {interval_text(r['ci95'], 'roc_auc', resamples=True)}; AP "
                f"{interval_text(r['ci95'], 'average_precision')}; accuracy "
                f"{interval_text(r['ci95'], 'accuracy')}"
            )
    lines.append(f"  model card: {summary['model_card']}")
    return "\n".join(lines)
