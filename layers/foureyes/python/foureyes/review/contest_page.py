"""The contest pages: the candidate's form (GET shows, POST with the page's nonce opens or joins a contest) and
the team lead's page behind their review link (uphold or dismiss). No JavaScript, everything escaped; the
candidate's pages come from templates (`templates/contest/`, Dutch and English), phone-first."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from aws_lambda_powertools import Logger

from foureyes.errors import FoureyesError
from foureyes.review import contest
from foureyes.review.contest import (
    CHOICES,
    DISMISS,
    MAX_TEXT_LENGTH,
    REASON_CODES,
    REASONS_FOR,
    TEXT_REQUIRED,
    UPHOLD,
    ContestForm,
    ContestView,
    Decided,
    Submitted,
)
from foureyes.review.decide import MAX_NOTE_LENGTH
from foureyes.store.candidates import CandidateRecords, DynamoCandidateRecords
from foureyes.web.i18n import N_, Language
from foureyes.web.shell import message_page
from foureyes.web.templating import render_page

logger = Logger(child=True)


def candidate_language(token: str, records: CandidateRecords | None = None,
                       deps: contest.Deps | None = None) -> str | None:
    """The language the ATS says the candidate of a genuine, unexpired contest link reads (kept plain with their
    record), for `Language.from_event(..., known=)`; None when the link is not one or the ATS does not say."""
    try:
        ref = contest.candidate_ref(token, deps or contest.default_deps())
    except FoureyesError:
        return None
    item = (records if records is not None else DynamoCandidateRecords()).get(ref)
    return (item.language or None) if item is not None else None


def endpoint(method: str, token: str, fields: Mapping[str, str], language: Language | None = None) -> str:
    """`GET|POST /contest/{token}`: GET shows the form (and changes nothing); POST opens or joins a contest."""
    if method.upper() == "GET":
        return form_page(contest.form(token), language)
    done = contest.submit(token, fields.get("choice", ""), fields.get("text", ""), fields.get("nonce", ""))
    logger.info("contest received", extra={"proposal_id": done.contest_id, "joined": done.joined})
    return submitted_page(done, contest.default_deps().contact, language)


def form_page(shown: ContestForm, language: Language | None = None, notice: str = "") -> str:
    """The candidate's form (what the GET of their link shows), from `templates/contest/form.html`."""
    chosen = language or Language.of()
    return render_page("contest/form.html", chosen, title=chosen.gettext("Your data and Foureyes"), shown=shown,
                       choices=CHOICES, text_required=TEXT_REQUIRED, max_text=MAX_TEXT_LENGTH, notice=notice)


def submitted_page(done: Submitted, contact: str, language: Language | None = None) -> str:
    """What the candidate sees after sending: what happens next, and whom to contact (no e-mail follows)."""
    chosen = language or Language.of()
    return render_page("contest/submitted.html", chosen, title=chosen.gettext("Objection received"), done=done,
                       contact=contact)


def team_lead_page(shown: ContestView, language: Language | None = None) -> str:
    """The team lead's page (`templates/contest/team_lead.html`): what the candidate said, what is on hold (each
    as a sentence), and the decision, with the reasons that fit each decision under it."""
    from foureyes.review.explain import change_of

    chosen = language or Language.of()
    item = shown.contest
    statements = [(chosen.gettext(CHOICES.get(str(s.get("choice")), str(s.get("choice")))), _moment(s.get("at")),
                   str(s.get("text", ""))) for s in item.contest_statements or []]
    held = [(p.proposal_id, change_of(p).render(chosen.gettext), p.status.replace("_", " ")) for p in shown.held]
    reasons = {d: [(code, chosen.gettext(REASON_CODES[code])) for code in REASONS_FOR[d]] for d in (UPHOLD, DISMISS)}
    return render_page("contest/team_lead.html", chosen, title=chosen.gettext("Contest"), narrow=False, shown=shown,
                       ref=item.refs[0] if item.refs else "", received=_moment(item.proposed_at),
                       statements=statements, held=held, reasons=reasons, max_note=MAX_NOTE_LENGTH, notice="")


def _moment(value: object) -> datetime | str:
    """A stored ISO instant as a datetime (the page formats it in the reader's zone and language); as it was when
    it is not one."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value or "")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


UPHELD = N_("The contest is upheld. The proposals about this candidate that were on hold are withdrawn and will "
            "never be written to any ATS.")
DISMISSED = N_("The contest is dismissed. The proposals that were on hold are no longer on hold; their reviews go on.")


def decided_page(done: Decided, language: Language | None = None) -> str:
    chosen = language or Language.of()
    text = UPHELD if done.status.value == "upheld" else DISMISSED
    return message_page(N_("Decision recorded"), text, language=chosen)
