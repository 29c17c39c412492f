"""Who reviews: recruiters per system and team leads, from the people parameter (SSM JSON); and the one
answer to "is this actor a person for this write" (`Directory`), which the dispatcher, fact entry and the
decision write all ask.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from foureyes.errors import ConfigurationError
from foureyes.model import ATS_ACTOR_PREFIX
from foureyes.settings import settings, ssm_json

# Authors that are never a person's decision, whatever a directory says: the pipeline's own actors. Anything
# an ATS claims is recorded as "ats:<system>" and is no person either.
NOT_PEOPLE = frozenset({"", "matcher", "system", "kill-switch"})


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    email: str
    language: str = ""  # "nl" or "en" when the people list says so: their e-mails and pages (else negotiated)


@dataclass(frozen=True, slots=True)
class People:
    recruiters: Mapping[str, tuple[Person, ...]]
    team_leads: tuple[Person, ...]

    def recruiters_for(self, system: str) -> tuple[Person, ...]:
        return self.recruiters.get(system) or self.recruiters.get("*") or ()

    def find(self, person_id: str) -> Person | None:
        for person in self.everyone():
            if person.id == person_id:
                return person
        return None

    def everyone(self) -> tuple[Person, ...]:
        return tuple(dict.fromkeys((*self.team_leads, *(p for group in self.recruiters.values() for p in group))))

    def by_email(self, email: str) -> Person | None:
        """The person whose work e-mail this is (case and surrounding spaces do not matter), or None."""
        wanted = email.strip().casefold()
        return next((person for person in self.everyone() if person.email.strip().casefold() == wanted), None)


def _person(raw: Any, where: str) -> Person:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("email"), str):
        raise ConfigurationError(f"people parameter: each entry of {where} needs string 'id' and 'email'")
    language = raw.get("language", "")
    if not isinstance(language, str):
        raise ConfigurationError(f"people parameter: 'language' of {where} must be a string such as \"nl\"")
    return Person(raw["id"], raw["email"], language)


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


def is_machine(actor: str) -> bool:
    """True for the pipeline's own actors and for whatever an ATS claims: never a person."""
    return actor in NOT_PEOPLE or actor != actor.strip() or actor.lower().startswith(ATS_ACTOR_PREFIX)


@dataclass(frozen=True, slots=True)
class Directory:
    """Who is a person for a write, in one place.

    A proposal is decided by people of the review directory (recruiters, team leads). A fact may also be
    entered by the people scheduling knows (a role's interviewers, hiring managers and recruiters), or by the
    candidate, about their own record only (their actor id is their record's ref, `system:record_id`).
    `system`, `kill-switch`, `matcher`, `ats:*` and anyone not listed are never people.
    """

    reviewers: People
    fact_people: frozenset[str] = frozenset()

    def decides(self, actor: str) -> bool:
        """A person who may decide (review, approve, break the tie of) a proposal."""
        return not is_machine(actor) and self.reviewers.find(actor) is not None

    def enters_fact(self, actor: str, ref: str) -> bool:
        """A person who may enter a fact about the record `ref` (`system:record_id`)."""
        if is_machine(actor):
            return False
        return actor == ref or actor in self.fact_people or self.reviewers.find(actor) is not None


def scheduling_people(raw: Any) -> frozenset[str]:
    """The people the scheduling configuration names: every role's panel, hiring managers and recruiters."""
    from foureyes.scheduling.settings import Settings as SchedulingSettings

    roles = SchedulingSettings.from_dict(raw).roles.values()
    named: Iterable[str] = (person for plan in roles for group in (plan.panel, plan.hiring_managers, plan.recruiters)
                            for person in group)
    return frozenset(person for person in named if not is_machine(person))


def load_directory() -> Directory:
    """The directory as the functions see it: the people parameter, plus the scheduling configuration's people
    when the function is given that parameter (SSM, cached by Powertools like every parameter)."""
    config = settings()
    scheduling = config.optional("SCHEDULING_CONFIG_PARAM")
    return Directory(load_people(), scheduling_people(ssm_json(scheduling)) if scheduling else frozenset())
