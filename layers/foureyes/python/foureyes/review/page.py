"""The review page a recruiter opens from an e-mailed link or their queue, and the page after deciding
(`templates/review/`, Dutch and English; accessible, no JavaScript, no task tokens, no exception text).

The page says the change as a sentence, shows the two records side by side with what matched and why two
spellings are one value (`review.explain`), and offers the reasons that fit each decision under that decision.
Blind as before: neither the matcher's confidence nor another stage's decision shows before this person decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from babel.dates import format_timedelta

from foureyes.model import Decision
from foureyes.review import explain
from foureyes.review.decide import ERASE_ACTION, MAX_NOTE_LENGTH, NOTE_REQUIRED, REASON_CODES, ReviewView, reasons_for
from foureyes.review.inbox import OpenReview
from foureyes.review.people import Person
from foureyes.web.i18n import N_, Language
from foureyes.web.templating import render_page

STAGE_TITLES: Mapping[str, str] = {"review": N_("Review"), "approve": N_("Second approval"),
                                   "tiebreak": N_("Tie-break")}
DECISION_NAMES: Mapping[str, str] = {"approve": N_("approved"), "reject": N_("rejected")}
DECIDED_TEXTS: Mapping[str, str] = {
    "pending_approval": N_("Thank you. The proposal now goes to a second, different person for approval."),
    "pending_tiebreak": N_("Thank you. You and the first reviewer disagree, so a team lead will decide."),
    "approved": N_("Thank you. The proposal is approved by two people and goes to the dispatcher."),
    "rejected": N_("Thank you. The proposal is rejected; nothing will be written to the ATS."),
}
RECORDED = N_("Thank you. Your decision is recorded.")
ROLLBACK_TITLE = N_("Rollback proposed")
ROLLBACK_TEXT = N_("Your rollback proposal is on its way to a reviewer and an approver who did not approve the "
                   "original; the ATS is changed only once they both approve.")
EMAIL_NEEDED = N_("Enter your work e-mail address, such as name@agency.nl.")
MAX_EMAIL_LENGTH = 254
REQUEST_PATH = "../reviews"  # from /review/<link> and /reviews/<link> alike (and under an API stage's prefix)


@dataclass(frozen=True, slots=True)
class Chosen:
    """What a refused POST asked for, so the page shows it again with the message."""

    decision: str = ""
    reason: str = ""
    note: str = ""


def _language(language: Language | None) -> Language:
    return language or Language.of()


def review_page(view: ReviewView, language: Language | None = None, *, notice: str = "",
                chosen: Chosen | None = None, queue_url: str = "") -> str:
    lang = _language(language)
    item = view.proposal
    erasure = item.action == ERASE_ACTION
    reasons = {d.value: [(code, lang.gettext(REASON_CODES[code])) for code in reasons_for(d, item.action)]
               for d in (Decision.APPROVE, Decision.REJECT)}
    stage_title = lang.gettext(STAGE_TITLES[view.stage.value])
    return render_page(
        "review/page.html", lang, title=stage_title, narrow=False, view=view, stage_title=stage_title,
        change=explain.change_of(item).render(lang.gettext), comparison=explain.compare(view.records),
        reasons=reasons, note_required=NOTE_REQUIRED, max_note=MAX_NOTE_LENGTH, erasure=erasure, notice=notice,
        chosen=chosen or Chosen(), queue_url=queue_url,
        stage_names={k: lang.gettext(v) for k, v in STAGE_TITLES.items()},
        decision_names={k: lang.gettext(v) for k, v in DECISION_NAMES.items()},
        reason_names={k: lang.gettext(v) for k, v in REASON_CODES.items()},
        rollback_possible=(view.decided and item.status == "executed" and not item.rollback_of and not erasure))


def decided_page(status: str, confidence: float, language: Language | None = None, *, next_url: str = "",
                 queue_url: str = "", left: int = 0) -> str:
    lang = _language(language)
    return render_page("review/decided.html", lang, title=lang.gettext("Decision recorded"),
                       text=lang.gettext(DECIDED_TEXTS.get(status, RECORDED)), confidence=confidence,
                       next_url=next_url, queue_url=queue_url, left=left)


# What a refused decision tells the person (the decision module's messages name the field; these say how to fix).
_REFUSALS: tuple[tuple[str, str], ...] = (
    ("choose a reason", N_("Choose a reason under the decision you make.")),
    ("the reason", N_("That reason does not fit your decision; choose one of the reasons under it.")),
    ("the note is longer", N_("The note is too long: at most 500 characters.")),
    ("the reason 'other' needs", N_("You chose “Other”: write a short note that explains your decision.")),
    ("decision must be", N_("Choose Approve or Reject.")),
)
REFUSED = N_("Your decision could not be recorded; please check the form.")


def refusal(error: Exception) -> str:
    """The msgid that tells the person how to fix a refused decision (never the exception's own text)."""
    message = str(error)
    for start, text in sorted(_REFUSALS, key=lambda pair: -len(pair[0])):
        if message.startswith(start):
            return text
    return REFUSED


def queue_page(person: Person, reviews: list[OpenReview], language: Language | None = None,
               now: datetime | None = None) -> str:
    """"My open reviews": oldest first, each with its stage and how long it has waited."""
    lang = _language(language)
    moment = now or datetime.now(UTC)
    ages = [format_timedelta(moment - review.proposed_at, threshold=1.5, locale=lang.code) for review in reviews]
    changes = [review.change(lang.gettext) for review in reviews]
    return render_page("review/queue.html", lang, title=lang.gettext("My open reviews"), person=person,
                       reviews=reviews, ages=ages, changes=changes,
                       stage_names={k: lang.gettext(v) for k, v in STAGE_TITLES.items()})


def request_page(language: Language | None = None, *, sent: bool = False, notice: str = "") -> str:
    """Ask for one's queue link; `sent`: the answer (the same whoever asked)."""
    lang = _language(language)
    return render_page("review/request.html", lang, title=lang.gettext("Get my review link"), sent=sent,
                       notice=notice)


def expired_page(language: Language | None = None) -> str:
    """A review or queue link past its time: a way to get a fresh link (the request page)."""
    lang = _language(language)
    return render_page("review/expired.html", lang, title=lang.gettext("This link has expired"),
                       request_url=REQUEST_PATH)
