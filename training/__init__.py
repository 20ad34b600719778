"""counterscan.training: fine-tuning, evaluation, calibration, priority thresholds.

Importing the package imports nothing (the CLI's --help must not import torch): use
`counterscan.training.trainer.train` and `counterscan.training.config.TrainConfig`.
"""
