"""Every typed error of the domain, in one place.

Handlers map them to HTTP answers through `foureyes.web.responses` (client faults 4xx, unavailable
dependencies 503, anything else 500 without text); the state machine matches them by name in its
`Retry`/`Catch`. Messages are safe to show: no PII, no secrets.
"""

from __future__ import annotations


class FoureyesError(Exception):
    """Base class: a known failure with a message that is safe to show (no PII, no secrets)."""


# -- the caller's fault (4xx) ------------------------------------------------------------------------


class BadRequest(FoureyesError):
    """The input is malformed or incomplete; the message names the field."""


class Unauthorized(FoureyesError):
    """A signature, token or link did not verify."""


class LinkExpired(Unauthorized):
    """A signed link was genuine but is past its expiry."""


class NotFound(FoureyesError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Conflict(FoureyesError):
    """The write lost a race or the state no longer allows it (already decided, already booked)."""


class SlotTaken(Conflict):
    """The slot (or one of its interviewers' time) was taken by someone else first."""


class AlreadyBooked(Conflict):
    """This candidate already has a booking for this request, or an onsite day for this role."""


class Forbidden(FoureyesError):
    """The caller is known but not allowed to do this (e.g. the reviewer approving their own review)."""


# -- dispatch refusing or failing ---------------------------------------------------------------------


class DispatchRefused(FoureyesError):
    """The dispatcher refused to fire: paused, capped, or missing approvals."""


class DailyCapReached(DispatchRefused):
    """Today's cap for this system is used up; the write waits (parked) for a later day."""


class DispatchInDoubt(DispatchRefused):
    """A previous attempt started sending and did not record its end: a human must check the ATS."""


class AtsWriteFailed(FoureyesError):
    """The ATS refused or broke the write: counted in the error rate that trips the kill switch."""


# -- a dependency or the set-up is not there (503: try again later) ------------------------------------


class Unavailable(FoureyesError):
    """Something this request depends on did not answer; the same request may succeed later."""


class AtsUnavailable(Unavailable):
    """The ATS did not answer; the write is parked and retried later."""


class CalendarUnavailable(Unavailable):
    """The calendar service kept failing or did not answer; nothing was booked on its word."""


class HrisUnavailable(Unavailable):
    """The HRIS kept failing or did not answer."""


class ConfigurationError(Unavailable):
    """A setting the template or an operator should provide is missing or malformed."""


class MatchConfigError(ConfigurationError, ValueError):
    """The matcher configuration (e.g. the SSM JSON parameter) is invalid; the message names the field."""


# -- a dependency refused (a bug on one side or the other: 500 to a caller) -----------------------------


class CalendarError(FoureyesError):
    """The calendar service refused a request (4xx other than auth/throttling); the message has no PII."""
