"""The little that training needs to know about running under `torchrun`.

`torchrun --nproc_per_node N -m counterscan train ...` starts N copies of the same command with
WORLD_SIZE, RANK and LOCAL_RANK in their environment. Each copy trains on its share of every
batch (DistributedSampler), DistributedDataParallel averages the gradients, so all copies hold
the same weights after each step. Backend: NCCL when every process has its own GPU, gloo on
CPUs. Only rank 0 writes files. Without those variables everything here is a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """The one process that writes files and prints the summary."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def setup(device: str = "auto") -> DistContext:
    """Join the process group when started by torchrun; pick this process's device.

    device: "auto" (a GPU when there is one, else CPU), "cpu" or "cuda".
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(local_rank)
        chosen = torch.device("cuda", local_rank)
    else:
        chosen = torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(
            backend="nccl" if use_cuda else "gloo",
            device_id=chosen if use_cuda else None,
        )
    return DistContext(rank=rank, world_size=world_size, local_rank=local_rank, device=chosen)


def cleanup(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        dist.barrier()


def gather_objects(ctx: DistContext, obj: Any) -> list[Any]:
    """Every rank's `obj`, in rank order, on every rank ([obj] when not distributed)."""
    if not ctx.enabled:
        return [obj]
    out: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(ctx: DistContext, obj: Any) -> Any:
    """Rank 0's `obj` on every rank (for decisions that must agree, e.g. a raised error)."""
    if not ctx.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def wrap(model: torch.nn.Module, ctx: DistContext) -> torch.nn.Module:
    """DistributedDataParallel around `model` when distributed, else `model` itself.

    Call again after freezing or unfreezing layers: DDP fixes the set of parameters that
    receive gradients when it is built.
    """
    if not ctx.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [ctx.local_rank] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)
