"""Pure scheduling rules: interview requests, slot generation, local rendering, load-balancing suggestions.

All instants are timezone-aware and computed in UTC; local time only appears when checking an
interviewer's working hours and when showing a slot to a candidate, both through `zoneinfo`, so the
Europe/Amsterdam daylight-saving changes (last Sunday of March and of October) and candidates in other
zones come out right without special cases. Candidate start times step through UTC quarter hours and
are kept when they fall on the step in the organiser's zone (every zone in use today is a whole
number of quarter hours from UTC).

No I/O here: callers hand in free/busy and working hours (from a `CalendarProvider`) and the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from foureyes.errors import BadRequest

QUANTUM_MINUTES = 15  # the grid of candidate start times and of interviewer time locks
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


class Mode(StrEnum):
    ONSITE = "onsite"
    REMOTE = "remote"


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; `BadRequest` for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest(f"unknown time zone {name!r}") from exc


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadRequest(f"{what} must carry a time zone")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Days (Monday = 0) and local hours an interviewer takes interviews, in their own zone."""

    tz: str = "Europe/Amsterdam"
    start: time = time(9)
    end: time = time(17)
    days: frozenset[int] = frozenset(range(5))

    def contains(self, start: datetime, end: datetime) -> bool:
        """[start, end) lies inside one working day (local date, weekday and hours); `end` 00:00 = midnight."""
        local = zone(self.tz)
        first, last = start.astimezone(local), end.astimezone(local)
        if first.weekday() not in self.days or first.time() < self.start:
            return False
        if last.date() == first.date():
            return last.time() <= self.end or self.end == time(0)
        return self.end == time(0) and last.time() == time(0) and last.date() == first.date() + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class InterviewerCalendar:
    """What the calendar says about one interviewer: busy intervals and working hours."""

    hours: WorkingHours = field(default_factory=WorkingHours)
    busy: tuple[Interval, ...] = ()

    def free(self, start: datetime, end: datetime, buffer: timedelta) -> bool:
        return self.hours.contains(start, end) and not any(b.overlaps(start - buffer, end + buffer)
                                                           for b in self.busy)


@dataclass(frozen=True, slots=True)
class InterviewRequest:
    """What a recruiter's stage change asks for: who meets whom, for how long, where, and when by.

    `panel` lists the interviewer ids who may sit on the interview; `panel_size` of them are needed
    (0: all of them). `candidate_ref` is `system:record_id`; no names or addresses live here.
    """

    request_id: str
    candidate_ref: str
    role_id: str
    panel: tuple[str, ...]
    duration_minutes: int
    mode: Mode
    window_start: datetime
    window_end: datetime
    candidate_tz: str = "Europe/Amsterdam"
    panel_size: int = 0
    stage: str = ""
    candidate_language: str = ""  # ISO 639-1 as the ATS says ('' unknown): the language of the candidate's e-mails

    def __post_init__(self) -> None:
        if ":" not in self.candidate_ref:
            raise BadRequest("candidate_ref must be system:record_id")
        if not self.role_id or not self.request_id:
            raise BadRequest("request_id and role_id are required")
        if not self.panel or len(set(self.panel)) != len(self.panel):
            raise BadRequest("the panel needs at least one interviewer, each once")
        if not 0 <= self.panel_size <= len(self.panel):
            raise BadRequest("panel_size must be between 0 and the panel's size")
        if not 5 <= self.duration_minutes <= 8 * 60:
            raise BadRequest("duration_minutes must be between 5 and 480")
        start = _aware(self.window_start, "window_start")
        end = _aware(self.window_end, "window_end")
        if end <= start:
            raise BadRequest("the booking window must end after it starts")
        zone(self.candidate_tz)
        object.__setattr__(self, "window_start", start)
        object.__setattr__(self, "window_end", end)
        object.__setattr__(self, "mode", Mode(self.mode))

    @property
    def system(self) -> str:
        return self.candidate_ref.split(":", 1)[0]

    @property
    def record_id(self) -> str:
        return self.candidate_ref.split(":", 1)[1]

    @property
    def needed(self) -> int:
        return self.panel_size or len(self.panel)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def guard_key(self) -> str:
        """The guard lock this request's booking takes (see `guard_key_for`)."""
        return guard_key_for(self.candidate_ref, self.role_id)


def guard_key_for(candidate_ref: str, role_id: str) -> str:
    """One confirmed booking per candidate and role, for every interview kind (onsite and remote alike)."""
    return f"guard#booking#{candidate_ref}#{role_id}"


def request_guard_key_for(candidate_ref: str, role_id: str) -> str:
    """One current (open or booked) interview request per candidate and role: a new one supersedes it."""
    return f"guard#request#{candidate_ref}#{role_id}"


@dataclass(frozen=True, slots=True)
class Rules:
    """Slot rules: start-time step, buffer around interviews, minimum notice, how many slots to offer."""

    step_minutes: int = 30
    buffer_minutes: int = 15
    min_notice_minutes: int = 24 * 60
    max_slots: int = 60
    align_tz: str = ""  # the organiser's zone for the step grid; default: the first interviewer's

    def __post_init__(self) -> None:
        if self.step_minutes <= 0 or self.step_minutes % QUANTUM_MINUTES:
            raise BadRequest(f"step_minutes must be a positive multiple of {QUANTUM_MINUTES}")
        if self.buffer_minutes < 0 or self.min_notice_minutes < 0 or self.max_slots < 1:
            raise BadRequest("buffer, notice and max_slots must not be negative")


@dataclass(frozen=True, slots=True)
class Slot:
    slot_id: str
    start: datetime
    end: datetime
    interviewers: tuple[str, ...]


def slot_id_for(start: datetime) -> str:
    return start.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def _ceil_quantum(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0) + (
        timedelta(minutes=1) if moment.second or moment.microsecond else timedelta(0))
    extra = (-moment.minute) % QUANTUM_MINUTES
    return moment + timedelta(minutes=extra)


def _on_step(moment: datetime, step_minutes: int, align: ZoneInfo) -> bool:
    local = moment.astimezone(align)
    return (local.hour * 60 + local.minute) % step_minutes == 0


def generate_slots(
    request: InterviewRequest, calendars: Mapping[str, InterviewerCalendar], now: datetime, rules: Rules = Rules(),
    load: Mapping[str, int] | None = None,
) -> list[Slot]:
    """Every start in the booking window where enough of the panel is free, in working hours, with buffers.

    An interviewer with no calendar entry is not available. When more of the panel is free than needed,
    the least-loaded are put on the slot (a suggestion the recruiter can change, never a decision).
    At most `rules.max_slots` slots, earliest first.
    """
    now = _aware(now, "now")
    load = load or {}
    buffer = timedelta(minutes=rules.buffer_minutes)
    align = zone(rules.align_tz or next((calendars[i].hours.tz for i in request.panel if i in calendars),
                                        request.candidate_tz))
    start = _ceil_quantum(max(request.window_start, now + timedelta(minutes=rules.min_notice_minutes)))
    order = {iv: n for n, iv in enumerate(request.panel)}
    out: list[Slot] = []
    while start + request.duration <= request.window_end and len(out) < rules.max_slots:
        end = start + request.duration
        if _on_step(start, rules.step_minutes, align):
            free = [iv for iv in request.panel if iv in calendars and calendars[iv].free(start, end, buffer)]
            if len(free) >= request.needed:
                chosen = sorted(free, key=lambda iv: (load.get(iv, 0), order[iv]))[:request.needed]
                out.append(Slot(slot_id_for(start), start, end, tuple(sorted(chosen, key=order.__getitem__))))
        start += timedelta(minutes=QUANTUM_MINUTES)
    return out


def lock_blocks(start: datetime, end: datetime, buffer_minutes: int) -> list[str]:
    """The quarter-hour blocks an interview occupies for its interviewers: [start, end + buffer), rounded out.

    Two bookings of one interviewer conflict exactly when they share a block, so a conditional write
    per block (see `locks`) rules out double booking across candidates, buffers included.
    """
    first = start.astimezone(UTC).replace(second=0, microsecond=0)
    first -= timedelta(minutes=first.minute % QUANTUM_MINUTES)
    last = _ceil_quantum(end + timedelta(minutes=buffer_minutes))
    blocks: list[str] = []
    while first < last:
        blocks.append(first.strftime("%Y-%m-%dT%H:%MZ"))
        first += timedelta(minutes=QUANTUM_MINUTES)
    return blocks


# -- showing slots in the candidate's zone --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocalSlot:
    slot_id: str
    local_date: date
    date_label: str  # "Friday 27 March 2026"
    time_label: str  # "09:00–10:00"
    zone_label: str  # "CET, UTC+01:00"
    start_local: datetime
    suggested: bool = False
    end_local: datetime | None = None


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def date_label(day: date) -> str:
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def localise(slot: Slot, tz: str, *, suggested: bool = False) -> LocalSlot:
    """`slot` as the candidate in `tz` sees it (names in English, independent of the process locale)."""
    local = zone(tz)
    first, last = slot.start.astimezone(local), slot.end.astimezone(local)
    label = f"{first:%H:%M}\u2013{last:%H:%M}"
    if last.date() != first.date():
        label += f" (ends {_WEEKDAYS[last.weekday()]})"
    return LocalSlot(slot.slot_id, first.date(), date_label(first.date()), label,
                     f"{first.tzname()}, {_offset(first)}", first, suggested, last)


def by_local_day(slots: Iterable[Slot], tz: str, suggested: Iterable[str] = ()) -> list[tuple[str, list[LocalSlot]]]:
    """Slots grouped under the candidate's local dates, in time order."""
    marks = set(suggested)
    days: dict[date, list[LocalSlot]] = {}
    for slot in sorted(slots, key=lambda s: s.start):
        shown = localise(slot, tz, suggested=slot.slot_id in marks)
        days.setdefault(shown.local_date, []).append(shown)
    return [(date_label(day), items) for day, items in days.items()]


# -- suggestions ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A ranked slot with the reason in plain words; it suggests, a person decides."""

    slot: Slot
    score: float
    reason: str


def rank_by_load(slots: Sequence[Slot], load: Mapping[str, int]) -> list[Suggestion]:
    """Slots whose interviewers have the fewest interviews first (ties: the busiest interviewer, then time).

    Only an ordering to show or highlight; it never removes a slot or books one.
    """
    def key(slot: Slot) -> tuple[int, int, datetime]:
        loads = [load.get(iv, 0) for iv in slot.interviewers]
        return sum(loads), max(loads, default=0), slot.start

    ranked: list[Suggestion] = []
    for slot in sorted(slots, key=key):
        total = sum(load.get(iv, 0) for iv in slot.interviewers)
        ranked.append(Suggestion(slot, float(total),
                                 f"its interviewers have {total} interview(s) booked already"))
    return ranked
