"""Config, the training loop, checkpoints and the docs→run pipeline."""

from core.training.config import PRESETS, TrainConfig, preset_config

__all__ = ["PRESETS", "TrainConfig", "preset_config"]
