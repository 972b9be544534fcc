"""One error family for everything a user can act on.

Every failure the user may see carries `message` (what happened) and `hint`
(what to do). The CLI prints both; the GUI shows both through one funnel.
`Cancelled` is deliberately *not* a `TuneDeskError`: stopping is a choice,
never a failure, and must never be shown as one.
"""

from __future__ import annotations


class TuneDeskError(Exception):
    """Base class of errors shown to users."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message

    def one_line(self) -> str:
        """Message and hint run together, for a label in a window where __str__'s arrow line does not belong."""
        return f"{self.message} {self.hint}".strip()


class ConfigError(TuneDeskError):
    """A configuration with one or more invalid fields (all listed at once)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            "Invalid settings:\n" + "\n".join(f"  - {p}" for p in self.problems),
            "Fix the settings listed above and start again.",
        )


class DocumentError(TuneDeskError):
    """A document that cannot be read; the others still go on."""


class NoDocumentsError(TuneDeskError):
    """Nothing usable came out of the documents given."""


class DataError(TuneDeskError):
    """A labelled-data file (the classify task) that cannot be read or used: a missing column, one label only."""


class ModelError(TuneDeskError):
    """A model that cannot be found, converted or loaded."""


class RunError(TuneDeskError):
    """A run folder that is missing, incomplete or inconsistent."""


class OutOfMemory(TuneDeskError):
    """Training ran out of memory; the last checkpoint is kept."""


class DiskError(TuneDeskError):
    """Writing to disk failed (full disk, read-only folder)."""


class Cancelled(Exception):
    """The user asked to stop. Not an error."""
