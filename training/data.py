"""Photos in memory: decode every photo once, then serve uint8 tensors to the training loop.

Decoding a phone JPEG costs 5-40 ms, as much as the network's forward pass on a small batch
photo, so decoding it again every epoch would double an epoch's time. Instead each photo is
decoded once, through the service's own preprocessing (`to_model_input`: centre square, resized),
into one (N, S, S, 3) uint8 array: 1,000 photos at 256 px take 200 MB.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler

from counterscan.errors import CounterscanError
from counterscan.images import ImageDecodeError, to_model_input
from counterscan.progress import progress_bar

MAX_CACHE_BYTES = 16 * 1024**3  # refuse to plan a cache larger than this (16 GB)


def _decode_one(path: Path, size: int) -> np.ndarray:
    return to_model_input(path.read_bytes(), size)


def decode_photos(
    paths: Sequence[Path],
    size: int,
    *,
    threads: int = 2,
    progress: bool = True,
    desc: str = "decoding",
) -> np.ndarray:
    """(N, size, size, 3) uint8 with every photo decoded once (in parallel: PIL releases the GIL).

    Fails with one message that names the unreadable photos (run `counterscan data check`).
    """
    n_bytes = len(paths) * size * size * 3
    if n_bytes > MAX_CACHE_BYTES:
        raise CounterscanError(
            f"{len(paths)} photos at {size} px need {n_bytes / 1e9:.1f} GB of memory; "
            "use a smaller --image-size or fewer photos"
        )
    out = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    bad: list[str] = []

    def work(i: int) -> None:
        try:
            out[i] = _decode_one(paths[i], size)
        except (ImageDecodeError, OSError) as e:
            bad.append(f"{paths[i]} ({e})")

    with (
        ThreadPoolExecutor(max_workers=max(1, threads)) as pool,
        progress_bar(
            total=len(paths), desc=desc, unit="photo", disable=not progress, leave=False
        ) as bar,
    ):
        for _ in pool.map(work, range(len(paths))):
            bar.update(1)
    if bad:
        shown = "; ".join(sorted(bad)[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise CounterscanError(
            f"{len(bad)} photo(s) cannot be decoded: {shown}{more} "
            "(run `counterscan data check` to list them all)"
        )
    return out


class PhotoDataset(torch.utils.data.Dataset):
    """Cached photos -> (transformed (3, H, W) uint8 image, float target)."""

    def __init__(self, images: np.ndarray, targets: Sequence[int], transform: torch.nn.Module):
        if len(images) != len(targets):
            raise ValueError("images and targets differ in length")
        self.images = images  # (N, S, S, 3) uint8
        self.targets = torch.tensor(list(targets), dtype=torch.float32)  # (N,)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        # (3, S, S) uint8. Contiguous: the v2 colour transforms are ~10x slower on the
        # channels-last view that a plain permute would give (measured: 170 vs 16 ms a photo).
        image = torch.from_numpy(self.images[i]).permute(2, 0, 1).contiguous()
        return self.transform(image), self.targets[i]


def train_loader(
    dataset: PhotoDataset, batch_size: int, *, seed: int, rank: int, world_size: int
) -> tuple[DataLoader, DistributedSampler]:
    """Shuffled batches of this process's share of the photos.

    DistributedSampler also serves the single-process case (world_size 1): its shuffle depends
    only on (seed, epoch) via `set_epoch`, which is what makes a resumed run see the same order.
    Workers: none. The transforms are cheap on cached tensors, and worker processes would
    copy the cache and make the random augmentations depend on scheduling.
    """
    sampler = DistributedSampler(
        dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=seed, drop_last=False
    )
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=0)
    return loader, sampler


def eval_loader(dataset: PhotoDataset, batch_size: int) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0)
