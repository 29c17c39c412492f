"""What the scheduling flows depend on (`Deps`), each by a protocol, and the real dependencies as the
Lambdas build them: `default_deps` from the function's environment, `deps()` once per cold start.

Unit tests hand in fakes; ATS writes (a cancellation note, an outcome's status) go to `submit_fact`, which
the real dependencies connect to the proposals/dispatch path (kill switch, shadow mode and audit apply there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

from foureyes.ats import calls
from foureyes.mail import Email
from foureyes.model import Action
from foureyes.scheduling.calendar import CalendarProvider
from foureyes.scheduling.hris import Hris
from foureyes.scheduling.repository import SchedulingRepository
from foureyes.scheduling.settings import Settings


class SubmitFact(Protocol):
    """Hands a people-entered fact to the proposals/dispatch path of `system` (wired by the caller)."""

    def __call__(self, system: str, record_id: str, action: Action | str, call: calls.Call, entered_by: str) -> Any: ...


AuditFn = Callable[[str, str, str, Mapping[str, Any]], Any]
Notify = Callable[[str, Mapping[str, Any]], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _no_notify(kind: str, detail: Mapping[str, Any]) -> None:
    return None


@dataclass(frozen=True)
class Deps:
    store: SchedulingRepository
    calendar: CalendarProvider
    send: Callable[[Email], Any]
    audit: AuditFn
    submit_fact: SubmitFact
    secret: bytes
    base_url: str
    sender: str
    settings: Settings
    hris: Hris | None = None
    notify: Notify = _no_notify  # pipeline events (e.g. EventBridge): kind, ids-only detail
    clock: Callable[[], datetime] = _utcnow
    contest_ttl_seconds: int = 0  # how long the link to contest data handling in every candidate e-mail lasts


def default_deps(submit_fact: SubmitFact, notify: Notify | None = None) -> Deps:
    """The real dependencies, from the function's environment (read now, once per cold start by the caller)."""
    from foureyes import audit, mail
    from foureyes.privacy.records import Codec
    from foureyes.scheduling import locks
    from foureyes.scheduling.calendar import ConfiguredCalendar
    from foureyes.scheduling.hris import ConnectedHris
    from foureyes.settings import secret_bytes, settings, ssm_json
    from foureyes.store.scheduling import SchedulingStore

    config = settings()
    # Graph and the HRIS are read when used, not here: until ops fill in their secrets (the template's
    # placeholders), scheduling goes without the calendar and onboarding tasks wait parked (`foureyes.integrations`).
    hris = ConnectedHris() if config.hris_connection_secret_id else None
    sender = config.sender_email
    store = SchedulingStore(locks, codec=Codec())  # the candidate's address and interviewers' notes are sealed
    return Deps(store=store, calendar=ConfiguredCalendar(), send=lambda m: mail.send(m, sender),
                audit=audit.record, submit_fact=submit_fact, secret=secret_bytes(config.link_secret_arn),
                base_url=config.public_base_url, sender=sender,
                settings=Settings.from_dict(ssm_json(config.scheduling_config_parameter)), hris=hris,
                notify=notify or _no_notify, contest_ttl_seconds=config.contest_link_ttl_seconds)


@cache
def deps() -> Deps:
    """The real dependencies, once per cold start; ATS writes go through the dispatch path."""
    from foureyes.dispatch.facts import submit_fact

    return default_deps(submit_fact)
