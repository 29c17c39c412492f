"""Every typed error of the domain, in one place.

Handlers map them to HTTP answers through `foureyes.web.responses` (client faults 4xx, unavailable
dependencies 503, anything else 500 without text); the state machine matches them by name in its
`Retry`/`Catch`. Messages are safe to show: no PII, no secrets.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext-noop marker, extracted by babel.cfg
    """Marks a message people read (an error's text) for the catalogs without translating it; the page that shows
    it translates it (`foureyes.web.i18n`)."""
    return message

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


# -- the review workflow -------------------------------------------------------------------------------


class TaskGone(FoureyesError):
    """A task token no longer has a waiting task: it timed out, was already completed, or its execution
    ended (Step Functions' TaskTimedOut, InvalidToken, TaskDoesNotExist). Sending again will not help."""


# -- dispatch refusing or failing ---------------------------------------------------------------------


class DispatchRefused(FoureyesError):
    """The dispatcher refused to fire: paused, capped, or missing approvals."""


class OnHold(DispatchRefused):
    """The proposal is held: the candidate contested how their data is handled, and a team lead decides first."""


class DailyCapReached(DispatchRefused):
    """Today's cap for this system is used up; the write waits (parked) for a later day."""


class DispatchInDoubt(DispatchRefused):
    """A previous attempt started sending and did not record its end: a human must check the ATS."""


class AtsWriteFailed(FoureyesError):
    """The ATS refused or broke the write: counted in the error rate that trips the kill switch.

    `attempts` is how many failed live attempts it stands for: 2 when it ends the resend of a write whose earlier
    attempt was killed mid-send (that attempt recorded nothing itself, so it is counted when it is settled).
    """

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class OutOfTime(FoureyesError):
    """The invocation's time ran out before an outbound call, or its retry, could finish (`foureyes.outbound`).

    What the interrupted call did is unknown, so it is not an `Unavailable` (which parks a write as not sent):
    the dispatcher settles the write as in doubt (or parks it for a resend when its idempotency key makes that
    harmless) and counts it as a failed attempt, while there is still time to record that.
    """


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


class IntegrationNotConfigured(ConfigurationError):
    """An integration's connection secret still holds the template's placeholder (or is incomplete, or not JSON):
    what needs it waits (an HRIS write is parked) or goes without (scheduling without the calendar). `integration`
    names it; `why` says what is missing (key names only, never a value)."""

    def __init__(self, integration: str, why: str) -> None:
        super().__init__(f"the {integration} connection is not configured yet: {why}")
        self.integration, self.why = integration, why


class MatchConfigError(ConfigurationError, ValueError):
    """The matcher configuration (e.g. the SSM JSON parameter) is invalid; the message names the field."""


class StatusConfigError(MatchConfigError):
    """The status reconciliation configuration is invalid (or would propose a status the system never proposes);
    the message names the field."""


# -- a dependency refused (a bug on one side or the other: 500 to a caller) -----------------------------


class CalendarError(FoureyesError):
    """The calendar service refused a request (4xx other than auth/throttling); the message has no PII."""


# -- an ATS refusing or failing (one set for every ATS; `system` names which) -----------------------------


class AtsError(FoureyesError):
    """An ATS answered with an error that none of the classes below describes (a server-side error).

    `system` names the ATS; `code` is the ATS's own error code (or the HTTP status) when it gave one.
    The ATS's own message is never copied into ours: it may hold candidate data.
    """

    def __init__(self, message: str, *, system: str, code: int | None = None) -> None:
        super().__init__(message)
        self.system, self.code = system, code


class UnknownSystem(AtsError, NotFound, ValueError):
    """No ATS adapter is registered under this name."""

    def __init__(self, system: str) -> None:
        super().__init__(f"unknown system {system!r}", system=system)


class AtsRejected(AtsError, BadRequest):
    """The ATS refused the request as malformed or invalid (a validation error, an unknown method)."""


class AtsRecordNotFound(AtsError, NotFound):
    """The ATS has no such record."""


class AtsAuthFailed(AtsError, ConfigurationError):
    """The ATS refused our credentials (API key, OAuth grant, login, session), even after logging in again.

    A server-side problem for an operator (the connection settings), never the HTTP caller's: not an
    `Unauthorized`. Nor is it an `AtsUnavailable`: a write that meets it fails, it is not parked.
    """


class AtsDown(AtsError, AtsUnavailable):
    """The ATS did not answer, or kept answering 429/5xx or "service unavailable" through the client's retries."""


class AtsRateLimited(AtsError, AtsUnavailable):
    """The ATS kept refusing for rate even after waiting."""


class AtsSessionCapReached(AtsError, AtsUnavailable):
    """The tenant's cap on concurrent ATS sessions is reached: other sessions must expire first."""
