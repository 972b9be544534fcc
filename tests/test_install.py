"""The install (README's two commands): the versions it pins are TuneDesk's dependencies, within what
pyproject allows, and the suite runs on exactly those versions, so 'the tests passed' says something
about what a fresh install gets."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import install  # noqa: E402


def _pins(text: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{line!r} in {install.TESTED.name} is not a pin (name==version)"
            pins[canonicalize_name(name)] = version
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines += extra
    return [Requirement(line) for line in lines]


def test_every_declared_dependency_is_pinned_to_a_version_pyproject_allows() -> None:
    pins = _pins(install.TESTED.read_text(encoding="utf-8"))
    problems = []
    for req in _declared():
        name = canonicalize_name(req.name)
        if name in install.UNPINNED:
            assert name not in pins, f"{name} is pinned though scripts/install.py leaves it unpinned"
            continue
        if name not in pins:
            problems.append(f"{req.name} is not pinned")
        elif not req.specifier.contains(Version(pins[name]), prereleases=True):
            problems.append(f"{req.name}=={pins[name]} is outside pyproject's {req.specifier}")
    assert not problems, (f"{install.TESTED.name}: {'; '.join(problems)}. Install the new requirement, run the "
                          "suite, then `python3 scripts/install.py --record-tested`.")


def test_the_suite_runs_on_the_pinned_versions() -> None:
    """A pin the suite never ran on is a guess. scripts/install.py installs the pins, so in CI (a fresh
    install) this holds unless the install stopped applying them; on a developer's machine it fails after an
    upgrade until the suite has passed and the pins are recorded again."""
    pins = _pins(install.TESTED.read_text(encoding="utf-8"))
    installed = install.installed_closure(install.PINNED)
    assert {"transformers", "peft", "pyside6"} <= installed.keys(), "the closure walk missed direct dependencies"
    differ = {name: (pins[name], version) for name, version in installed.items()
              if name in pins and Version(pins[name]) != Version(version)}
    assert not differ, (f"installed versions differ from {install.TESTED.name} (pinned, installed): {differ}. "
                        "`python3 scripts/install.py` installs the pinned ones; if the suite passes with these, "
                        "`python3 scripts/install.py --record-tested` records them.")


def test_a_recorded_file_pins_what_is_installed_and_leaves_torch_to_the_install() -> None:
    installed = install.installed_closure(install.PINNED)
    pins = _pins(install.tested_versions_text(installed))
    assert "torch" in installed and "torch" not in pins  # a user's CUDA torch must never be replaced
    assert pins == {name: v for name, v in installed.items() if name not in install.UNPINNED}
