"""Typed errors. Handlers map them to HTTP codes; the state machine matches them by name."""

from __future__ import annotations


class FoureyesError(Exception):
    """Base class: a known failure with a message that is safe to show (no PII, no secrets)."""


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


class Forbidden(FoureyesError):
    """The caller is known but not allowed to do this (e.g. the reviewer approving their own review)."""


class DispatchRefused(FoureyesError):
    """The dispatcher refused to fire: paused, capped, or missing approvals."""


class AtsUnavailable(FoureyesError):
    """The ATS did not answer; the write is parked and retried later."""
