"""The interviewers' and the hiring manager's pages in a real browser: which interview in words (candidate, role,
local time, panel), feedback correctable until the panel is complete and then final, the outcome recorded once and
shown instead of the form, in shadow mode's honest words; Dutch and English. Each state checked by `check_page`
(axe, reflow at 320/390/1280 px, screenshots)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from foureyes import links
from foureyes_local.client import LocalClient
from tests.e2e.harness import check_page

pytestmark = pytest.mark.e2e


def _started_interview(client: LocalClient, tag: str) -> tuple[str, str, str, str]:
    """A candidate books an interview (over HTTP); it is then made to have started an hour ago, with a panel of
    two. (booking id, the first interviewer's link, the second's, the hiring manager's reading link)."""
    email = f"gesprek.{tag}@example.org"
    person = {"id": f"fb-{tag}", "first_name": "Iris", "last_name": f"Visser{tag}", "emails": [email],
              "role_id": "R-1001", "status": "Interview"}
    client.post_webhook("carerix", f"feedback-{tag}", person).raise_for_status()
    invite = client.mail_for(lambda m: email in m["to"] and m["subject"] == "Plan your interview", "the invitation",
                             timeout=60)
    book = next(u for u in invite["links"] if "/book/" in u)
    slot = re.findall(r'name="slot" id="[^"]+" value="([^"]+)"', requests.get(book, timeout=30).text)[0]
    requests.post(book, data={"action": "hold", "slot": slot}, timeout=30).raise_for_status()
    requests.post(book, data={"action": "confirm", "slot": slot}, timeout=30, allow_redirects=False)
    booking = next(b for b in client.bookings() if b["candidate_ref"] == f"carerix:fb-{tag}")
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    stamp = (lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")) if str(booking["start"]).endswith("Z") else (
        lambda moment: moment.isoformat())
    client.boto("dynamodb").update_item(
        TableName=client.outputs["BookingsTableName"], Key={"booking_id": {"S": booking["booking_id"]}},
        UpdateExpression="SET #s = :s, #e = :e, interviewers = :p",
        ExpressionAttributeNames={"#s": "start", "#e": "end"},
        ExpressionAttributeValues={":s": {"S": stamp(start)}, ":e": {"S": stamp(start + timedelta(hours=1))},
                                   ":p": {"L": [{"S": "iv-ilse"}, {"S": "iv-joost"}]}})
    secret = client.boto("secretsmanager").get_secret_value(
        SecretId=client.outputs["LinkSigningSecretArn"])["SecretString"].encode()
    first, second = (links.sign({"k": "feedback", "b": booking["booking_id"], "i": iv}, secret, 3600)
                     for iv in ("iv-ilse", "iv-joost"))
    read = links.sign({"k": "read", "b": booking["booking_id"], "p": "hm-hanna"}, secret, 3600)
    return (booking["booking_id"], f"{client.api}/feedback/{first}", f"{client.api}/feedback/{second}",
            f"{client.api}/feedback-read/{read}")


def _submit(page: Any, button: str) -> str:
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    text: str = page.locator("main").inner_text()
    return text


def test_feedback_and_outcome_in_the_browser(open_page: Callable[[str], Any], client: LocalClient) -> None:
    tag = str(int(time.time()) % 100000)
    _, first, second, read = _started_interview(client, tag)

    ilse = open_page("en-GB")
    ilse.goto(first)
    about = ilse.locator("dl.about").inner_text()
    assert f"Iris Visser{tag}" in about and "Ilse de Boer (Finance lead), Joost Visser (Controller)" in about
    assert "Central European" in about and "UTC" not in about and "bk_" not in ilse.content()
    check_page(ilse, "feedback-form-en")
    ilse.get_by_role("radio", name="Yes", exact=True).check()
    ilse.get_by_label("Notes").fill("Clear answers about month-end closing.")
    assert "your feedback is recorded" in _submit(ilse, "Submit feedback")
    assert ilse.get_by_role("radio", name="Yes", exact=True).is_checked()  # still editable: the panel is not complete
    check_page(ilse, "feedback-saved-en")
    ilse.get_by_role("radio", name="Strong yes").check()
    assert "your correction is recorded" in _submit(ilse, "Save my correction")

    joost = open_page("nl-NL")
    joost.goto(second)
    assert joost.locator("h1").inner_text() == "Feedback op het gesprek"
    assert "Midden-Europese" in joost.locator("dl.about").inner_text()
    check_page(joost, "feedback-form-nl")
    joost.get_by_role("radio", name="Ja", exact=True).check()
    _submit(joost, "Feedback versturen")

    ilse.goto(first)  # the whole panel has answered: final
    assert "so yours is final" in ilse.locator("main").inner_text() and ilse.locator("form").count() == 0
    check_page(ilse, "feedback-final-en")

    hanna = open_page("nl-NL")
    hanna.goto(read)
    assert "hiring manager" in hanna.locator("main").inner_text()
    check_page(hanna, "feedback-read-nl")
    hanna.get_by_label("Uitkomst", exact=True).select_option("hired")
    recorded = _submit(hanna, "Uitkomst vastleggen")
    assert "Uitkomst vastgelegd: aangenomen" in recorded and "live-modus" in recorded  # shadow mode, honestly
    assert hanna.locator("form").count() == 0
    check_page(hanna, "outcome-recorded-nl")

    again = requests.post(read, data={"outcome": "not_hired"}, timeout=30, headers={"Accept-Language": "en"})
    assert again.status_code == 200 and "already recorded" in again.text and "That did not work" not in again.text
    english = open_page("en-GB")
    english.goto(read)
    text = english.locator("main").inner_text()
    assert "Outcome recorded: hired" in text and "when live mode is on" in text and "on its way" not in text
    check_page(english, "outcome-recorded-en")
