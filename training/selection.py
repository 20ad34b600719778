"""Which epoch's model is the best so far: the early-stopping rule of the trainer, pure."""

from __future__ import annotations

from counterscan.training.config import TrainConfig

AP_TOLERANCE = 0.002  # AP differences smaller than this are noise on a few hundred photos


def improves(ap: float, loss: float, *, top_ap: float, best_loss: float) -> bool:
    """Is this epoch the new best? Validation AP decides, differences within AP_TOLERANCE of
    the highest AP so far count as ties, and ties go to the lower validation loss.

    Why the tolerance: AP saturates near 1.0 on an easy validation set, where one swapped pair
    moves it by ~0.0002; without it, an early epoch with AP 1.0 would beat every later, better
    trained one (measured on banknotes-bd: epoch 3, AP 1.0, loss 0.17 against epoch 6, AP
    0.9998, loss 0.04). Comparing with the highest AP seen (not the current best's) keeps the
    tolerance from letting AP drift down epoch after epoch.
    """
    if ap > top_ap + AP_TOLERANCE:
        return True
    return ap >= top_ap - AP_TOLERANCE and loss < best_loss


def eligible(epoch: int, config: TrainConfig) -> bool:
    """May this epoch's model be the best? Not one of the frozen-phase epochs, unless the run
    has no other. That phase only fits the later layers to the new head; on a validation set it
    already ranks perfectly it would win the loss tie-break and early stopping would end the run
    before the whole network trained (measured on banknotes-bd with label smoothing: best epoch
    2 of 6, test ROC-AUC 0.990 and accuracy 0.921)."""
    return epoch > config.freeze_epochs or config.epochs <= config.freeze_epochs
