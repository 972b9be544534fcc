"""How fast training really ran on this computer, against what the estimate predicted, so the next estimate
starts from the truth.

The estimate (estimate.py) divides FLOPs by a throughput constant measured on one CPU, with vendor figures
for GPUs. On another computer it can be far off: on a 2-core AMD EPYC without AMX the demo model trained
the realistic dev set at 1.4–1.8 s per step against the 0.7 s predicted, so "roughly 9 minutes" took 22.
Every finished run times its own steps (eta.py StepClock); the ratio of measured to predicted seconds per
step is kept here, per device and precision, and scales the next estimate. The first run on a computer is
a rough figure; every later one is timed from this computer's own runs, GPUs and Macs included.

A ratio from the same base model is preferred (overheads weigh differently on a model ten times larger);
otherwise the device's other runs stand in. The newest KEEP ratios per device are kept, their median used.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from core.device import DeviceInfo
from core.paths import data_dir
from core.store import read_json, write_json

FILE = "measured_speed.json"
KEEP = 5
SANE = (0.1, 10.0)
"""Ratios outside this range come from a run disturbed by something else (a laptop asleep, a busy machine)."""


def _file(home: Path | None) -> Path:
    return (home or data_dir()) / FILE


def device_key(info: DeviceInfo, precision: str) -> str:
    """One key per kind of computer, precision and, on a CPU, the threads torch trains with here (what this
    process would use: OMP_NUM_THREADS or torch's default), so a one-thread benchmark never speaks for the app."""
    import torch

    threads = torch.get_num_threads() if info.kind == "cpu" else 0
    return f"{info.kind}|{info.name}|{threads}|{precision}"


def _read(path: Path) -> dict[str, list[dict[str, Any]]]:
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _entries(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """A key's readable entries: a file edited by hand or cut short must not fail a run that finished."""
    entries = data.get(key)
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("ratio"), (int, float))
            and SANE[0] <= e["ratio"] <= SANE[1]] if isinstance(entries, list) else []


def speed_factor(info: DeviceInfo, precision: str, model: str, home: Path | None = None) -> float | None:
    """Measured ÷ predicted seconds per step on this computer (None before its first finished run)."""
    entries = _entries(_read(_file(home)), device_key(info, precision))
    same = [e["ratio"] for e in entries if e.get("model") == model]
    ratios = same or [e["ratio"] for e in entries]
    return float(statistics.median(ratios)) if ratios else None


def record_speed(info: DeviceInfo, precision: str, model: str, predicted_s: float, measured_s: float,
                 home: Path | None = None) -> float | None:
    """Keep this run's ratio (measured ÷ predicted seconds per step, both without the estimate's earlier
    correction); returns it, or None when it was not kept (nothing predicted, or out of SANE)."""
    if predicted_s <= 0 or measured_s <= 0:
        return None
    ratio = measured_s / predicted_s
    if not SANE[0] <= ratio <= SANE[1]:
        return None
    path = _file(home)
    data = _read(path)
    key = device_key(info, precision)
    entries = _entries(data, key)
    data[key] = (entries + [{"model": model, "ratio": round(ratio, 4)}])[-KEEP:]
    try:
        write_json(path, data)
    except OSError:
        return None  # a read-only home: the estimate stays rough, training is not disturbed
    return ratio
