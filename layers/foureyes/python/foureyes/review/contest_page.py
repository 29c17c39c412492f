"""The contest pages: the candidate's form (GET shows, POST with the page's nonce opens or joins a contest) and
the team lead's page behind their review link (uphold or dismiss). Web shell, no JavaScript, everything escaped;
phone-first for the candidate."""

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
from foureyes.web.shell import page

logger = Logger(child=True)


def endpoint(method: str, token: str, fields: Mapping[str, str]) -> str:
    """`GET|POST /contest/{token}`: GET shows the form (and changes nothing); POST opens or joins a contest."""
    if method.upper() == "GET":
        return form_page(contest.form(token))
    done = contest.submit(token, fields.get("choice", ""), fields.get("text", ""), fields.get("nonce", ""))
    logger.info("contest received", extra={"proposal_id": done.contest_id, "joined": done.joined})
    return submitted_page(done, contest.default_deps().contact)

ABOUT = ("<p>Foureyes is a tool that the recruitment agency that e-mailed you uses, on its behalf, to plan "
         "interviews and to keep the candidate records in its applicant tracking systems correct (for example, to "
         "notice when one person has two records). People at the agency make every decision; Foureyes only "
         "proposes.</p>")


def _contact(contact: str) -> str:
    if contact:
        return (f"contact the agency at <a href=\"mailto:{escape(contact)}\">{escape(contact)}</a> "
                "or the recruiter who e-mailed you")
    return "contact the recruiter who e-mailed you"


def form_page(shown: ContestForm, notice: str = "") -> str:
    """The candidate's form (what the GET of their link shows)."""
    options = "".join(
        f"<div class=\"opt\"><input type=\"radio\" name=\"choice\" id=\"c-{key}\" value=\"{key}\" required>"
        f"<label for=\"c-{key}\">{escape(label)}</label></div>" for key, label in CHOICES.items())
    alert = f"<p class=\"alert\" role=\"alert\">{escape(notice)}</p>" if notice else ""
    body = (f"<h1>Your data and Foureyes</h1>{alert}{ABOUT}"
            "<p>If something is not right, tell us here. A team lead at the agency looks at it; until they have "
            "decided, no change that Foureyes proposed about your records is made.</p>"
            f"<form method=\"post\"><input type=\"hidden\" name=\"nonce\" value=\"{escape(shown.nonce)}\">"
            f"<fieldset><legend>What is it about?</legend>{options}</fieldset>"
            f"<p><label for=\"text\">Tell us more (required for &ldquo;{escape(CHOICES[TEXT_REQUIRED])}&rdquo;, at "
            f"most {MAX_TEXT_LENGTH} characters)</label>"
            f"<textarea id=\"text\" name=\"text\" rows=\"6\" maxlength=\"{MAX_TEXT_LENGTH}\"></textarea></p>"
            "<button type=\"submit\">Send</button></form>"
            f"<p>Questions? Please {_contact(shown.contact)}.</p>")
    return page("Your data and Foureyes", body, narrow=True)


def submitted_page(done: Submitted, contact: str) -> str:
    """What the candidate sees after sending: what happens next, and whom to contact (no e-mail follows)."""
    joined = " It was added to the objection you sent earlier." if done.joined else ""
    body = (f"<h1>Thank you: we received your objection</h1><p role=\"status\">Reference: "
            f"<code>{escape(done.contest_id)}</code>.{joined}</p>"
            "<h2>What happens next</h2><p>A team lead at the agency decides on it. Until they have, every change "
            "Foureyes proposed about your records is on hold: nothing is written to the agency's systems because "
            "of them. Foureyes will not e-mail you about it.</p>"
            f"<p>To follow up, or to ask what data the agency holds about you, please {_contact(contact)} and "
            "mention the reference above.</p>")
    return page("Objection received", body, narrow=True)


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
