"""The canonical status vocabulary of status reconciliation, and its configuration (pure: no I/O).

Each ATS speaks its own status words ("Placed", "Interview Scheduled", "Rejected by client"). The
configuration (the SSM JSON parameter the template names, `STATUS_CONFIG_PARAMETER`) maps each system's words
to a few canonical statuses, says which word to write for a canonical status in each system (`write_as`), and
which system is the source of truth for a canonical status (`source_of_truth`, e.g. placed -> the system where
placements are made). It also sets the flags' thresholds.

Rejected-, archived- and inactive-type statuses are never proposed by the system (SPEC: the system never
rejects or archives a candidate): they may be *read* (mapped), never written. `StatusConfig.from_mapping`
refuses a configuration that would write one, and `target_status` / `allows_payload` refuse it again in code,
whatever the configuration or a standing rule says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from foureyes.ats.registry import SYSTEMS
from foureyes.errors import StatusConfigError

AVAILABLE, IN_PROCESS, PLACED = "available", "in_process", "placed"
INACTIVE, REJECTED, ARCHIVED = "inactive", "rejected", "archived"
CANONICAL: tuple[str, ...] = (AVAILABLE, IN_PROCESS, PLACED, INACTIVE, REJECTED, ARCHIVED)
PROPOSABLE: frozenset[str] = frozenset({AVAILABLE, IN_PROCESS, PLACED})
NEVER_PROPOSED: frozenset[str] = frozenset({INACTIVE, REJECTED, ARCHIVED})

DOB_CONFLICT, PLACED_ELSEWHERE, STALE = "dob_conflict", "placed_elsewhere", "stale"
FLAGS: tuple[str, ...] = (DOB_CONFLICT, PLACED_ELSEWHERE, STALE)

# Words of a status the system must never write, in English and Dutch, whatever a configuration maps them to:
# a second guard beside the canonical mapping (a "Rejected" mapped to "available" by mistake is still refused).
_REFUSED_WORDS = re.compile(
    r"reject|afgewez|archi[vef]|inacti|delet|verwijder|blacklist|blokk|not selected|niet geselecteerd|withdraw"
    r"|teruggetrokken|do not contact|niet benaderen|closed|gesloten|disqualif|afgesloten|dismiss", re.IGNORECASE)
MAX_STATUS_CHARS = 64


def looks_refused(native: str) -> bool:
    """Whether a status word reads as rejected/archived/inactive-type (never written by the system)."""
    return bool(_REFUSED_WORDS.search(native))


def _key(native: str) -> str:
    return " ".join(native.split()).casefold()


def _field(path: str) -> str:
    return f"status config field {path!r}"


def _days(data: Mapping[str, Any], name: str, default: int) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise StatusConfigError(f"{_field(name)} must be a whole number of days >= 1")
    return value


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise StatusConfigError(f"{_field(path)} must be an object")
    return value


def _system(name: Any, path: str) -> str:
    if name not in SYSTEMS:
        raise StatusConfigError(f"{_field(path)}: unknown system {name!r} (known: {', '.join(SYSTEMS)})")
    return str(name)


def _proposable(canonical: Any, path: str) -> str:
    if canonical not in CANONICAL:
        raise StatusConfigError(f"{_field(path)}: {canonical!r} is not a canonical status ({', '.join(CANONICAL)})")
    if canonical in NEVER_PROPOSED:
        raise StatusConfigError(f"{_field(path)}: the system never proposes {canonical}-type statuses "
                                f"(it proposes only {', '.join(sorted(PROPOSABLE))})")
    return str(canonical)


@dataclass(frozen=True, slots=True)
class StatusConfig:
    """The validated configuration; build it with `from_mapping`."""

    statuses: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # system -> folded word -> canonical
    write_as: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # system -> canonical -> word
    source_of_truth: Mapping[str, str] = field(default_factory=dict)  # canonical -> system
    stale_after_days: int = 365
    recent_within_days: int = 30
    flags: frozenset[str] = frozenset(FLAGS)
    enabled: bool = True

    KNOWN = ("enabled", "statuses", "write_as", "source_of_truth", "stale_after_days", "recent_within_days", "flags")

    @classmethod
    def from_mapping(cls, data: Any) -> StatusConfig:
        """Validate the parsed JSON; `StatusConfigError` names the first field that is wrong."""
        if not isinstance(data, Mapping):
            raise StatusConfigError("status config must be a JSON object")
        for name in data:
            if name not in cls.KNOWN:
                raise StatusConfigError(f"{_field(str(name))} is not a known setting ({', '.join(cls.KNOWN)})")
        enabled = data.get("enabled", True)
        if not isinstance(enabled, bool):
            raise StatusConfigError(f"{_field('enabled')} must be true or false")
        statuses, spelled = cls._statuses(_object(data.get("statuses", {}), "statuses"))
        write_as = cls._write_as(_object(data.get("write_as", {}), "write_as"), statuses, spelled)
        truth: dict[str, str] = {}
        for canonical, system in _object(data.get("source_of_truth", {}), "source_of_truth").items():
            path = f"source_of_truth.{canonical}"
            _proposable(canonical, path)
            _system(system, path)
            if system not in statuses:
                raise StatusConfigError(f"{_field(path)}: {system!r} has no status words under 'statuses'")
            truth[canonical] = system
        stale, recent = _days(data, "stale_after_days", 365), _days(data, "recent_within_days", 30)
        if recent >= stale:
            raise StatusConfigError(f"{_field('recent_within_days')} must be less than stale_after_days")
        flags = set(FLAGS)
        for name, on in _object(data.get("flags", {}), "flags").items():
            if name not in FLAGS:
                raise StatusConfigError(f"{_field('flags.' + str(name))} is not a known flag ({', '.join(FLAGS)})")
            if not isinstance(on, bool):
                raise StatusConfigError(f"{_field('flags.' + name)} must be true or false")
            if not on:
                flags.discard(name)
        return cls(statuses, write_as, truth, stale, recent, frozenset(flags), enabled)

    @staticmethod
    def _statuses(raw: Mapping[str, Any]) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
        """(system -> folded word -> canonical, system -> folded word -> the word as configured)."""
        statuses: dict[str, dict[str, str]] = {}
        spelled: dict[str, dict[str, str]] = {}
        for system, words in raw.items():
            _system(system, f"statuses.{system}")
            mapped: dict[str, str] = {}
            spelling = spelled.setdefault(system, {})
            for native, canonical in _object(words, f"statuses.{system}").items():
                path = f"statuses.{system}.{native}"
                if not native.strip() or len(native) > MAX_STATUS_CHARS:
                    raise StatusConfigError(f"{_field(path)}: a status word is 1 to {MAX_STATUS_CHARS} characters")
                if canonical not in CANONICAL:
                    raise StatusConfigError(f"{_field(path)} must be one of {', '.join(CANONICAL)}")
                if canonical in PROPOSABLE and looks_refused(native):
                    raise StatusConfigError(f"{_field(path)}: {native!r} reads as a rejected/archived/inactive-type "
                                            f"status; map it to one of {', '.join(sorted(NEVER_PROPOSED))}")
                if mapped.get(_key(native), canonical) != canonical:
                    raise StatusConfigError(f"{_field(path)}: the same word (ignoring case) is mapped twice")
                mapped[_key(native)] = canonical
                spelling.setdefault(_key(native), native.strip())
            statuses[system] = mapped
        return statuses, spelled

    @staticmethod
    def _write_as(raw: Mapping[str, Any], statuses: Mapping[str, Mapping[str, str]],
                  spelled: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
        """The word to write per system and canonical status: as configured, else the first word the system's
        `statuses` map to it (never a word that reads as refused)."""
        written: dict[str, dict[str, str]] = {}
        for system, words in raw.items():
            _system(system, f"write_as.{system}")
            chosen: dict[str, str] = {}
            for canonical, native in _object(words, f"write_as.{system}").items():
                path = f"write_as.{system}.{canonical}"
                _proposable(canonical, path)
                if not isinstance(native, str) or not native.strip() or len(native) > MAX_STATUS_CHARS:
                    raise StatusConfigError(f"{_field(path)} must be a status word of 1 to {MAX_STATUS_CHARS} "
                                            "characters")
                if looks_refused(native):
                    raise StatusConfigError(f"{_field(path)}: {native!r} reads as a rejected/archived/inactive-type "
                                            "status, which the system never proposes")
                listed = statuses.get(system, {}).get(_key(native))
                if listed != canonical:
                    raise StatusConfigError(f"{_field(path)}: {native!r} must be listed under statuses.{system} as "
                                            f"{canonical!r} (it is {listed!r})")
                chosen[canonical] = native
            written[system] = chosen
        for system, words in statuses.items():
            chosen = written.setdefault(system, {})
            for folded, canonical in words.items():
                if canonical in PROPOSABLE and canonical not in chosen:
                    chosen[canonical] = spelled[system][folded]
        return written

    # -- use ------------------------------------------------------------------------------------------------
    def canonical(self, system: str, native: str) -> str | None:
        """The canonical status of `native` in `system`; None when the word is not in the vocabulary."""
        return self.statuses.get(system, {}).get(_key(native)) if native else None

    def target_status(self, system: str, canonical: str) -> str | None:
        """The word to write in `system` for `canonical`; None when the system has none. A never-proposed status
        (rejected, archived, inactive) raises `StatusConfigError`, whatever the configuration says."""
        if canonical not in PROPOSABLE:
            raise StatusConfigError(f"the system never proposes the status {canonical!r}")
        native = self.write_as.get(system, {}).get(canonical)
        if native is None:
            return None
        if looks_refused(native) or self.canonical(system, native) != canonical:
            raise StatusConfigError(f"write_as.{system}.{canonical} would write a status the system never proposes")
        return native

    def allows_payload(self, system: str, payload: Mapping[str, Any]) -> bool:
        """Whether every status an update_status call would write is one the system may propose (a standing rule
        may have changed the payload): at least one status, each a word mapped to a proposable status."""
        written = list(_statuses_in(payload))
        return bool(written) and all(isinstance(native, str) and not looks_refused(native)
                                     and self.canonical(system, native) in PROPOSABLE for native in written)


def _statuses_in(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key == "status":
                yield inner
            else:
                yield from _statuses_in(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _statuses_in(inner)


def disabled() -> StatusConfig:
    return StatusConfig(enabled=False)
