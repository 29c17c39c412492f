"""The scheduling side of the lifecycle soak: stage changes, candidates booking, moving and cancelling through
their links, the ATS cancelling, outcomes recorded by people, on the in-memory scheduling repository (the
contract `integration/test_scheduling_store.py` holds the real store to). Facts go to the real `submit_fact`
of the soak's world, so they meet the same dispatcher and fake ATSes as proposals do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from foureyes.ats import calls
from foureyes.dispatch import facts
from foureyes.model import Action
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.settings import Settings
from foureyes.scheduling.slots import InterviewerCalendar
from tests.support.memory_scheduling import MemorySchedulingStore

if TYPE_CHECKING:
    from tests.soak.world import World

ROLE = "R-1"
INTERVIEWERS = ("iv-1", "iv-2")
SCHEDULING_PEOPLE = ("iv-1", "iv-2", "hm-1", "rec-1")
SECRET = b"soak-scheduling-link-secret-0123"
BASE_URL = "https://book.example"
LINK = re.compile(re.escape(BASE_URL) + r"/book/(\S+)")


def settings() -> Settings:
    return Settings.from_dict({
        "stages": {"otys": ["Interview"], "bullhorn": ["Interview Scheduled"]},
        "roles": {ROLE: {"panel": list(INTERVIEWERS), "panel_size": 1, "duration_minutes": 60, "mode": "remote",
                         "window_days": 7, "hiring_managers": ["hm-1"], "recruiters": ["rec-1"]}},
        "templates": {"invite": {"subject": "Plan your interview", "text": "Choose a time: $link (before $deadline)",
                                 "approved_by": "rec-1"}},
        "rules": {"step_minutes": 60, "buffer_minutes": 15, "min_notice_minutes": 60, "max_slots": 12},
        "outcomes": {"otys": {"hired": "Placed", "not_hired": "Rejected"},
                     "bullhorn": {"hired": "Placed", "not_hired": "Not selected"}},
        "onboarding_template": {"template_id": "onb-1", "title": "Onboarding", "steps": ["Laptop", "Badge"]},
        "interviewer_emails": {"iv-1": "iv-1@agency.example", "iv-2": "iv-2@agency.example",
                               "hm-1": "hm-1@agency.example", "rec-1": "rec-1@agency.example"},
    })


class FreeCalendar:
    """Every interviewer free in working hours; events come and go by id."""

    def __init__(self) -> None:
        self.events: dict[str, str] = {}

    def availability(self, interviewers: Sequence[str], start: datetime,
                     end: datetime) -> dict[str, InterviewerCalendar]:
        return {person: InterviewerCalendar() for person in interviewers}

    def create_hold(self, interviewer: str, start: datetime, end: datetime, subject: str, ref: str) -> str:
        event_id = f"ev-{len(self.events) + 1}"
        self.events[event_id] = interviewer
        return event_id

    def confirm(self, interviewer: str, event_id: str, subject: str) -> None:
        self.events[event_id] = interviewer

    def delete(self, interviewer: str, event_id: str) -> None:
        self.events.pop(event_id, None)


class NoDirectHris:
    """The HRIS as the outcome flow holds it: it must never call it itself (its dispatcher sends the task)."""

    def create_onboarding_task(self, *args: object, **kwargs: object) -> str:
        raise AssertionError("the HRIS was called outside the dispatcher")


class Scheduling:
    def __init__(self, world: World) -> None:
        self.world = world
        self.store = MemorySchedulingStore()
        self.calendar = FreeCalendar()
        self.settings = settings()
        self.changes = 0

    @property
    def deps(self) -> Deps:
        world = self.world
        return Deps(store=self.store, calendar=self.calendar, send=world._send, audit=self._audit,
                    submit_fact=self._submit_fact, secret=SECRET, base_url=BASE_URL, sender="noreply@soak.example",
                    settings=self.settings, hris=NoDirectHris(), clock=world.clock)

    def _audit(self, event: str, actor: str, subject: str, details: Mapping[str, Any]) -> int:
        return self.world.trail.record(event, actor, subject, details)

    def _submit_fact(self, system: str, record_id: str, action: Action, call: calls.Call, entered_by: str) -> str:
        self.world.fact_entries.append((dict(call), entered_by, f"{system}:{record_id}"))
        return facts.submit_fact(system, record_id, action, call, entered_by, self.world.fact_deps)

    def links_to(self, address: str) -> list[str]:
        """Every booking or manage link e-mailed to `address`, oldest first."""
        return [match.group(1) for message in self.world.outbox if message.to == address
                for match in LINK.finditer(message.text)]

    def violations(self) -> list[str]:
        """(s) one confirmed booking per slot (per interviewer and start) and per candidate and role."""
        problems = []
        confirmed = [b for b in self.store.bookings.values() if b.status == "confirmed"]
        seen_slots: dict[tuple[str, str], str] = {}
        seen_roles: dict[tuple[str, str], str] = {}
        for booking in confirmed:
            for person in booking.interviewers:
                other = seen_slots.setdefault((person, booking.start), booking.booking_id)
                if other != booking.booking_id:
                    problems.append(f"(s) {booking.booking_id} and {other} both hold {person} at {booking.start}")
            other = seen_roles.setdefault((booking.candidate_ref, booking.role_id), booking.booking_id)
            if other != booking.booking_id:
                problems.append(f"(s) {booking.booking_id} and {other} are both booked for one candidate and role")
        return problems
