"""The candidate's language from the ATS on the local cloud (issue 15, item 6): a webhook whose record says the
candidate reads Dutch leads, through the candidates table and its stream, to a Dutch invitation e-mail while the
configured default language (DefaultLanguage) is English; a record that says nothing gets the default."""

from __future__ import annotations

from typing import Any

import requests

from foureyes_local.client import LocalClient


def _invitation(client: LocalClient, record_id: str, email: str, **extra: Any) -> dict[str, Any]:
    person = {"id": record_id, "first_name": "Daan", "last_name": "Mulder", "emails": [email], "role_id": "R-1001",
              "time_zone": "Europe/Amsterdam", "status": "Interview", **extra}
    client.post_webhook("carerix", f"lang-{record_id}-1", person).raise_for_status()
    return client.mail_for(lambda m: email in m["to"] and "/book/" in " ".join(m["links"]),
                           f"the invitation to {record_id}", timeout=60)


def test_a_candidate_whose_ats_record_says_dutch_is_invited_in_dutch(cloud: Any, client: LocalClient) -> None:
    dutch = _invitation(client, "lang-nl-1", "daan.mulder@example.org", language="Nederlands")
    assert dutch["subject"] == "Plan uw sollicitatiegesprek"  # the approved template's Dutch translation
    for said in ("Beste kandidaat", "Over uw gesprek"):  # the template's words and the nl catalog's
        assert said in dutch["text"], said
    assert "About your interview" not in dutch["text"]
    english = _invitation(client, "lang-none-1", "eva.mulder@example.org")  # the ATS does not say
    assert english["subject"] == "Plan your interview" and "About your interview" in english["text"]
    # the booking page for the Dutch candidate: Dutch for a browser asking for English, English when they switch
    link = next(u for u in dutch["links"] if "/book/" in u)
    page = requests.get(link, headers={"Accept-Language": "en-GB,en;q=0.9"}, timeout=30)
    assert page.status_code == 200 and '<html lang="nl">' in page.text
    switched = requests.get(link, params={"lang": "en"}, headers={"Accept-Language": "en-GB"}, timeout=30)
    assert '<html lang="en">' in switched.text and "foureyes_lang=en" in switched.headers.get("Set-Cookie", "")
