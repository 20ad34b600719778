"""`counterscan train DATA --out RUN_DIR`: fine-tune, calibrate, choose thresholds, export.

    read the dataset -> split (the dataset's own, else by group) -> decode every photo once
    -> epochs: [stem + first blocks frozen for the first epochs] train, validate, keep the best
       (validation AP), save last.pt, append metrics.jsonl; stop after `patience` bad epochs
    -> finalize.py: temperature, thresholds, test metrics, best.pt meta, model.onnx, model card

Deterministic for a seed: the head's initialisation, the shuffle (DistributedSampler, seeded by
(seed, epoch)) and the augmentations and dropout (torch's generator, re-seeded from (seed,
epoch, rank) at the start of every epoch) all depend on the seed and the epoch only. A resumed
run therefore replays the remaining epochs exactly as the uninterrupted run would have.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from counterscan.datasets.reader import Dataset, Sample, read_dataset
from counterscan.errors import CounterscanError
from counterscan.model.checkpoint import load_checkpoint, save_checkpoint
from counterscan.model.config import ModelConfig
from counterscan.model.preprocess import NormalizeUint8
from counterscan.model.pretrained import build_model
from counterscan.training import distributed, engine, metrics, mirror
from counterscan.training.config import TrainConfig
from counterscan.training.data import PhotoDataset, decode_photos, eval_loader, train_loader
from counterscan.training.ema import WeightAverage
from counterscan.training.finalize import finalize
from counterscan.training.optim import build_optimizer
from counterscan.training.rundir import (
    RunDir,
    append_jsonl,
    keep_epochs,
    manifest_sha256,
    write_split,
)
from counterscan.training.selection import eligible, improves
from counterscan.training.splitting import resolve_split
from counterscan.training.transforms import describe, eval_transform, train_transform

EpochCallback = Callable[[dict[str, Any]], None]


def train(
    data_dir: str | Path,
    out_dir: str | Path,
    config: TrainConfig | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    on_epoch_end: EpochCallback | None = None,
    split: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Train a model on the dataset at `data_dir` into `out_dir`; returns the run's summary.

    resume: continue the run in `out_dir` from its last.pt with the settings it was started
    with (`config`, when given, must not differ). on_epoch_end: called with each epoch's
    metrics record (rank 0 and others alike). split: path (as in the manifest) -> train, val
    or test for every photo, instead of the dataset's own or a new one (`--cv` gives each
    fold's); ignored when resuming, which uses the split the run recorded.
    """
    ctx = distributed.setup()
    try:
        return _train(
            Path(data_dir),
            RunDir(Path(out_dir)),
            config,
            resume,
            progress,
            on_epoch_end,
            ctx,
            split,
        )
    finally:
        distributed.cleanup(ctx)


def _settings(
    run: RunDir, config: TrainConfig | None, resume: bool
) -> tuple[TrainConfig, dict[str, Any]]:
    """The config to train with and the state to resume from (empty for a fresh run); the
    state holds the last epoch's weights under "model"."""
    if not resume:
        if run.last.exists():
            raise CounterscanError(
                f"{run.root} already holds a run; continue it with --resume or choose another --out"
            )
        return config or TrainConfig(), {}
    if not run.last.is_file():
        raise CounterscanError(f"nothing to resume: {run.last} does not exist")
    last = load_checkpoint(run.last)
    state = {**last.extra_state, "model": last.model.state_dict()}
    saved = TrainConfig.from_dict(state["train_config"])
    if config is not None and (diff := config.differences(saved)):
        raise CounterscanError(
            f"--resume continues with the run's own settings; these differ: {', '.join(diff)}"
        )
    return saved, state


def _restore_optimizer(
    optimizer: torch.optim.Optimizer, saved: dict[str, Any], run: RunDir
) -> None:
    """Runs saved before the backbone got its own learning rate hold 2 parameter groups, not 4;
    their moments cannot be matched to today's groups exactly, so they are refused by name."""
    try:
        optimizer.load_state_dict(saved)
    except ValueError as e:
        raise CounterscanError(
            f"{run.last} was saved by an older counterscan whose optimizer state does not fit "
            f"this one ({e}); start a new run with another --out"
        ) from None


def _pos_weight(train: list[Sample], balance: str) -> float:
    """n_genuine / n_counterfeit: both classes then weigh the same in the loss."""
    n_pos = sum(s.target for s in train)
    return (len(train) - n_pos) / n_pos if balance == "pos_weight" else 1.0


def _epoch_seed(seed: int, epoch: int, rank: int) -> int:
    return (seed * 1_000_003 + epoch * 1_009 + rank) % (2**63)


def _val_record(y: np.ndarray, logits: np.ndarray) -> dict[str, Any]:
    p = metrics.sigmoid(logits)
    return {
        "val_loss": metrics.log_loss(y, p),
        "val_auc": metrics.roc_auc(y, p),
        "val_ap": metrics.average_precision(y, p),
        "val_accuracy": metrics.accuracy(y, p),
    }


def _predict_sharded(
    model: nn.Module, images: np.ndarray, config: TrainConfig, normalize: NormalizeUint8, ctx
) -> np.ndarray:
    """Logits of all `images`, each process scoring every world_size-th photo."""
    shard = np.arange(ctx.rank, len(images), ctx.world_size)
    dataset = PhotoDataset(images[shard], [0] * len(shard), eval_transform(config.image_size))
    logits = engine.predict_logits(
        model,
        eval_loader(dataset, config.eval_batch_size),
        normalize,
        device=ctx.device,
        channels_last=config.channels_last,
        progress=False,
    )
    out = np.zeros(len(images), dtype=np.float64)
    for rank, part in enumerate(distributed.gather_objects(ctx, logits)):
        out[np.arange(rank, len(images), ctx.world_size)] = part
    return out


def _shared_split(
    dataset: Dataset,
    config: TrainConfig,
    recorded: Path | None,
    progress: bool,
    ctx: distributed.DistContext,
    given: Mapping[str, str] | None = None,
) -> list[Sample]:
    """Rank 0 makes (or reads) the split and sends it to the others, errors included, so that
    a refused split stops every process instead of leaving them waiting for rank 0."""
    outcome: tuple[str, Any] = ("", None)
    if ctx.is_main:
        try:
            resolved = resolve_split(dataset, config, recorded, progress, given)
            outcome = ("ok", [s.split for s in resolved])
        except CounterscanError as e:
            outcome = ("error", str(e))
    status, value = distributed.broadcast_object(ctx, outcome)
    if status == "error":
        raise CounterscanError(value)
    return [
        dataclasses.replace(s, split=split) for s, split in zip(dataset.samples, value, strict=True)
    ]


def _train(
    data_dir: Path,
    run: RunDir,
    config: TrainConfig | None,
    resume: bool,
    progress: bool,
    on_epoch_end: EpochCallback | None,
    ctx: distributed.DistContext,
    given_split: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    started = time.perf_counter()
    config, state = _settings(run, config, resume)
    if config.threads:
        torch.set_num_threads(config.threads)
    show = progress and ctx.is_main
    dataset = read_dataset(data_dir)
    recorded = run.split if resume else None
    samples = _shared_split(dataset, config, recorded, show, ctx, given_split)
    by_split = {name: [s for s in samples if s.split == name] for name in ("train", "val", "test")}
    if ctx.is_main:
        run.root.mkdir(parents=True, exist_ok=True)
        write_split(run.split, samples)

    # Decode once: training photos a little larger (random crops), val exactly as served.
    decode_threads = max(1, torch.get_num_threads())
    t0 = time.perf_counter()
    train_images = decode_photos(
        [s.path for s in by_split["train"]],
        config.cache_size,
        threads=decode_threads,
        progress=show,
        desc="decoding train",
    )
    val_images = decode_photos(
        [s.path for s in by_split["val"]],
        config.image_size,
        threads=decode_threads,
        progress=show,
        desc="decoding val",
    )
    decode_seconds = time.perf_counter() - t0
    y_val = np.array([s.target for s in by_split["val"]])

    model_config = ModelConfig(
        backbone=config.backbone,
        image_size=config.image_size,
        dropout=config.dropout,
        drop_connect=config.drop_connect,
    )
    torch.manual_seed(config.seed)  # the head's initialisation
    model = build_model(model_config, pretrained=config.pretrained).to(ctx.device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    normalize = NormalizeUint8(model_config).to(ctx.device)

    per_rank_batch = max(1, config.batch_size // ctx.world_size)
    train_targets = [s.target for s in by_split["train"]]
    flips = mirror.decide(config.mirror, train_images, np.array(train_targets))
    train_set = PhotoDataset(
        train_images, train_targets, train_transform(config.image_size, flips.use)
    )
    loader, sampler = train_loader(
        train_set, per_rank_batch, seed=config.seed, rank=ctx.rank, world_size=ctx.world_size
    )
    steps_per_epoch = len(loader)
    optimizer, scheduler = build_optimizer(model, config, steps_per_epoch)
    pos_weight = _pos_weight(by_split["train"], config.balance)
    loss_fn = engine.SmoothedBCE(pos_weight, config.label_smoothing, ctx.device)

    epoch, best_ap, best_loss, best_epoch, bad_epochs = 0, -math.inf, math.inf, 0, 0
    train_seconds, finished = 0.0, False
    if state:
        model.load_state_dict(state["model"])
        _restore_optimizer(optimizer, state["optimizer"], run)
        scheduler.load_state_dict(state["scheduler"])
        epoch, best_epoch, bad_epochs = state["epoch"], state["best_epoch"], state["bad_epochs"]
        best_ap, best_loss = state["best_ap"], state["best_loss"]
        train_seconds, finished = state["train_seconds"], state["finished"]
        if ctx.is_main:
            keep_epochs(run.metrics, epoch)
    # The model that is validated, kept as best.pt and exported: the trained weights or their
    # moving average (the same on every process: every process applies the same steps).
    ema = WeightAverage(model, config.ema_decay) if config.ema_decay else None
    if ema is not None and state:
        ema.load_state_dict(state["ema"])
    scored = ema.model if ema is not None else model

    wrapped: nn.Module | None = None
    while not finished and epoch < config.epochs:
        epoch += 1
        frozen = min(config.freeze_blocks, model.n_blocks) if epoch <= config.freeze_epochs else 0
        if wrapped is None or frozen != model.frozen_blocks:
            model.set_frozen_blocks(frozen)
            wrapped = distributed.wrap(model, ctx)  # DDP must see the new trainable set
        sampler.set_epoch(epoch)
        torch.manual_seed(_epoch_seed(config.seed, epoch, ctx.rank))
        stats = engine.train_one_epoch(
            wrapped,
            loader,
            optimizer,
            scheduler,
            loss_fn,
            normalize,
            device=ctx.device,
            channels_last=config.channels_last,
            grad_clip=config.grad_clip,
            mixup=config.mixup,
            after_step=(lambda: ema.update(model)) if ema is not None else None,
            desc=f"epoch {epoch}/{config.epochs}",
            progress=show,
        )
        val_logits = _predict_sharded(scored, val_images, config, normalize, ctx)
        losses = distributed.gather_objects(ctx, (stats.loss, stats.photos, stats.seconds))
        train_seconds += max(s for _, _, s in losses)
        record = {
            "epoch": epoch,
            "train_loss": sum(loss * n for loss, n, _ in losses) / sum(n for _, n, _ in losses),
            **_val_record(y_val, val_logits),
            "lr": max(g["lr"] for g in optimizer.param_groups),  # the head's
            "frozen_blocks": frozen,
            "steps": steps_per_epoch,  # optimizer steps, the same on every process
            "photos": sum(n for _, n, _ in losses),  # all processes together
            "seconds": round(max(s for _, _, s in losses), 2),
            "photos_per_s": round(sum(n for _, n, _ in losses) / max(s for _, _, s in losses), 1),
        }
        ap, loss = record["val_ap"] or 0.0, record["val_loss"]
        improved = eligible(epoch, config) and improves(
            ap, loss, top_ap=best_ap, best_loss=best_loss
        )
        if improved:
            best_ap, best_loss, best_epoch, bad_epochs = max(ap, best_ap), loss, epoch, 0
        elif eligible(epoch, config):
            bad_epochs += 1
        finished = bad_epochs >= config.patience or epoch >= config.epochs
        record.update(best=improved, best_epoch=best_epoch)
        if ctx.is_main:
            meta = {"stage": "training", "epoch": epoch, "val_ap": ap, "val_loss": loss}
            if improved:
                save_checkpoint(run.best, scored, model_config, meta)
            save_checkpoint(
                run.last,
                model,
                model_config,
                meta,
                train_config=config.to_dict(),
                optimizer=optimizer.state_dict(),
                scheduler=scheduler.state_dict(),
                epoch=epoch,
                best_epoch=best_epoch,
                bad_epochs=bad_epochs,
                best_ap=best_ap,
                best_loss=best_loss,
                train_seconds=train_seconds,
                finished=finished,
                **({"ema": ema.state_dict()} if ema is not None else {}),
            )
            append_jsonl(run.metrics, record)
            if show:
                print(_epoch_line(record), file=sys.stderr, flush=True)
        distributed.barrier(ctx)
        if on_epoch_end is not None:
            on_epoch_end(record)

    summary: dict[str, Any] = {}
    if ctx.is_main:
        summary = finalize(
            run,
            samples,
            config,
            pos_weight=pos_weight,
            val_images=val_images,
            manifest_sha=manifest_sha256(samples),
            training={
                "data_dir": str(data_dir),
                "epochs_run": epoch,
                "best_epoch": best_epoch,
                "stopped_early": epoch < config.epochs,
                "train_seconds": round(train_seconds, 1),
                "decode_seconds": round(decode_seconds, 1),
                "world_size": ctx.world_size,
                "device": str(ctx.device),
                "pos_weight": round(pos_weight, 4),
                "augmentation": describe(train_set.transform),
                "mirror": flips.to_dict(),
            },
            started=started,
            progress=show,
        )
    distributed.barrier(ctx)
    return summary


def _epoch_line(r: dict[str, Any]) -> str:
    def fmt(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.4f}"

    return (
        f"epoch {r['epoch']}: train loss {r['train_loss']:.4f}, val loss {fmt(r['val_loss'])}, "
        f"AUC {fmt(r['val_auc'])}, AP {fmt(r['val_ap'])}, acc {fmt(r['val_accuracy'])}, "
        f"{r['photos_per_s']} photos/s{' *best' if r['best'] else ''}"
    )
