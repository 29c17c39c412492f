"""Which language a page or e-mail is in, and its translations (Dutch and English, gettext catalogs).

Interface (small on purpose; pages and e-mails use it through `foureyes.web.templating`):

- `SUPPORTED`: the languages there are catalogs for, `("nl", "en")`; `default_language()` is the configured
  default (`DEFAULT_LANGUAGE`, the template's `DefaultLanguage`; "en" when unset): used only when nothing is
  known about the reader (browsers send `Accept-Language`; scripts and mail scanners may not).
- `negotiate(chosen=, cookie=, known=, accept_language=)`: the language to use, first match wins: an explicit
  choice (`?lang=`), the reader's earlier choice (the `foureyes_lang` cookie), the person's known language (from
  the ATS or the people list), the browser's `Accept-Language` (via Babel's `Locale.negotiate`), the default.
- `Language.from_event(event, known=None)`: the same for an API Gateway proxy event; the `Language` it returns
  carries the switch links (`?lang=xx`, the request's other query parameters kept: works without JavaScript) and
  the response headers (`Set-Cookie` when the reader chose, `Content-Language`, `Vary`).
- `gettext(language, message)`: a message in `language` (the msgid itself when there is no translation).
  Python code marks strings for extraction with `N_("...")` and translates them where they are shown.

Catalogs: `foureyes/web/locale/<lang>/LC_MESSAGES/messages.{po,mo}`; `make catalogs` extracts (babel.cfg),
updates and compiles them. Messages are written in English (the msgids); English needs no translation.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from babel.core import UnknownLocaleError
from babel.support import NullTranslations, Translations

from foureyes.errors import N_

__all__ = ["N_", "SUPPORTED", "Language", "LanguageLink", "default_language", "gettext", "negotiate"]

SUPPORTED: tuple[str, ...] = ("nl", "en")
NAMES: Mapping[str, str] = {"nl": "Nederlands", "en": "English"}  # each language in its own words
COOKIE = "foureyes_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
MAX_ACCEPT_LANGUAGE = 40  # entries of an Accept-Language header looked at (the header is the caller's input)


def default_language() -> str:
    """The configured default language (`DEFAULT_LANGUAGE`), "en" when unset or not supported."""
    configured = os.environ.get("DEFAULT_LANGUAGE", "").strip().lower()
    return configured if configured in SUPPORTED else "en"


def supported(code: str | None) -> str | None:
    """`code` ("nl", "nl-NL", "EN_gb") as a supported language, or None."""
    if not code:
        return None
    base = code.strip().replace("-", "_").split("_")[0].lower()
    return base if base in SUPPORTED else None


def parse_accept_language(header: str | None) -> list[str]:
    """The languages of an `Accept-Language` header, most wanted first (q=0 dropped, bad entries ignored)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")[:MAX_ACCEPT_LANGUAGE]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or len(tag) > 35 or not tag.replace("-", "").replace("_", "").isalnum():
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if quality > 0:
            ranked.append((-quality, position, tag.replace("-", "_")))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(*, chosen: str | None = None, cookie: str | None = None, known: str | None = None,
              accept_language: str | None = None) -> str:
    """The language to use (see the module's docstring for the order)."""
    for candidate in (chosen, cookie, known):
        if found := supported(candidate):
            return found
    try:
        best = Locale.negotiate(parse_accept_language(accept_language), list(SUPPORTED))
    except (UnknownLocaleError, ValueError):
        best = None
    return (supported(str(best)) if best is not None else None) or default_language()


@lru_cache(maxsize=len(SUPPORTED))
def translations(language: str) -> NullTranslations:
    """The compiled catalog of `language` (English, and any language without a catalog: the msgids)."""
    if language not in SUPPORTED or language == "en":
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], DOMAIN)


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)


def ngettext(language: str, singular: str, plural: str, n: int) -> str:
    return translations(language).ngettext(singular, plural, n)


@dataclass(frozen=True, slots=True)
class LanguageLink:
    code: str
    name: str
    href: str
    current: bool


@dataclass(frozen=True, slots=True)
class Language:
    """The language of one response, with what the page needs to offer a switch."""

    code: str
    query: Mapping[str, str] = field(default_factory=dict)  # the request's other query parameters
    chosen: bool = False  # the reader chose it just now (`?lang=`): remember it in a cookie
    secure: bool = True  # the request came over HTTPS (the cookie is then Secure)

    @classmethod
    def of(cls, code: str | None = None) -> Language:
        """A fixed language (e-mails, tests); the default when `code` is not supported."""
        return cls(supported(code) or default_language())

    @classmethod
    def from_event(cls, event: Mapping[str, Any], known: str | None = None) -> Language:
        """The language of the response to an API Gateway proxy `event`; `known`: the person's language if any."""
        query = {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        chosen = supported(query.get("lang"))
        code = negotiate(chosen=chosen, cookie=_cookie(headers.get("cookie", "")), known=known,
                         accept_language=headers.get("accept-language"))
        return cls(code, {k: v for k, v in query.items() if k != "lang"}, chosen is not None,
                   headers.get("x-forwarded-proto", "https") != "http")

    @property
    def links(self) -> list[LanguageLink]:
        """One link per language: the same page in that language (a relative `?...` URL)."""
        return [LanguageLink(code, NAMES[code], "?" + urlencode({**self.query, "lang": code}), code == self.code)
                for code in SUPPORTED]

    @property
    def headers(self) -> dict[str, str]:
        """Headers for the response: its language, what it varies on, and the reader's choice as a cookie."""
        out = {"Content-Language": self.code, "Vary": "Accept-Language, Cookie"}
        if self.chosen:
            out["Set-Cookie"] = (f"{COOKIE}={self.code}; Path=/; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax; HttpOnly"
                                 + ("; Secure" if self.secure else ""))
        return out

    def gettext(self, message: str) -> str:
        return gettext(self.code, message)


def _cookie(header: str) -> str | None:
    try:
        jar: SimpleCookie = SimpleCookie(header[:4096])
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None
