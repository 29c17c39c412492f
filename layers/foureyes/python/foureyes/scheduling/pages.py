"""Server-rendered scheduling pages: booking, hold, confirmation, cancellation, feedback; and the endpoints
that map a request (method, token, form) to a response, so the Lambda handlers stay thin.

Accessible and mobile friendly without JavaScript: radio buttons in fieldsets with legends, labels on every
control, large tap targets, POST forms. A GET never changes anything (mail scanners open links first).
Everything shown is escaped; errors are answered by the web room's mapping (a plain message and a 4xx, or
503 for an unavailable dependency), never a stack trace or a token. Pages use the web room's shell and headers.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib.resources import files
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from foureyes.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    FoureyesError,
    LinkExpired,
    NotFound,
    Unauthorized,
)
from foureyes.scheduling import booking, cancellation, ics
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.invites import brand_of
from foureyes.scheduling.links import genuine_claims
from foureyes.scheduling.settings import RoleAbout
from foureyes.scheduling.slots import LocalSlot, Slot
from foureyes.scheduling.views import BookingView, PageKind, waking
from foureyes.web.i18n import N_, Language
from foureyes.web.responses import reply_for
from foureyes.web.shell import HTML, SECURITY_HEADERS, message_page
from foureyes.web.shell import page as shell_page
from foureyes.web.templating import render_page


def page(title: str, body: str) -> str:
    """A scheduling page: the web shell, narrow for phones."""
    return shell_page(title, body, narrow=True)


# Time zones offered in the switch besides the candidate's own and their browser's (no JavaScript needed).
COMMON_ZONES = ("Europe/Amsterdam", "Europe/London", "Europe/Lisbon", "Europe/Istanbul", "Africa/Casablanca",
                "Africa/Lagos", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney",
                "America/Sao_Paulo", "America/New_York", "America/Chicago", "America/Los_Angeles", "UTC")
DETECT_SCRIPT = (files("foureyes.web") / "templates" / "booking" / "detect_tz.js").read_text(encoding="utf-8")
DETECT_HASH = base64.b64encode(hashlib.sha256(DETECT_SCRIPT.encode("utf-8")).digest()).decode("ascii")


def display_zone(query: Mapping[str, str], view_tz: str) -> str:
    """The zone the candidate asked for (`?tz=`, checked), else the one their record has."""
    asked = query.get("tz", "")
    if not asked:
        return view_tz
    if len(asked) > 64:
        raise BadRequest(N_("tz: not a time zone"))
    try:
        return ZoneInfo(asked).key
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest(f"tz: {asked[:64]} is not a time zone") from exc


def _days(view: BookingView, tz: str) -> list[tuple[date, list[tuple[Slot, bool]]]]:
    """The open slots grouped by day in `tz`; "suggested" only inside the waking hours of `tz`."""
    marked = {s.slot_id for _, day in view.days for s in day if s.suggested}
    days: dict[date, list[tuple[Slot, bool]]] = {}
    for slot in sorted(view.slots, key=lambda s: s.start):
        day = slot.start.astimezone(ZoneInfo(tz)).date()
        days.setdefault(day, []).append((slot, slot.slot_id in marked and waking(slot, tz)))
    return list(days.items())


def _moment(slot: LocalSlot | None) -> Slot | None:
    return Slot(slot.slot_id, slot.start_local, slot.end_local or slot.start_local, ()) if slot else None


_TITLES = {PageKind.CHOOSE: N_("Choose an interview time"), PageKind.HELD: N_("Confirm your interview"),
           PageKind.BOOKED: N_("Your interview"), PageKind.STARTED: N_("Your interview"),
           PageKind.CANCELLED: N_("Interview cancelled"), PageKind.SUPERSEDED: N_("Link replaced"),
           PageKind.CLOSED: N_("Interview scheduling closed")}


def booking_page(view: BookingView, language: Language | None = None, tz: str = "", *, detect: bool = False) -> str:
    """Every state of the candidate's booking page (`templates/booking/page.html`), in `tz` (default: the view's)."""
    chosen = language or Language.of()
    shown = tz or view.tz
    zones = tuple(dict.fromkeys((shown, view.tz, *COMMON_ZONES)))
    return render_page("booking/page.html", chosen, title=chosen.gettext(_TITLES[view.kind]),
                       brand=brand_of(view.about), tz=shown, view=view, about=view.about, zones=zones,
                       days=_days(view, shown), when=_moment(view.booked or view.held), manage_url=view.manage_url,
                       ics_url=view.ics_url, detect=detect and view.kind in (PageKind.CHOOSE, PageKind.BOOKED),
                       detect_script=DETECT_SCRIPT)


def page_headers(language: Language) -> dict[str, str]:
    """A booking page's headers: the security headers, its script's hash allowed, its language."""
    csp = SECURITY_HEADERS["Content-Security-Policy"].replace("default-src 'none';",
                                                              f"default-src 'none'; script-src 'sha256-{DETECT_HASH}';")
    return {**SECURITY_HEADERS, "Content-Security-Policy": csp, **language.headers}


# What candidates and interviewers are told, in their words; other errors get the web room's wording.
TEXTS: Mapping[type[FoureyesError], tuple[str, str]] = {
    LinkExpired: (N_("This link has expired"), N_("Please ask your recruiter for a new link.")),
    Unauthorized: (N_("This link is not valid"), N_("The link may be incomplete. Please open it again from the "
                                                    "e-mail, or ask your recruiter for a new one.")),
    Forbidden: (N_("Not available to you"), N_("This page is not available with this link.")),
    NotFound: (N_("Not found"), N_("We could not find this interview. It may have been withdrawn.")),
}


def error_page(error: FoureyesError, language: Language | None = None, about: RoleAbout | None = None) -> Response:
    """The web room's answer to a typed error (4xx with a reason, 503 with Retry-After): the shared message page
    (`templates/message.html`) in the reader's language, branded with the role's company and recruiter when the
    link says which role it is about."""
    reply = reply_for(error, TEXTS)
    chosen = language or Language.of()
    body = message_page(reply.title, reply.text, role="alert", language=chosen, brand=brand_of(about))
    return Response(reply.status, body, HTML, {**SECURITY_HEADERS, **chosen.headers, **reply.headers})


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: str | bytes
    content_type: str = HTML
    headers: Mapping[str, str] = field(default_factory=lambda: dict(SECURITY_HEADERS))


def _redirect(location: str) -> Response:
    return Response(303, "", HTML, {**SECURITY_HEADERS, "Location": location})


def booking_endpoint(method: str, token: str, form: Mapping[str, str], query: Mapping[str, str],
                     deps: Deps, language: Language | None = None) -> Response:
    """`GET|POST /book/{token}`: the whole booking page behaviour, in the reader's language and time zone."""
    chosen = language or Language.of()
    headers = page_headers(chosen)
    try:
        if method.upper() == "GET":
            if query.get("format") == "ics":
                # As text, not bytes: the resolver base64-encodes a bytes body, and API Gateway hands that to the
                # candidate as base64 text unless the API declares text/calendar a binary media type. The
                # invitation is UTF-8 text/calendar, so it needs no binary media type at all.
                data = booking.ics_download(token, deps)
                return Response(200, data.decode("utf-8"),
                                ics.content_type("REQUEST" if b"METHOD:REQUEST" in data else "CANCEL"),
                                {**SECURITY_HEADERS, "Content-Disposition": "attachment; filename=\"interview.ics\""})
            view = booking.view(token, deps)
            return Response(200, booking_page(view, chosen, display_zone(query, view.tz), detect=True), HTML, headers)
        if method.upper() != "POST":
            raise BadRequest("use GET or POST")
        action = form.get("action", "")
        if action == "hold":
            view = booking.hold(token, _slot(form), deps)
            return Response(200, booking_page(view, chosen, display_zone(query, view.tz)), HTML, headers)
        if action == "confirm":
            done = booking.confirm(token, _slot(form), deps, chosen.code)
            return _redirect(_with_zone(done.manage_url, query))
        if action == "cancel":
            if form.get("sure") != "yes":
                raise BadRequest(N_("tick the box to confirm that you want to cancel"))
            cancellation.cancel_by_candidate(token, deps, chosen.code)
            return _redirect(_with_zone(f"{deps.base_url}/book/{token}", query))
        raise BadRequest("unknown action")
    except Conflict as exc:  # a time taken, an interview started, a link replaced: the page as it is now, and why
        try:
            view = booking.view(token, deps, notice=chosen.gettext(str(exc)))
            return Response(409, booking_page(view, chosen, display_zone(query, view.tz)), HTML, headers)
        except FoureyesError as again:
            return error_page(again, chosen, _about_of_link(deps, token))
    except FoureyesError as exc:
        return error_page(exc, chosen, _about_of_link(deps, token))


def _with_zone(url: str, query: Mapping[str, str]) -> str:
    """`url` with the reader's chosen time zone kept (after a redirect the page shows the same zone)."""
    tz = query.get("tz", "")
    return f"{url}?{urlencode({'tz': tz})}" if tz and len(tz) <= 64 else url


def _about_of_link(deps: Deps, token: str) -> RoleAbout | None:
    """The role a genuine link (even an expired one) is about, so an error page names the company and whom to
    contact; None for a forged or malformed link, or when it cannot be found."""
    claims = genuine_claims(deps, token)
    if not claims:
        return None
    try:
        if claims.get("r"):
            return deps.settings.about(deps.store.get_request(str(claims["r"])).role_id)
        if claims.get("b"):
            return deps.settings.about(deps.store.get_booking(str(claims["b"])).role_id)
    except FoureyesError:
        return None
    return None


def candidate_language(deps: Deps, token: str) -> str | None:
    """The language the ATS says the candidate of a genuine booking link reads (stored with their interview
    request), for `Language.from_event(..., known=)`: after the reader's own choice, before their browser's.
    None for a forged link, an unknown language, or a request that cannot be found."""
    claims = genuine_claims(deps, token)
    if not claims:
        return None
    try:
        request_id = str(claims.get("r") or "")
        if not request_id and claims.get("b"):
            request_id = str(deps.store.get_booking(str(claims["b"])).request_id)
        return (deps.store.get_request(request_id).candidate_language or None) if request_id else None
    except FoureyesError:
        return None


def _slot(form: Mapping[str, str]) -> str:
    slot = form.get("slot", "")
    if not slot or len(slot) > 32:
        raise BadRequest(N_("choose a time"))
    return slot
