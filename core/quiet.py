"""Silence library chatter (progress bars, warnings) that users cannot act on.

Everything a user should see travels as core events; transformers' loading
bars and bitsandbytes' 'install kernels from the hub' warning only confuse.
"""

from __future__ import annotations

import logging
import os
import warnings


def quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the network is only used when a user asks to download
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    warnings.filterwarnings("ignore")
    for name in ("transformers", "bitsandbytes", "peft", "accelerate", "huggingface_hub", "kernels"):
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.CRITICAL)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass
