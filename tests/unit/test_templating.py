"""Pages and e-mails from the shared templates: language negotiation, translation, autoescaping, Babel dates and
times in the reader's zone, multipart e-mails."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes

import pytest

from foureyes.mail import to_mime
from foureyes.web import i18n
from foureyes.web.i18n import Language, negotiate, parse_accept_language
from foureyes.web.templating import Brand, environment, render_email, render_page


def test_accept_language_is_ranked_by_quality_and_bad_entries_are_ignored() -> None:
    assert parse_accept_language("en;q=0.5, nl-NL, de;q=0.8, *;q=0.1, fr;q=0") == ["nl_NL", "de", "en"]
    assert parse_accept_language("é" * 500) == []
    assert parse_accept_language("nl;q=abc, en") == ["en"]
    assert parse_accept_language(None) == []


@pytest.mark.parametrize(("given", "expected"), [
    ({"chosen": "en", "cookie": "nl", "known": "nl", "accept_language": "nl"}, "en"),  # the switch wins
    ({"chosen": "fr", "cookie": "nl", "accept_language": "en"}, "nl"),  # an unknown choice is no choice
    ({"cookie": "nl", "known": "en", "accept_language": "en"}, "nl"),  # an earlier choice over what is known
    ({"known": "nl-BE", "accept_language": "en"}, "nl"),  # the person's language over the browser's
    ({"accept_language": "de-DE, nl;q=0.9, en;q=0.8"}, "nl"),  # the browser's first supported language
    ({"accept_language": "en-US,en;q=0.9"}, "en"),
    ({"accept_language": "de, fr"}, "en"),  # nothing supported: the default
    ({}, "en"),
])
def test_negotiation_order(given: dict[str, str], expected: str) -> None:
    assert negotiate(**given) == expected


def test_the_default_language_comes_from_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", "nl")
    assert negotiate(accept_language="de") == "nl"
    monkeypatch.setenv("DEFAULT_LANGUAGE", "klingon")
    assert negotiate() == "en"


def _event(query: dict[str, str] | None = None, **headers: str) -> dict[str, object]:
    return {"queryStringParameters": query, "headers": {k.replace("_", "-"): v for k, v in headers.items()}}


def test_a_request_s_language_its_switch_links_and_cookie() -> None:
    chosen = Language.from_event(_event({"lang": "nl", "tz": "Europe/Amsterdam"}, Accept_Language="en"))
    assert chosen.code == "nl" and chosen.chosen
    assert [(link.code, link.href, link.current) for link in chosen.links] == [
        ("nl", "?tz=Europe%2FAmsterdam&lang=nl", True), ("en", "?tz=Europe%2FAmsterdam&lang=en", False)]
    cookie = chosen.headers["Set-Cookie"]
    assert cookie.startswith("foureyes_lang=nl;") and "HttpOnly" in cookie and "Secure" in cookie
    remembered = Language.from_event(_event(None, Cookie="other=1; foureyes_lang=nl", Accept_Language="en"))
    assert remembered.code == "nl" and "Set-Cookie" not in remembered.headers
    assert remembered.headers["Content-Language"] == "nl"
    assert Language.from_event(_event(None, Cookie='bad"cookie', Accept_Language="nl-NL")).code == "nl"
    assert Language.from_event(_event(None), known="nl").code == "nl"


def test_a_page_in_dutch_and_english_with_branding_escaped() -> None:
    brand = Brand(company="Van Dijk <Logistics>", logo_url="https://example.org/logo.png",
                  contact_name="Anna de Vries", contact_email="anna@vandijk.example")
    dutch = render_page("message.html", Language("nl"), title="Titel", text="<script>alert(1)</script>", brand=brand)
    assert '<html lang="nl">' in dutch
    assert "Van Dijk &lt;Logistics&gt;" in dutch and "<Logistics>" not in dutch
    assert "&lt;script&gt;" in dutch and "<script>" not in dutch
    assert "Vragen? Neem contact op met Anna de Vries:" in dutch and 'href="mailto:anna@vandijk.example"' in dutch
    assert 'aria-label="Taal"' in dutch and 'hreflang="en"' in dutch
    english = render_page("message.html", "en", title="Title", text="Hello", brand=brand)
    assert '<html lang="en">' in english and "Questions? Contact Anna de Vries:" in english


def test_error_texts_are_translated_where_shown() -> None:
    from foureyes.web.shell import message_page

    page = message_page("This link has expired", "Please ask your recruiter for a new link.",
                        role="alert", language=Language("nl"))
    assert "Deze link is verlopen" in page and "Vraag uw recruiter om een nieuwe link." in page
    assert "Deze link is verlopen" not in message_page("This link has expired", "x", language=Language("en"))


def test_dates_and_times_in_the_reader_s_zone_and_locale() -> None:
    start = datetime(2026, 12, 8, 14, 30, tzinfo=UTC)
    template = environment().from_string(
        "{{ start|day }} | {{ start|time }} | {{ start|datetime('short') }} | {{ zone_label|zone }}")
    dutch = template.render(language=Language("nl"), tz="Europe/Amsterdam", start=start, zone_label=None)
    assert dutch.startswith("dinsdag 8 december | 15:30 | ")
    assert "Midden-Europese" in dutch
    english = template.render(language=Language("en"), tz="America/New_York", start=start, zone_label=None)
    day, time, *_ = english.split(" | ")
    assert day == "Tuesday, December 8" and time.replace("\u202f", " ") == "9:30 AM"
    assert "Eastern" in english


def test_a_multipart_e_mail_in_the_reader_s_language() -> None:
    brand = Brand(company="Van Dijk", contact_email="anna@vandijk.example")
    message = render_email("notice", "nl", to="kandidaat@example.org", brand=brand, heading="Uw <gesprek>",
                           lines=["Regel één", "Regel <twee>"], link="https://example.org/x?a=1&b=2",
                           link_text="Openen")
    assert message.subject == "Uw <gesprek>"
    assert "Regel <twee>" in message.text and "https://example.org/x?a=1&b=2" in message.text
    assert "Regel &lt;twee&gt;" in message.html and 'href="https://example.org/x?a=1&amp;b=2"' in message.html
    assert '<html lang="nl">' in message.html and "anna@vandijk.example" in message.text
    parsed = message_from_bytes(to_mime(message, "foureyes@agency.example").as_bytes())
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.walk()][1:] == ["text/plain", "text/html"]


def test_catalog_translations_are_loaded_once_per_language() -> None:
    assert i18n.translations("nl") is i18n.translations("nl")
    assert i18n.gettext("nl", "Send") == "Versturen" and i18n.gettext("en", "Send") == "Send"
    assert i18n.gettext("xx", "Send") == "Send"


def test_review_refusals_are_said_in_the_reader_s_language() -> None:
    """The review surface's typed refusals (four-eyes, decided, contest) reach an error page translated."""
    from foureyes.errors import Conflict, Forbidden
    from foureyes.web.responses import reply_for
    from foureyes.web.shell import message_page

    for error, dutch in ((Conflict("this review has already been decided"), "over deze beoordeling is al beslist"),
                         (Forbidden("you reviewed this proposal; a different person must approve it"),
                          "een ander moet het goedkeuren"),
                         (Forbidden("only a team lead decides a contest"), "alleen een teamleider")):
        reply = reply_for(error)
        assert dutch in message_page(reply.title, reply.text, role="alert", language=Language("nl"))
        assert dutch not in message_page(reply.title, reply.text, role="alert", language=Language("en"))
