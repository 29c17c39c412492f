"""Who reviews: recruiters per system and team leads, from the people parameter (SSM JSON)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from foureyes.errors import ConfigurationError
from foureyes.settings import settings, ssm_json


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    email: str


@dataclass(frozen=True, slots=True)
class People:
    recruiters: Mapping[str, tuple[Person, ...]]
    team_leads: tuple[Person, ...]

    def recruiters_for(self, system: str) -> tuple[Person, ...]:
        return self.recruiters.get(system) or self.recruiters.get("*") or ()

    def find(self, person_id: str) -> Person | None:
        for person in (*self.team_leads, *(p for group in self.recruiters.values() for p in group)):
            if person.id == person_id:
                return person
        return None


def _person(raw: Any, where: str) -> Person:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("email"), str):
        raise ConfigurationError(f"people parameter: each entry of {where} needs string 'id' and 'email'")
    return Person(raw["id"], raw["email"])


def parse_people(raw: Any) -> People:
    if not isinstance(raw, dict):
        raise ConfigurationError("people parameter must be a JSON object")
    recruiters_raw = raw.get("recruiters")
    if not isinstance(recruiters_raw, dict) or not recruiters_raw:
        raise ConfigurationError("people parameter needs 'recruiters': {system or '*': [people]}")
    recruiters = {system: tuple(_person(p, f"recruiters.{system}") for p in group)
                  for system, group in recruiters_raw.items()}
    leads = tuple(_person(p, "team_leads") for p in raw.get("team_leads") or [])
    if not leads:
        raise ConfigurationError("people parameter needs at least one entry in 'team_leads'")
    return People(recruiters, leads)


def round_robin(pool: Sequence[Person], exclude: Collection[str], turn: int) -> Person | None:
    """The `turn`-th eligible person in `pool` (cycling), skipping anyone in `exclude`; None if nobody is left."""
    eligible = [person for person in pool if person.id not in exclude]
    if not eligible:
        return None
    return eligible[turn % len(eligible)]


def load_people() -> People:
    """The people directory from its SSM parameter (cached by Powertools for the parameters' max age)."""
    return parse_people(ssm_json(settings().people_parameter))
