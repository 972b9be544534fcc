"""Device detection, precision choice and config validation."""

from __future__ import annotations

import dataclasses

import pytest

from core.device import DeviceInfo, choose_precision, detect
from core.errors import ConfigError
from core.training.config import PRESETS, TrainConfig, preset_config


def test_detect_reports_this_machine():
    info = detect()
    assert info.kind in ("cpu", "cuda", "mps")
    assert info.system_memory_gb > 0.5
    assert info.cpu_cores >= 1
    assert "Device:" in info.describe()
    if info.kind == "cpu":
        # bitsandbytes 0.50 runs NF4 on the CPU: the check must find it working.
        assert info.nf4, info.nf4_detail


def _info(**kw) -> DeviceInfo:
    base = DeviceInfo("cpu", "test", 16.0, 12.0, 16.0, 2, True, True, "bnb", "2.x")
    return dataclasses.replace(base, **kw)


@pytest.mark.parametrize(
    "info,params,expected",
    [
        (_info(kind="cuda"), 7_000_000_000, "nf4"),
        (_info(kind="cuda", nf4=False), 7_000_000_000, "bf16"),
        (_info(), 135_000_000, "bf16"),  # CPU, fits: bf16 is fastest
        (_info(bf16=False), 135_000_000, "fp32"),
        (_info(available_memory_gb=8.0), 3_000_000_000, "nf4"),  # too big for bf16 in RAM
        (_info(kind="mps", nf4=False), 135_000_000, "fp32"),
    ],
)
def test_choose_precision(info, params, expected):
    choice = choose_precision(info, params)
    assert choice.precision == expected
    assert choice.reason  # always explained


def test_requested_nf4_without_bitsandbytes_falls_back_with_reason():
    choice = choose_precision(_info(nf4=False, nf4_detail="no bnb"), 135_000_000, "nf4")
    assert choice.precision == "bf16"
    assert "no bnb" in choice.reason


def test_config_reports_every_problem_at_once():
    cfg = TrainConfig(learning_rate=0, batch_size=0, lora_r=0, precision="int3", chunk_tokens=8, anchor=1.5)
    with pytest.raises(ConfigError) as err:
        cfg.validate()
    problems = err.value.problems
    assert len(problems) >= 6
    text = str(err.value)
    for field in ("learning_rate", "batch_size", "lora_r", "precision", "chunk_tokens", "anchor"):
        assert field in text
    assert err.value.hint


def test_presets_are_valid_and_ordered():
    for name in PRESETS:
        preset_config(name).validate()
    assert preset_config("quick").epochs < preset_config("standard").epochs < preset_config("thorough").epochs
    with pytest.raises(ConfigError):
        preset_config("turbo")


def test_a_short_document_set_trains_at_least_the_presets_floor_and_max_steps_still_caps():
    from core.training.plan import plan_steps

    standard = preset_config("standard")
    few, many = plan_steps(standard, 120), plan_steps(standard, 2000)  # ~a page of examples; ~20 pages
    assert few.total_steps == standard.min_steps > standard.epochs * few.steps_per_epoch  # a page: more passes
    assert many.total_steps == standard.epochs * many.steps_per_epoch  # the epochs decide once they give more steps
    assert plan_steps(preset_config("standard", max_steps=7), 120).total_steps == 7
    assert plan_steps(preset_config("standard", min_steps=0), 120).total_steps == standard.epochs * few.steps_per_epoch
    with pytest.raises(ConfigError):
        preset_config("standard", min_steps=-1).validate()


def test_a_long_run_checks_validation_at_most_max_checks_times_and_a_short_one_as_configured():
    from core.training.plan import MAX_CHECKS, plan_steps

    standard = preset_config("standard")
    long_run, short_run = plan_steps(standard, 2000), plan_steps(standard, 120)
    checks = [s for s in range(1, long_run.total_steps + 1) if long_run.evaluates_at(s)]
    assert len(checks) == MAX_CHECKS == long_run.evaluations - 1  # plus the final one, as the estimate counts
    assert checks[-1] > long_run.total_steps * 0.8  # spread over the whole run, not bunched at its start
    assert short_run.eval_every == standard.eval_every


def test_config_round_trips_and_rejects_unknown_fields():
    cfg = preset_config("standard", max_steps=7)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_dict({**cfg.to_dict(), "warp_speed": 9})
    assert "warp_speed" in str(err.value)
