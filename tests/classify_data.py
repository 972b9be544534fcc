"""Small labelled files for the classify tests: a separable support-ticket set and broken files.

Tickets for two teams that share no content words (billing: invoices, refunds,
charges; technical: crashes, errors, logins), written from varied sentence
frames so no two rows are the same text. A classifier that learned anything
separates them; one that learned nothing scores ~50%.
"""

from __future__ import annotations

import csv
import itertools
import random
from pathlib import Path

BILLING = ["I was charged twice for my subscription", "my invoice shows the wrong amount", "please refund the payment",
           "the credit card charge is too high", "why did my bill go up this month", "I need a receipt for the invoice",
           "cancel the renewal fee on my card", "the discount was not applied to my bill",
           "you took money from my account twice", "the price on the invoice does not match the order"]
TECHNICAL = ["the app crashes when I open it", "I cannot log in since the update", "the page shows error 500",
             "sync stops with a timeout error", "the screen freezes after the login", "the export button does nothing",
             "the app keeps logging me out", "uploads fail with a network error", "the settings page will not load",
             "notifications stopped working after the update"]
FRAMES = ["{}", "Hi, {}.", "Hello team, {}!", "{} - please help", "Urgent: {}", "{}. Thanks in advance",
          "Since yesterday {}", "{}, what should I do?"]


def ticket_rows(per_label: int = 40, seed: int = 0) -> list[tuple[str, str]]:
    """(text, team) rows, `per_label` of each team, shuffled."""
    rng = random.Random(seed)
    rows = []
    for team, sentences in (("billing", BILLING), ("technical", TECHNICAL)):
        combos = list(itertools.product(FRAMES, sentences))
        rng.shuffle(combos)
        rows.extend((frame.format(sentence), team) for frame, sentence in combos[:per_label])
    rng.shuffle(rows)
    return rows


def write_tickets(path: Path, per_label: int = 40, seed: int = 0) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "ticket", "team"])
        writer.writerows((i + 1, text, team) for i, (text, team) in enumerate(ticket_rows(per_label, seed)))
    return path
