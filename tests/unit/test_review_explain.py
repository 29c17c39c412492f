"""The review page in plain words: the change as a sentence, the records side by side with what matched and why
two spellings are one value, reasons under the decision they fit, a tie-break that says there was a tie (blind)."""

from __future__ import annotations

from html import unescape

from foureyes.review import explain, page
from foureyes.review.explain import WHY_EMAIL_CASE, WHY_GMAIL, WHY_PHONE
from foureyes.store.models import ProposalItem
from foureyes.web.i18n import Language


def _item(action: str, refs: tuple[str, str] = ("otys:OT0000011", "otys:OT0000042"), **extra: object) -> ProposalItem:
    diff_field = "merged_with" if action == "merge_candidates" else "duplicate_of"
    return ProposalItem("p1", pair_key="|".join(refs), status="pending_review", proposed_at="2026-12-01T10:00:00",
                        system="otys", action=action, refs=list(refs), payload={}, confidence=0.9,
                        diff={"target": refs[0], "before": {diff_field: None}, "after": {diff_field: refs[1]}},
                        **extra)  # type: ignore[arg-type]


def test_the_change_is_one_sentence_naming_both_records() -> None:
    merge = explain.change_of(_item("merge_candidates")).render(str)
    assert merge.startswith("Merge record Otys OT0000042 into record Otys OT0000011;")
    assert "{" not in merge and "merged_with" not in merge
    tag = explain.change_of(_item("tag_duplicate")).render(str)
    assert tag.startswith("Mark record Otys OT0000011 as a duplicate of record Otys OT0000042")
    dutch = explain.change_of(_item("merge_candidates")).render(Language.of("nl").gettext)
    assert dutch.startswith("Voeg record Otys OT0000042 samen met record Otys OT0000011")


def _records(left: dict[str, object], right: dict[str, object]) -> list[dict[str, object]]:
    return [{"ref": "otys:1", **left}, {"ref": "otys:2", **right}]


def test_gmail_spellings_are_one_address_and_the_page_says_why() -> None:
    compared = explain.compare(_records({"emails": ["Fatima.ElAmrani+vacatures@gmail.com"]},
                                        {"emails": ["fatimaelamrani@googlemail.com", "f.elamrani@werk.nl"]}))
    email = next(f for f in compared.fields if f.label == "E-mail")
    assert [v.matched for v in email.values[0]] == [True]
    assert [v.matched for v in email.values[1]] == [True, False]
    assert email.values[0][0].normalised == "fatimaelamrani@gmail.com"
    assert email.why == (WHY_GMAIL,)


def test_an_address_that_differs_only_in_capitals_is_explained_as_such() -> None:
    compared = explain.compare(_records({"emails": ["Noor@Hendriks-Mail.nl "]}, {"emails": ["noor@hendriks-mail.nl"]}))
    email = next(f for f in compared.fields if f.label == "E-mail")
    assert email.matched and email.why == (WHY_EMAIL_CASE,)


def test_plus31_and_06_are_one_number_and_the_page_says_why() -> None:
    compared = explain.compare(_records({"phones": ["+31 6 2345 6789"]}, {"phones": ["06-23456789"]}))
    phone = next(f for f in compared.fields if f.label == "Phone")
    assert phone.matched and phone.why == (WHY_PHONE,)
    assert phone.values[1][0].normalised == "+31623456789"


def test_different_values_are_not_marked_as_matching() -> None:
    compared = explain.compare(_records({"phones": ["06-23456789"], "full_name": "Jan de Jong", "dob": "1980-01-02"},
                                        {"phones": ["06-98765432"], "full_name": "Piet Bakker", "dob": "1980-01-02"}))
    fields = {f.label: f for f in compared.fields}
    assert not fields["Phone"].matched and not fields["Name"].matched and fields["Phone"].why == ()
    assert fields["Date of birth"].matched


class _View:
    """Just what the page reads of a `decide.ReviewView`."""

    def __init__(self, stage: str, decided: bool = False) -> None:
        from foureyes.model import Stage
        from foureyes.store.models import ReviewTaskItem

        self.proposal = _item("merge_candidates", reasoning="same e-mail", reviewed_by="anna",
                              review_decision="approve", approved_by="bram", approval_decision="reject")
        self.task = ReviewTaskItem("p1", stage, assignee="tess", assignee_email="t@x", task_token="t", link_id="l",
                                   nonce="n0nce", created_at="2026-12-01T10:00:00", link_expires_at=0,
                                   status="decided" if decided else "pending", decision="approve" if decided else None,
                                   reason="same_person" if decided else None)
        self.stage = Stage(stage)
        self.person = "tess"
        self.records = tuple(_records(
            {"emails": ["Fatima.ElAmrani+vacatures@gmail.com"], "full_name": "Fatima El Amrani"},
            {"emails": ["fatimaelamrani@googlemail.com"], "full_name": "Fatima el-Amrani"}))
        self.history = ({"stage": "review", "by": "anna", "decision": "approve", "reason": "same_person"},
                        {"stage": "approve", "by": "bram", "decision": "reject", "reason": "different_people"},
                        ) if decided else ()
        self.decided = decided
        self.blind = not decided


def test_a_tie_break_says_there_was_a_tie_but_not_who_decided_what_before_deciding() -> None:
    html = unescape(page.review_page(_View("tiebreak")))  # type: ignore[arg-type]
    assert "There was a tie." in html and "one approved and one rejected" in html
    assert "anna" not in html and "bram" not in html and "Different people (namesakes" in html  # only as an option
    assert "0.90" not in html
    after = unescape(page.review_page(_View("tiebreak", decided=True)))  # type: ignore[arg-type]
    assert "anna — approved" in after and "bram — rejected" in after and "0.90" in after


def test_the_page_shows_why_the_addresses_are_one_and_no_raw_diff() -> None:
    html = unescape(page.review_page(_View("review")))  # type: ignore[arg-type]
    assert "Gmail ignores dots" in html and "✓ Same" in html and "fatimaelamrani@gmail.com" in html
    assert "merged_with" not in html and "{'" not in html and "foureyes ops" not in html


def test_a_refused_other_shows_the_page_again_with_the_note_kept_and_a_message() -> None:
    html = page.review_page(_View("review"), notice="write a note",  # type: ignore[arg-type]
                            chosen=page.Chosen("reject", "other", "half-typed <note>"))
    assert 'role="alert" id="notice">write a note' in html
    reject_form = html.split('name="decision" value="reject"')[1]
    assert 'value="other" required checked' in reject_form and "half-typed &lt;note&gt;</textarea>" in reject_form


def test_the_page_in_dutch() -> None:
    html = unescape(page.review_page(_View("review"), Language.of("nl")))  # type: ignore[arg-type]
    assert '<html lang="nl">' in html and "Waarom deze records aan elkaar gekoppeld zijn" in html
    assert "Goedkeuren" in html and "Afwijzen" in html


def test_the_team_leads_contest_page_in_plain_words_and_dutch() -> None:
    from foureyes.review import contest_page
    from foureyes.review.contest import ContestView

    contest = ProposalItem("c1", pair_key="contest|otys:OT0000011", status="pending_tiebreak", system="otys",
                           proposed_at="2026-12-03T17:21:22+00:00", action="contest", refs=["otys:OT0000011"],
                           payload={}, diff={"target": "otys:OT0000011"}, confidence=1.0,
                           contest_statements=[{"choice": "not_mine", "at": "2026-12-03T17:21:21Z", "text": "Nooit."}])
    html = unescape(contest_page.team_lead_page(ContestView(contest, (_item("merge_candidates"),), "tess", "n0", False),
                                                Language.of("nl")))
    assert "ontvangen 3 dec 2026, 18:21:22" in html and "Dit zijn niet mijn gegevens" in html  # Amsterdam time
    assert "Voeg record Otys OT0000042 samen met record Otys OT0000011" in html  # what is on hold, as a sentence
    forms = {f.split('name="decision" value="')[1].split('"')[0]: f for f in html.split("<form")[1:]}
    assert 'value="not_their_records"' in forms["uphold"] and 'value="not_their_records"' not in forms["dismiss"]
    assert 'value="handled_correctly"' in forms["dismiss"]
