"""Core's hints in the app's words: buttons and settings, not command-line flags.

Core errors and notes are written once, for both faces, and name what to do the way a terminal user does
it ("a smaller batch (--batch-size 2)", "continue with --resume", "tunedesk models login"). A person in the
app has no flags (issue #21, item 4): every text the app shows from core passes through `for_app`, which
names the setting by its label in Advanced settings, the button or the page instead. The CLI keeps the flags.
"""

from __future__ import annotations

import re

from core.training.config import TrainConfig

_FIELDS = {f.replace("_", "-") for f in TrainConfig.__dataclass_fields__}

_PHRASES: tuple[tuple[str, str], ...] = (
    (r"Continue (?:it )?with --resume", "Press Resume"),
    (r"continue (?:it )?with --resume", "press Resume"),
    (r"Run the same command again to continue", "Press Resume to continue"),
    (r"run the same command again", "press Resume"),
    (r"--resume", "Resume"),
    (r"`?tunedesk models login`?", "Hub token… on the Model page"),
    (r"`?tunedesk models add [^`\s,)]+`?", "Add model… on the Model page"),
    (r"`?tunedesk models add …`?", "Add model… on the Model page"),
    (r"(?:a name from )?`?tunedesk models list`?", "a model on the Model page"),
    (r"`?tunedesk models download(?: owner/name| OWNER/NAME)?`?", "Download on the Model page"),
    (r"`?tunedesk models remove`?", "Remove on the Model page"),
    (r"`?tunedesk classify train …`?", "Start training on the Train page"),
    (r"add --base to chat with the base model", "choose the original model in Chat"),
)


def _setting(match: re.Match[str]) -> str:
    flag, value = match.group(1), match.group(2)
    if flag not in _FIELDS:
        return match.group(0)
    from gui.settings_form import plain_label

    words = f"“{plain_label(flag.replace('-', '_'))}”"
    return f"{words}: {value}" if value else words


def for_app(text: str) -> str:
    """`text` with every command-line flag and command replaced by what the app calls it."""
    if "--" not in text and "tunedesk " not in text:
        return text
    for pattern, words in _PHRASES:
        text = re.sub(pattern, words, text)
    text = re.sub(r"--([a-z][a-z-]*)(?: ([\w.]+))?", _setting, text)
    return text.replace("  ", " ")
