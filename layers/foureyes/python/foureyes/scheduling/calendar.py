"""Interviewer calendars: the `CalendarProvider` protocol and its Microsoft Graph implementation.

Graph (v1.0, application permissions `Calendars.ReadWrite`):
- token: `POST {login}/{tenant}/oauth2/v2.0/token` (client credentials, scope `https://graph.microsoft.com/.default`);
- free/busy: `POST /users/{organizer}/calendar/getSchedule` with the interviewers' addresses, times in
  UTC (`Prefer: outlook.timezone="UTC"`); tentative, busy, out-of-office and working-elsewhere items count
  as busy, and each schedule's `workingHours` gives the interviewer's days, hours and zone;
- holds: `POST /users/{id}/events` with `showAs: tentative` and a "[Hold]" subject, made idempotent by
  Graph's `transactionId`; confirm with `PATCH` (`showAs: busy`); remove with `DELETE` (404 = gone already).

`ConfiguredCalendar` is the provider the Lambdas use: Graph once its connection secret is filled in, and no
calendar until then (see `foureyes.integrations`).

Every request has a (connect, read) timeout; 429 and 503/504 are retried after `Retry-After` (or an
exponential back-off) through the injected `sleep` (within a deadline, see `foureyes.outbound`, only when the
retry still fits before it); a 401 fetches a new token once. Logs carry
interviewer ids and event ids, never addresses.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as dtime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from foureyes import integrations
from foureyes.errors import CalendarError, CalendarUnavailable, Unauthorized
from foureyes.integrations import Connection
from foureyes.outbound import DEFAULT_TIMEOUT, Clock, Sleep, http_session, pause, raise_if_out_of_time
from foureyes.scheduling.slots import Interval, InterviewerCalendar, WorkingHours

log = logging.getLogger(__name__)

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
BUSY_STATUSES = frozenset({"busy", "tentative", "oof", "workingElsewhere"})
RETRY_STATUSES = frozenset({429, 503, 504})
_DAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
# Graph reports Windows zone names unless the mailbox uses IANA ones; the ones this agency meets.
WINDOWS_ZONES = {
    "W. Europe Standard Time": "Europe/Amsterdam", "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest", "GMT Standard Time": "Europe/London",
    "Eastern Standard Time": "America/New_York", "Pacific Standard Time": "America/Los_Angeles",
    "India Standard Time": "Asia/Kolkata", "UTC": "UTC", "Coordinated Universal Time": "UTC",
}  # fmt: skip




class CalendarProvider(Protocol):
    """What scheduling needs from interviewers' calendars."""

    def availability(self, interviewers: Sequence[str], start: datetime,
                     end: datetime) -> dict[str, InterviewerCalendar]:
        """Busy intervals and working hours per interviewer id between `start` and `end`."""
        ...

    def create_hold(self, interviewer: str, start: datetime, end: datetime, subject: str, ref: str) -> str:
        """A tentative "[Hold]" event; returns its id ('' when there is no calendar to hold in: nothing was made).
        Idempotent per (`interviewer`, `ref`)."""
        ...

    def confirm(self, interviewer: str, event_id: str, subject: str) -> None:
        """Turn a hold into a confirmed (busy) event."""
        ...

    def delete(self, interviewer: str, event_id: str) -> None:
        """Remove an event; an event that is already gone is fine."""
        ...


def _graph_time(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def _parse_graph_time(value: Mapping[str, Any]) -> datetime:
    text = str(value["dateTime"])
    head, _, frac = text.partition(".")
    moment = datetime.fromisoformat(head + (f".{frac[:6]}" if frac else ""))
    zone_name = str(value.get("timeZone") or "UTC")
    tz = _zone(zone_name) or UTC
    return moment.replace(tzinfo=moment.tzinfo or tz).astimezone(UTC)


def _zone(name: str) -> ZoneInfo | None:
    name = WINDOWS_ZONES.get(name, name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _clock_time(text: str) -> dtime:
    head = text.split(".", 1)[0]
    return dtime.fromisoformat(head)


def working_hours(raw: Mapping[str, Any] | None, default: WorkingHours) -> WorkingHours:
    """Graph's `workingHours` as `WorkingHours` (the default when absent or in an unknown zone)."""
    if not raw:
        return default
    zone_name = str((raw.get("timeZone") or {}).get("name") or "")
    tz = _zone(zone_name)
    if tz is None:
        log.warning("unknown working-hours time zone; using the default")
        return default
    days = frozenset(_DAYS[d.lower()] for d in raw.get("daysOfWeek") or () if d.lower() in _DAYS)
    try:
        start, end = _clock_time(str(raw["startTime"])), _clock_time(str(raw["endTime"]))
    except (KeyError, ValueError):
        return default
    return WorkingHours(tz=str(tz.key), start=start, end=end, days=days or default.days)


@dataclass
class _Token:
    value: str = ""
    expires_at: float = 0.0


class GraphCalendar:
    """`CalendarProvider` over Microsoft Graph (requests; token from the client-credentials flow)."""

    def __init__(
        self, *, tenant_id: str, client_id: str, client_secret: str, organizer: str,
        graph_url: str = "https://graph.microsoft.com", login_url: str = "https://login.microsoftonline.com",
        users: Mapping[str, str] | None = None, default_hours: WorkingHours | None = None,
        session: requests.Session | None = None, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        sleep: Sleep = time.sleep, clock: Clock = time.time, max_attempts: int = 4,
    ) -> None:
        self.tenant_id, self.client_id, self._secret = tenant_id, client_id, client_secret
        self.organizer = organizer
        self.graph_url, self.login_url = graph_url.rstrip("/"), login_url.rstrip("/")
        self.users = dict(users or {})
        self.default_hours = default_hours or WorkingHours()
        self.session = session or http_session(statuses=(), methods=("GET", "DELETE", "PATCH"))
        self.timeout, self._sleep, self._clock, self.max_attempts = timeout, sleep, clock, max_attempts
        self._token = _Token()
        self._lock = threading.Lock()
        self.calls = 0  # requests sent to Graph (tokens excluded), for tests and metrics

    def _user(self, interviewer: str) -> str:
        """The Graph user (id or principal name) of an interviewer id."""
        return self.users.get(interviewer, interviewer)

    # -- auth ------------------------------------------------------------------------------------------
    def _bearer(self, *, renew: bool = False) -> str:
        with self._lock:
            if renew or not self._token.value or self._clock() >= self._token.expires_at - 60:
                url = f"{self.login_url}/{self.tenant_id}/oauth2/v2.0/token"
                try:
                    reply = self.session.post(url, data={
                        "grant_type": "client_credentials", "client_id": self.client_id,
                        "client_secret": self._secret, "scope": GRAPH_SCOPE}, timeout=self.timeout)
                except requests.RequestException as exc:
                    raise_if_out_of_time("the identity platform", exc)
                    raise CalendarUnavailable("the identity platform did not answer") from exc
                if reply.status_code != 200:
                    raise Unauthorized(f"the calendar token request failed ({reply.status_code})")
                body = reply.json()
                self._token = _Token(str(body["access_token"]), self._clock() + float(body.get("expires_in", 3599)))
            return self._token.value

    # -- plumbing ----------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                 ok: Sequence[int] = (200, 201, 204)) -> requests.Response:
        url = f"{self.graph_url}/v1.0{path}"
        renewed = False
        for attempt in range(self.max_attempts):
            headers = {"Authorization": f"Bearer {self._bearer()}", "Prefer": 'outlook.timezone="UTC"'}
            self.calls += 1
            try:
                reply = self.session.request(method, url, json=body, headers=headers, timeout=self.timeout)
            except requests.RequestException as exc:
                log.warning("calendar request failed to connect", extra={"method": method, "attempt": attempt})
                raise_if_out_of_time("the calendar service", exc)
                if attempt == self.max_attempts - 1:
                    raise CalendarUnavailable("the calendar service did not answer") from exc
                pause(min(2.0**attempt, 8.0), self._sleep, "the calendar service (no answer)")
                continue
            if reply.status_code in ok:
                return reply
            if reply.status_code == 401 and not renewed:
                renewed = True
                self._bearer(renew=True)
                continue
            if reply.status_code in RETRY_STATUSES and attempt < self.max_attempts - 1:
                pause(self._retry_after(reply, attempt), self._sleep, f"the calendar service ({reply.status_code})")
                continue
            if reply.status_code in RETRY_STATUSES or reply.status_code >= 500:
                raise CalendarUnavailable(f"the calendar service answered {reply.status_code}")
            if reply.status_code == 401:
                raise Unauthorized("the calendar service refused the token")
            code = ""
            try:
                code = str((reply.json().get("error") or {}).get("code", ""))
            except ValueError:
                pass
            raise CalendarError(f"the calendar service refused the request ({reply.status_code} {code})")
        raise CalendarUnavailable("the calendar service kept failing")

    @staticmethod
    def _retry_after(reply: requests.Response, attempt: int) -> float:
        try:
            return max(0.0, float(reply.headers.get("Retry-After", "")))
        except ValueError:
            return min(2.0**attempt, 30.0)

    # -- the provider ------------------------------------------------------------------------------------
    def availability(self, interviewers: Sequence[str], start: datetime,
                     end: datetime) -> dict[str, InterviewerCalendar]:
        users = {self._user(iv): iv for iv in interviewers}
        out: dict[str, InterviewerCalendar] = {}
        names = list(users)
        for first in range(0, len(names), 20):  # Graph answers at most 20 schedules per call
            chunk = names[first:first + 20]
            reply = self._request("POST", f"/users/{self.organizer}/calendar/getSchedule", {
                "schedules": chunk, "startTime": _graph_time(start), "endTime": _graph_time(end),
                "availabilityViewInterval": 15}, ok=(200,))
            for schedule in reply.json().get("value", []):
                interviewer = users.get(str(schedule.get("scheduleId")))
                if interviewer is None:
                    continue
                if schedule.get("error"):
                    log.warning("no free/busy for an interviewer", extra={"interviewer": interviewer})
                    continue
                busy = tuple(Interval(_parse_graph_time(item["start"]), _parse_graph_time(item["end"]))
                             for item in schedule.get("scheduleItems", [])
                             if str(item.get("status")) in BUSY_STATUSES)
                out[interviewer] = InterviewerCalendar(working_hours(schedule.get("workingHours"),
                                                                     self.default_hours), busy)
        return out

    def create_hold(self, interviewer: str, start: datetime, end: datetime, subject: str, ref: str) -> str:
        body = {"subject": subject if subject.startswith("[Hold]") else f"[Hold] {subject}",
                "body": {"contentType": "text", "content": f"Held by Foureyes while a candidate confirms ({ref})."},
                "start": _graph_time(start), "end": _graph_time(end), "showAs": "tentative",
                "isReminderOn": False, "responseRequested": False, "categories": ["Foureyes"],
                "transactionId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"foureyes:{interviewer}:{ref}"))}
        reply = self._request("POST", f"/users/{self._user(interviewer)}/events", body, ok=(200, 201))
        event_id = str(reply.json()["id"])
        log.info("calendar hold created", extra={"interviewer": interviewer, "event": event_id})
        return event_id

    def confirm(self, interviewer: str, event_id: str, subject: str) -> None:
        self._request("PATCH", f"/users/{self._user(interviewer)}/events/{event_id}",
                      {"subject": subject.removeprefix("[Hold] "), "showAs": "busy", "isReminderOn": True})

    def delete(self, interviewer: str, event_id: str) -> None:
        self._request("DELETE", f"/users/{self._user(interviewer)}/events/{event_id}", ok=(200, 204, 404))


GRAPH_SETTINGS = ("tenant_id", "client_id", "client_secret", "organizer", "graph_url", "login_url", "users")


def graph_calendar(settings: Mapping[str, Any]) -> GraphCalendar:
    """A `GraphCalendar` from the Graph connection secret (keys it does not take are ignored)."""
    return GraphCalendar(**{key: settings[key] for key in GRAPH_SETTINGS if key in settings})


def _read_graph() -> Connection:
    return integrations.read(integrations.GRAPH)


class ConfiguredCalendar:
    """`CalendarProvider` over Microsoft Graph once its connection is configured, and without a calendar until then.

    The connection is read on every use (`integrations.read`: cached for the parameters' max age), so a secret
    ops fill in is used without a cold start. While it is not configured (the template's placeholder, keys
    missing, not JSON): every interviewer counts as free within the default working hours (the slots come from
    the rules alone), no event is made, confirmed or removed, and the gap is reported (`integrations.report`:
    one warning and one `IntegrationUnconfigured` metric per invocation). Nothing candidate-facing says so.
    """

    def __init__(self, read: Callable[[], Connection] = _read_graph,
                 build: Callable[[Mapping[str, Any]], CalendarProvider] = graph_calendar,
                 report: Callable[[Connection], None] = integrations.report,
                 default_hours: WorkingHours | None = None) -> None:
        self._read, self._build, self._report = read, build, report
        self.default_hours = default_hours or WorkingHours()
        self._current: tuple[dict[str, Any], CalendarProvider] | None = None
        self._lock = threading.Lock()

    def _graph(self) -> CalendarProvider | None:
        """The Graph provider for the connection as it is now (built again only when it changed); None without."""
        connection = self._read()
        if connection.settings is None:
            self._report(connection)
            return None
        settings = dict(connection.settings)
        with self._lock:
            if self._current is None or self._current[0] != settings:
                self._current = (settings, self._build(settings))
            return self._current[1]

    def availability(self, interviewers: Sequence[str], start: datetime,
                     end: datetime) -> dict[str, InterviewerCalendar]:
        graph = self._graph()
        if graph is None:
            return {interviewer: InterviewerCalendar(self.default_hours) for interviewer in interviewers}
        return graph.availability(interviewers, start, end)

    def create_hold(self, interviewer: str, start: datetime, end: datetime, subject: str, ref: str) -> str:
        graph = self._graph()
        return "" if graph is None else graph.create_hold(interviewer, start, end, subject, ref)

    def confirm(self, interviewer: str, event_id: str, subject: str) -> None:
        graph = self._graph() if event_id else None
        if graph is not None:
            graph.confirm(interviewer, event_id, subject)

    def delete(self, interviewer: str, event_id: str) -> None:
        graph = self._graph() if event_id else None
        if graph is not None:
            graph.delete(interviewer, event_id)
