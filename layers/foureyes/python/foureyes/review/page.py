"""The review page a recruiter opens from an e-mailed link, and the page after deciding (in the web shell:
accessible, no JavaScript, no task tokens, no stack traces)."""

from __future__ import annotations

from html import escape
from typing import Any

from foureyes.model import Decision
from foureyes.review.decide import ERASE_ACTION, MAX_NOTE_LENGTH, REASON_CODES, ReviewView, reasons_for
from foureyes.web.shell import page

_FIELDS = (("Name", "name"), ("E-mail", "emails"), ("Phone", "phones"), ("Date of birth", "dob"),
           ("Employer", "employer"), ("Status", "status"))


def _cell(record: dict[str, Any], key: str) -> str:
    if record.get("missing"):
        return "<em>record not found</em>"
    if key == "name":
        value = record.get("full_name") or f"{record.get('first_name', '')} {record.get('last_name', '')}".strip()
    else:
        value = record.get(key, "")
    if isinstance(value, list):
        return "<br>".join(escape(str(v)) for v in value) or "&mdash;"
    return escape(str(value)) or "&mdash;"


def _reason_options(action: str = "") -> str:
    """The reason codes grouped by the decision they fit ("other" fits both, so it stands on its own)."""
    groups = {Decision.APPROVE: "Reasons to approve", Decision.REJECT: "Reasons to reject"}
    fits = {decision: reasons_for(decision, action) for decision in groups}
    either = set(fits[Decision.APPROVE]) & set(fits[Decision.REJECT])

    def option(code: str) -> str:
        return f"<option value=\"{escape(code)}\">{escape(REASON_CODES[code])}</option>"

    grouped = "".join(f"<optgroup label=\"{escape(label)}\">"
                      + "".join(option(code) for code in fits[decision] if code not in either) + "</optgroup>"
                      for decision, label in groups.items())
    return grouped + "".join(option(code) for code in REASON_CODES if code in either)


_ERASURE_WARNING = (
    "<div class=\"note\" role=\"alert\"><p><strong>This cannot be undone.</strong> Approving this erasure deletes "
    "everything Foureyes holds about the records below and destroys the key their personal data is encrypted "
    "with. There is no rollback: nobody, not even an administrator, can bring it back.</p><p>It does not delete "
    "the records in the ATS: the agency erases them there too. Approve only a verified request (the person's "
    "identity and which records are theirs) with no legal duty to keep the data.</p></div>")


def review_page(view: ReviewView) -> str:
    item = view.proposal
    stage_title = {"review": "Review", "approve": "Second approval", "tiebreak": "Tie-break"}[view.stage.value]
    header = "".join(f"<th scope=\"col\">{escape(r['ref'])}</th>" for r in view.records)
    rows = "".join(
        f"<tr><th scope=\"row\">{label}</th>{''.join(f'<td>{_cell(r, key)}</td>' for r in view.records)}</tr>"
        for label, key in _FIELDS)
    diff = item.diff or {}
    evidence = ", ".join(escape(e.replace("_", " ")) for e in item.evidence)
    if view.decided:
        history = "<ul>" + ("".join(
            f"<li>{escape(h['stage'])}: {escape(str(h['by']))} &mdash; {escape(str(h['decision']))} "
            f"({escape(str(h['reason']))})</li>" for h in view.history) or "<li>No decisions yet.</li>") + "</ul>"
    else:
        history = ("<p class=\"note\">Other people's decisions on this proposal are hidden until you decide "
                   "(an independent second look).</p>")
    confidence = ("<p class=\"note\">The matcher's confidence is hidden until you decide (blind review).</p>"
                  if view.blind else f"<p>Matcher confidence: {float(item.confidence):.2f}</p>")
    body = [
        f"<h1>{stage_title}: {escape(item.action.replace('_', ' '))} in {escape(item.system)}</h1>",
        f"<p>Proposal <code>{escape(item.proposal_id)}</code>, proposed {escape(item.proposed_at)} by "
        f"{escape(item.proposed_by)}. You are signed in by your personal link as <strong>{escape(view.person)}"
        f"</strong>.</p>",
        (f"<p class=\"note\"><strong>Rollback</strong> of proposal <code>{escape(item.rollback_of)}</code>: "
         "approving it undoes that write. Its approvers and whoever asked for this rollback decide no stage of "
         "it.</p>" if item.rollback_of else ""),
        (_ERASURE_WARNING if item.action == ERASE_ACTION else ""),
        f"<h2>{'Why this is asked' if item.action == ERASE_ACTION else 'Why these records were linked'}</h2>"
        f"<p>{escape(item.reasoning)}</p><p>Evidence: {evidence}</p>",
        confidence,
        f"<h2>The records side by side</h2><table><thead><tr><th scope=\"col\">Field</th>{header}</tr></thead>"
        f"<tbody>{rows}</tbody></table>",
        f"<h2>What would change</h2><p>In <code>{escape(str(diff.get('target', '')))}</code>: "
        f"<code>{escape(str(diff.get('before')))}</code> &rarr; <code>{escape(str(diff.get('after')))}</code></p>",
        f"<h2>History</h2>{history}",
    ]
    if item.held_by and not view.decided:
        body.append("<p class=\"alert\" role=\"status\"><strong>On hold:</strong> the candidate contested how their "
                    "data is handled; a team lead decides first. You can decide this proposal once the contest is "
                    "dismissed (if it is upheld, the proposal is withdrawn).</p>")
    elif item.status == "withdrawn":
        body.append("<p class=\"note\" role=\"status\">Withdrawn: the candidate's contest was upheld by a team "
                    "lead. Nothing will be written to any ATS; nothing more to do.</p>")
    elif view.decided:
        body.append(f"<p class=\"note\" role=\"status\">You already decided: <strong>{escape(str(view.task.decision))}"
                    f"</strong> ({escape(str(view.task.reason))}). Nothing more to do.</p>")
        if item.status == "executed" and not item.rollback_of and item.action != ERASE_ACTION:
            body.append(
                "<form method=\"post\"><fieldset><legend>Undo this write</legend>"
                "<p>This write was executed. You can propose to roll it back: a reviewer and an approver who did "
                "not approve the original will decide.</p><input type=\"hidden\" name=\"action\" value=\"rollback\">"
                "<p><label for=\"why\">Why (required)</label><br>"
                "<textarea id=\"why\" name=\"why\" required maxlength=\"500\" rows=\"3\" cols=\"60\"></textarea></p>"
                "<button type=\"submit\">Propose a rollback</button></fieldset></form>")
    else:
        body.append(
            "<form method=\"post\"><fieldset><legend>Your decision</legend>"
            f"<input type=\"hidden\" name=\"nonce\" value=\"{escape(view.task.nonce)}\">"
            "<p><label for=\"reason\">Reason (required)</label><br><select id=\"reason\" name=\"reason\" required>"
            f"<option value=\"\">Choose a reason</option>{_reason_options(item.action)}</select></p>"
            "<p><label for=\"note\">Note (required for &ldquo;Other&rdquo;)</label><br>"
            f"<textarea id=\"note\" name=\"note\" maxlength=\"{MAX_NOTE_LENGTH}\" rows=\"3\" cols=\"60\">"
            "</textarea></p>"
            "<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>"
            "<button type=\"submit\" name=\"decision\" value=\"reject\">Reject</button>"
            "</fieldset></form>")
    return page(f"Foureyes {stage_title.lower()}", "".join(body))


def decided_page(status: str, confidence: float) -> str:
    text = {"pending_approval": "Thank you. The proposal now goes to a second, different person for approval.",
            "pending_tiebreak": "Thank you. You and the first reviewer disagree, so a team lead will decide.",
            "approved": "Thank you. The proposal is approved by two people and goes to the dispatcher.",
            "rejected": "Thank you. The proposal is rejected; nothing will be written to the ATS."}.get(
        status, "Thank you. Your decision is recorded.")
    return page("Decision recorded", f"<h1>Decision recorded</h1><p role=\"status\">{escape(text)}</p>"
                                     f"<p>The matcher's confidence was {confidence:.2f}.</p>")
