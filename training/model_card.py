"""RUN_DIR/model_card.md: what the model is, what it was trained on, how good it is, and where
it should not be trusted. Rendered from the run's summary (finalize.py); no torch needed."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from counterscan.model.backbones import DEFAULT_BACKBONE
from counterscan.training.bootstrap import LEVEL, interval_text
from counterscan.training.config import TrainConfig
from counterscan.training.mirror import MIRROR_SHARE

INTENDED_USE = """\
Ranking product-listing photos by the chance that they show counterfeit goods, so that
market-surveillance inspectors and brand-protection teams look at the riskiest listings first.
The score is a calibrated probability on data like the training data; the priority bands are
a work order for humans, not a verdict. Every action against a seller needs a human decision."""

KNOWN_LIMITS = """\
- {own}
- Those intervals only measure the luck of which groups landed in the split. Photos from other
  sources, cameras, shops or seasons are another population: they can score outside them.
- It only knows the kinds of goods, brands and counterfeit defects of its training photos. New
  products, new counterfeit techniques, other cameras or photo styles can score anywhere.
- Calibration and thresholds were fitted on the validation split. Their accuracy is limited by
  its size (see the counts above) and they assume the share of counterfeits seen in training;
  where counterfeits are rarer, the precision of every band is lower than stated here.
- It looks at one photo at a time, centre-cropped to a square: evidence at the edges of wide
  photos is cut off, and text on the packaging is only seen as a picture.
- Fine print is mostly beyond it: at {size} px a wrong letter, diacritic or certification mark
  is a few pixels high. How much of this run's data turns on such details, the card cannot tell.
- The heat map (CAM) is a coarse {cam} x {cam} grid of where the evidence is, not a proof."""


def _own_figures(reports: dict[str, dict[str, Any]]) -> str:
    """This run's ranking quality, from its own test split (else validation, which chose the
    epoch and the calibration and so flatters the model), with its group-bootstrap interval."""
    split = "test" if "test" in reports else "val"
    report = reports[split]
    note = "" if split == "test" else ", the split that also chose the epoch and calibration"
    ci = report.get("ci95")
    spread = (
        f"; {interval_text(ci, 'roc_auc', resamples=True)}: where its ROC-AUC on more groups "
        "like these is likely to be"
        if ci
        else ""
    )
    return (
        f"This model, measured on this run's data: ROC-AUC {_fmt(report.get('roc_auc'))} on "
        f"its {report.get('n')} {split} photos{note} (Metrics above){spread}."
    )


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


METRIC_ROWS = (
    ("photos", "n"),
    ("ROC-AUC", "roc_auc"),
    ("average precision", "average_precision"),
    ("accuracy at 0.5", "accuracy"),
    ("precision of the top 10", "precision_at_10"),
    ("precision of the top 50", "precision_at_50"),
    ("recall at precision 0.9", "recall_at_precision_0.9"),
    ("log loss (after scaling)", "log_loss"),
    ("ECE before calibration", "ece_before_scaling"),
    ("ECE after calibration (Platt)", "ece"),
)


def _metrics_table(reports: dict[str, dict[str, Any]], counts: dict[str, Any]) -> list[str]:
    """One column per split; under each metric that has one, its group-bootstrap interval."""
    names = list(reports)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    for label, key in METRIC_ROWS:
        row(label, [_fmt(reports[n].get(key)) for n in names])
        if key == "n":
            row("groups", [_fmt(counts.get(n, {}).get("groups")) for n in names])
        if any(key in (reports[n].get("ci95") or {}) for n in names):
            cis = [reports[n].get("ci95") for n in names]
            row(f"{label}, {LEVEL:.0%} CI", [_ci_cell(ci, key) for ci in cis])
    return lines


def _ci_cell(ci: dict[str, Any] | None, key: str) -> str:
    return f"{ci[key][0]:.3f}-{ci[key][1]:.3f}" if ci else "n/a"


def _ci_note(reports: dict[str, dict[str, Any]]) -> list[str]:
    ci = next((r["ci95"] for r in reports.values() if r.get("ci95")), None)
    if ci is None:
        return []
    return [
        f"{LEVEL:.0%} CI: percentile interval over {ci['resamples']} resamples of the split's "
        f"{ci['unit']}s with replacement (the photos of a group move together; seed "
        f"{ci['seed']}); `counterscan evaluate` computes the same.",
        "",
    ]


def _counts_table(counts: dict[str, dict[str, int]]) -> list[str]:
    """Photos and groups per split and class (a group with both classes counts in both)."""
    keys = ("genuine", "genuine_groups", "counterfeit", "counterfeit_groups", "total", "groups")
    return [
        "| split | genuine photos | genuine groups | counterfeit photos | counterfeit groups "
        "| photos | groups |",
        "|---|---|---|---|---|---|---|",
        *(f"| {s} | " + " | ".join(_fmt(c.get(k)) for k in keys) + " |" for s, c in counts.items()),
    ]


def _settings_table(config: dict[str, Any]) -> list[str]:
    """Every field of the run's TrainConfig as recorded, with the default where it differs."""
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    lines = ["| setting | value | default |", "|---|---|---|"]
    for name, value in config.items():
        default = defaults.get(name, value)
        lines.append(f"| `{name}` | {value} | {'' if default == value else default} |")
    return lines


def _augmentation(training: dict[str, Any]) -> list[str]:
    steps = training.get("augmentation")
    if not steps:
        return ["- Augmentation of the training photos: not recorded."]
    return [
        "- Augmentation of the training photos, in order (read from the transform used):",
        *(f"  - `{step}`" for step in steps),
        *_mirror_line(training.get("mirror")),
    ]


def _mirror_line(flips: dict[str, Any] | None) -> list[str]:
    """Why the photos were (not) mirrored: the setting, and for "auto" what it measured."""
    if not flips:
        return []
    used = "on" if flips.get("use") else "off"
    if flips.get("setting") != "auto":
        return [f"- Mirror images: {used} (set to {flips.get('setting')})."]
    share = flips.get("mirrored_share") or 0.0
    return [
        f"- Mirror images: {used} (auto: {share:.1%} of the training photos have a mirrored "
        f"copy under the same label; flips are on from {MIRROR_SHARE:.0%})."
    ]


def _bands_table(reports: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| split | band | photos | counterfeits | precision |", "|---|---|---|---|---|"]
    for name, report in reports.items():
        for band, stats in report.get("bands", {}).items():
            lines.append(
                f"| {name} | {band} | {stats['n']} | {stats['counterfeit']} | "
                f"{_fmt(stats['precision'], 3)} |"
            )
    return lines


def render_model_card(summary: dict[str, Any]) -> str:
    training = summary["training"]
    config = training["config"]
    th = summary["thresholds"]
    reports = summary["metrics"]
    counts = summary["counts"]
    model = summary.get("model", {})
    size = config["image_size"]
    cam = size // 32
    high_note = (
        f"the lowest calibrated score at which the photos at or above it were at least "
        f"{th['precision_target']:.0%} counterfeit on validation (there: precision "
        f"{_fmt(th['high_precision'], 3)}, {th['high_recall']:.1%} of the counterfeits)"
        if th["high_reached"]
        else f"1.0: no cut reached a precision of {th['precision_target']:.0%} on validation, "
        "so only photos scored as certain go to the high band"
    )
    lines = [
        f"# Model card: counterscan {summary['model_version']}",
        "",
        "## Model",
        f"- {model.get('backbone', DEFAULT_BACKBONE)} "
        f"({'ImageNet weights' if config.get('pretrained', True) else 'random init'}), "
        f"fine-tuned with a one-logit counterfeit head; input {size} x {size} RGB (centre "
        "square of the photo).",
        f"- Outputs: calibrated probability of counterfeit, a {model.get('num_features', 1280)}-d "
        f"L2-normalised embedding, a {cam} x {cam} class-activation map.",
        f"- File: `{summary['onnx']}`; exporter {summary['export'].get('exporter')}, "
        f"opset {summary['export'].get('opset')}.",
        "",
        "## Intended use",
        INTENDED_USE,
        "",
        "## Training data",
        f"- Manifest sha256 (sorted path,label,split,group rows): `{summary['manifest_sha256']}`",
        f"- Dataset: `{training['data_dir']}`; split recorded in `split.csv` (by group).",
        "",
        *_counts_table(counts),
        "",
        "## Training",
        f"- {training['epochs_run']} epoch(s) run of at most {config.get('epochs')}, best epoch "
        f"{training['best_epoch']} (validation average precision)"
        f"{', stopped early' if training.get('stopped_early') else ''}.",
        f"- Time: {training.get('train_seconds')} s of training epochs, "
        f"{training.get('decode_seconds')} s decoding photos, {summary.get('total_seconds')} s "
        f"for the whole command; {training.get('world_size')} process(es), "
        f"{training.get('device')}.",
        f"- AdamW with a linear warm-up and cosine decay; a counterfeit photo weighs "
        f"{training.get('pos_weight')} in the loss.",
        *_augmentation(training),
        "",
        "### Training settings",
        "",
        *_settings_table(config),
        "",
        "## Metrics",
        "Scores are the calibrated probabilities the ONNX file outputs.",
        "",
        *_metrics_table(reports, counts),
        "",
        *_ci_note(reports),
        "ECE: expected calibration error over 15 equal-width probability bins.",
        "",
        "## Calibration and priority bands",
        f"- Temperature T = {summary['temperature']:.4f} and logit shift s = "
        f"{summary.get('calibration_shift', 0.0):+.4f}: probability = sigmoid((logit + s) / T), "
        "both fitted on the validation split by minimising the log loss (Platt scaling); s is "
        "folded into the head's bias, so the ONNX graph applies only T (the contract's "
        "temperature).",
        f"- `high` = {th['high']:.4f}: {high_note}.",
        f"- `low` = {th['low']:.4f}: the highest score that still keeps "
        f"{th['recall_target']:.0%} of the validation counterfeits at or above it (there: "
        f"{th['low_recall']:.1%}); photos below it are in the low band.",
        "- `medium`: between the two.",
        "",
        *_bands_table(reports),
        "",
        "## Known limits",
        KNOWN_LIMITS.format(cam=cam, size=size, own=_own_figures(reports)),
        "",
    ]
    return "\n".join(lines)
