"""The deps layer is built from a lock: layers/deps/requirements.txt, compiled from requirements.in (see its header),
pins every package with == and a hash, and still satisfies every requirement of the .in (not stale)."""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

DEPS = Path(__file__).resolve().parents[2] / "layers/deps"


def _requirements(path: Path) -> list[str]:
    """Requirement lines without comments, each with its continuation lines joined."""
    text = path.read_text().replace("\\\n", " ")
    return [line.split(" #")[0].strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _pins() -> dict[str, tuple[str, list[str]]]:
    pins = {}
    for line in _requirements(DEPS / "requirements.txt"):
        spec, *options = line.split()
        requirement = Requirement(spec)
        assert [s.operator for s in requirement.specifier] == ["=="], f"not pinned with ==: {spec}"
        pins[canonicalize_name(requirement.name)] = (next(iter(requirement.specifier)).version, options)
    return pins


def test_every_package_in_the_lock_is_pinned_and_hashed() -> None:
    pins = _pins()
    assert pins, "empty lock"
    assert {name for name, (_, options) in pins.items()
            if not any(option.startswith("--hash=sha256:") for option in options)} == set()


def test_the_lock_covers_and_satisfies_every_declared_requirement() -> None:
    pins = _pins()
    declared = [Requirement(line) for line in _requirements(DEPS / "requirements.in")]
    assert declared
    assert {r.name for r in declared if canonicalize_name(r.name) not in pins} == set(), "recompile the lock"
    stale = {str(r) for r in declared if not r.specifier.contains(pins[canonicalize_name(r.name)][0], prereleases=True)}
    assert stale == set(), "the lock no longer satisfies requirements.in: recompile it"
