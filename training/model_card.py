"""RUN_DIR/model_card.md: what the model is, what it was trained on, how good it is, and where
it should not be trusted. Rendered from the run's summary (finalize.py); no torch needed."""

from __future__ import annotations

from typing import Any

INTENDED_USE = """\
Ranking product-listing photos by the chance that they show counterfeit goods, so that
market-surveillance inspectors and brand-protection teams look at the riskiest listings first.
The score is a calibrated probability on data like the training data; the priority bands are
a work order for humans, not a verdict. Every action against a seller needs a human decision."""

KNOWN_LIMITS = """\
- It only knows the kinds of goods, brands and counterfeit defects of its training photos. New
  products, new counterfeit techniques, other cameras or photo styles can score anywhere.
- Calibration and thresholds were fitted on the validation split. Their accuracy is limited by
  its size (see the counts above) and they assume the share of counterfeits seen in training;
  where counterfeits are rarer, the precision of every band is lower than stated here.
- It looks at one photo at a time, centre-cropped to a square: evidence at the edges of wide
  photos is cut off, and text on the packaging is only seen as a picture.
- Fine print is mostly beyond it: at {size} px a wrong letter, diacritic or certification mark
  is a few pixels high.
  {own}
  How much of this run's data turns on such details, the card cannot tell. For scale, measured on other models (training/README.md, not this one): with
  the defaults (192 px), on 2,000 synthetic listing photos whose counterfeits differ only in
  such a detail (`counterscan data synth --difficulty hard`), test ROC-AUC was 0.63 (0.90
  when the defects are obvious, `--difficulty easy`).
- The heat map (CAM) is a coarse {cam} x {cam} grid of where the evidence is, not a proof."""


def _own_figures(reports: dict[str, dict[str, Any]]) -> str:
    """This run's ranking quality, from its own test split (else validation, which chose the
    epoch and the calibration and so flatters the model)."""
    split = "test" if "test" in reports else "val"
    report = reports[split]
    note = "" if split == "test" else ", the split that also chose the epoch and calibration"
    return (
        f"This model, measured on this run's data: ROC-AUC {_fmt(report.get('roc_auc'))} on "
        f"its {report.get('n')} {split} photos{note} (Metrics above)."
    )


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _metrics_table(reports: dict[str, dict[str, Any]]) -> list[str]:
    rows = [
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
    ]
    names = list(reports)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for label, key in rows:
        lines.append(f"| {label} | " + " | ".join(_fmt(reports[n].get(key)) for n in names) + " |")
    return lines


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
    cam = config["image_size"] // 32
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
        f"- EfficientNet-Lite0 ({'ImageNet weights' if config['pretrained'] else 'random init'}), "
        f"fine-tuned with a one-logit counterfeit head; input {config['image_size']} x "
        f"{config['image_size']} RGB (centre square of the photo).",
        "- Outputs: calibrated probability of counterfeit, a 1280-d L2-normalised embedding, "
        f"a {cam} x {cam} class-activation map.",
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
        "| split | genuine | counterfeit | total |",
        "|---|---|---|---|",
        *(
            f"| {s} | {c['genuine']} | {c['counterfeit']} | {c['total']} |"
            for s, c in counts.items()
        ),
        "",
        "## Training",
        f"- {training['epochs_run']} epoch(s) run of at most {config['epochs']}, best epoch "
        f"{training['best_epoch']} (validation average precision)"
        f"{', stopped early' if training['stopped_early'] else ''}; "
        f"{training['train_seconds']} s of training on {training['world_size']} process(es), "
        f"{training['device']}.",
        f"- AdamW lr {config['lr']} (warm-up {config['warmup_epochs']} epoch, cosine decay), "
        f"batch {config['batch_size']}, weight decay {config['weight_decay']}, seed {config['seed']}; "
        f"class balance: {config['balance']} ({training['pos_weight']}).",
        "",
        "## Metrics",
        "Scores are the calibrated probabilities the ONNX file outputs.",
        "",
        *_metrics_table(reports),
        "",
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
        KNOWN_LIMITS.format(cam=cam, size=config["image_size"], own=_own_figures(reports)),
        "",
    ]
    return "\n".join(lines)
