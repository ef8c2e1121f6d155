"""requirements.lock, which `make run` and `make test` install from, pins every dependency
pyproject.toml declares at a version it allows, each with its hashes."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

pytestmark = pytest.mark.database_free

ROOT = Path(__file__).resolve().parents[2]


def locked() -> dict[str, tuple[Version, int]]:
    """Each locked package: its version and how many hashes vouch for it."""
    text = (ROOT / "requirements.lock").read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text)
    pins: dict[str, tuple[Version, int]] = {}
    for entry in entries:
        if match := re.match(r"([A-Za-z0-9._-]+)==(\S+)", entry):
            pins[canonicalize_name(match[1])] = (Version(match[2]), entry.count("--hash=sha256:"))
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    ]


def test_every_declared_dependency_is_locked_at_a_version_it_allows_with_hashes() -> None:
    pins = locked()
    missing = [str(r) for r in declared() if canonicalize_name(r.name) not in pins]
    outside = [
        f"{r.name} {pins[canonicalize_name(r.name)][0]} (declared {r.specifier})"
        for r in declared()
        if canonicalize_name(r.name) in pins
        and not r.specifier.contains(pins[canonicalize_name(r.name)][0], prereleases=True)
    ]
    unhashed = [name for name, (_, hashes) in pins.items() if hashes == 0]

    assert not missing, f"not in requirements.lock (run `make lock`): {missing}"
    assert not outside, f"locked outside what pyproject.toml allows (run `make lock`): {outside}"
    assert not unhashed, f"locked without a hash: {unhashed}"
    assert len(pins) > len(declared())  # what they depend on is locked too
