"""Documents → training examples in the model's chat format, with a validation split."""

from core.dataset.build import DatasetInfo, build_dataset, load_examples
from core.dataset.examples import Example

__all__ = ["DatasetInfo", "Example", "build_dataset", "load_examples"]
