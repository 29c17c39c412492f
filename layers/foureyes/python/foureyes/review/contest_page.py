"""The contest pages: the candidate's form (GET shows, POST with the page's nonce opens or joins a contest) and
the team lead's page behind their review link (uphold or dismiss). No JavaScript, everything escaped; the
candidate's pages come from templates (`templates/contest/`, Dutch and English), phone-first."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from aws_lambda_powertools import Logger

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
from foureyes.web.i18n import Language
from foureyes.web.shell import page
from foureyes.web.templating import render_page

logger = Logger(child=True)


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


def _reason_options() -> str:
    groups = {UPHOLD: "Reasons to uphold", DISMISS: "Reasons to dismiss"}
    either = set(REASONS_FOR[UPHOLD]) & set(REASONS_FOR[DISMISS])
    grouped = "".join(
        f"<optgroup label=\"{escape(label)}\">" + "".join(
            f"<option value=\"{code}\">{escape(REASON_CODES[code])}</option>"
            for code in REASONS_FOR[decision] if code not in either) + "</optgroup>"
        for decision, label in groups.items())
    return grouped + "".join(f"<option value=\"{code}\">{escape(REASON_CODES[code])}</option>"
                             for code in REASON_CODES if code in either)


def team_lead_page(shown: ContestView) -> str:
    """The team lead's page: what the candidate said, what is on hold, and the decision."""
    item = shown.contest
    ref = item.refs[0] if item.refs else ""
    statements = "".join(
        f"<li><strong>{escape(CHOICES.get(str(s.get('choice')), str(s.get('choice'))))}</strong> "
        f"({escape(str(s.get('at', '')))})<blockquote>{escape(str(s.get('text', ''))) or '&mdash;'}</blockquote></li>"
        for s in item.contest_statements or [])
    held = "".join(f"<tr><td><code>{escape(p.proposal_id)}</code></td><td>{escape(p.action.replace('_', ' '))}</td>"
                   f"<td>{escape(p.system)}</td><td>{escape(p.status.replace('_', ' '))}</td></tr>" for p in shown.held)
    table = (f"<table><thead><tr><th scope=\"col\">Proposal</th><th scope=\"col\">Action</th><th scope=\"col\">"
             f"System</th><th scope=\"col\">Status</th></tr></thead><tbody>{held}</tbody></table>"
             if held else "<p>No open proposal about this record is on hold.</p>")
    body = ["<h1>Contest: a candidate objects to how their data is handled</h1>",
            f"<p>Contest <code>{escape(item.proposal_id)}</code> about record <code>{escape(ref)}</code>, "
            f"received {escape(item.proposed_at)}. You are signed in by your personal link as "
            f"<strong>{escape(shown.person)}</strong>. Only a team lead decides a contest.</p>",
            f"<h2>What the candidate said</h2><ul>{statements}</ul>",
            f"<h2>On hold until you decide</h2>{table}",
            "<p class=\"note\">Uphold: the proposals on hold are withdrawn (closed, never written to any ATS). "
            "Dismiss: the holds are lifted and their reviews go on. Either way the candidate is not e-mailed; "
            "correct their records in the ATS yourself where needed.</p>"]
    if shown.decided:
        body.append(f"<p class=\"note\" role=\"status\">This contest is decided: <strong>{escape(item.status)}"
                    "</strong>. Nothing more to do.</p>")
    else:
        body.append(
            "<form method=\"post\"><fieldset><legend>Your decision</legend>"
            "<input type=\"hidden\" name=\"action\" value=\"contest\">"
            f"<input type=\"hidden\" name=\"nonce\" value=\"{escape(shown.nonce)}\">"
            "<p><label for=\"reason\">Reason (required)</label><br><select id=\"reason\" name=\"reason\" required>"
            f"<option value=\"\">Choose a reason</option>{_reason_options()}</select></p>"
            "<p><label for=\"note\">Note (required for &ldquo;Other&rdquo;)</label><br>"
            f"<textarea id=\"note\" name=\"note\" maxlength=\"{MAX_NOTE_LENGTH}\" rows=\"3\" cols=\"60\">"
            "</textarea></p>"
            f"<button type=\"submit\" name=\"decision\" value=\"{UPHOLD}\">Uphold</button>"
            f"<button type=\"submit\" name=\"decision\" value=\"{DISMISS}\">Dismiss</button></fieldset></form>")
    return page("Foureyes contest", "".join(body))


def decided_page(done: Decided) -> str:
    if done.status.value == "upheld":
        text = (f"The contest is upheld. {len(done.withdrawn)} proposal(s) about this candidate are withdrawn and "
                "will never be written to any ATS.")
    else:
        text = f"The contest is dismissed. {len(done.released)} proposal(s) are no longer on hold; their reviews go on."
    return page("Decision recorded", f"<h1>Decision recorded</h1><p role=\"status\">{escape(text)}</p>")
