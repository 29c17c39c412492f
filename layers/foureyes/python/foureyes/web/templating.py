"""Pages and e-mails from templates: one Jinja2 environment (autoescaped, translated, Babel-formatted).

Interface:

- `render_page(name, language, *, title, brand=None, tz=None, narrow=True, **context) -> str`: the page template
  `templates/<name>` (it extends `base.html`: branding header, language switch, main, footer with the contact).
- `render_email(name, language, *, to, brand=None, tz=None, attachments=(), **context) -> mail.Email`: a multipart
  e-mail from `templates/email/<name>.txt` (plain text; its `{% block subject %}` is the subject) and
  `templates/email/<name>.html` (HTML, extends `email/base.html`).
- `when_text(start, end, tz, language)`: a time as plain text in the reader's language and zone.
- `Brand`: company name, logo URL and contact shown on every page; `Brand.from_env()` reads the template's
  configuration (`BRAND_COMPANY_NAME`, `BRAND_LOGO_URL`, `BRAND_CONTACT_NAME`, `BRAND_CONTACT_EMAIL`); a caller
  that knows better (a role's company and recruiter, phase 2 of issue 15) passes its own.

In templates: `{% trans %}...{% endtrans %}` / `{{ _("...") }}` (the page's language), `language` (a
`foureyes.web.i18n.Language`: `.code`, `.links`), `brand`, `tz` (the reader's IANA time zone), and the filters
`datetime`, `date`, `time` (Babel formats: "short", "medium", "long", "full" or a pattern), `day` (weekday and
date), `timerange` (`{{ start|timerange(end) }}`), `linkify` (plain text with its https URLs as links),
`zone` (the time zone's name in the reader's language), each in `tz` unless given one: `{{ start|time }}`.
HTML templates are autoescaped; `.txt` templates are not (plain text).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import (
    format_date,
    format_datetime,
    format_interval,
    format_time,
    get_timezone_name,
    match_skeleton,
)
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape

from foureyes.mail import Attachment, Email
from foureyes.web import i18n
from foureyes.web.i18n import Language

DEFAULT_TIME_ZONE = "Europe/Amsterdam"


@dataclass(frozen=True, slots=True)
class Brand:
    """Who the reader deals with: shown in every page's header and footer and in every e-mail."""

    company: str = ""
    logo_url: str = ""
    contact_name: str = ""
    contact_email: str = ""

    @classmethod
    def from_env(cls) -> Brand:
        env = os.environ
        return cls(env.get("BRAND_COMPANY_NAME", ""), env.get("BRAND_LOGO_URL", ""),
                   env.get("BRAND_CONTACT_NAME", ""), env.get("BRAND_CONTACT_EMAIL", ""))


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo((name if isinstance(name, str) else "") or os.environ.get("DEFAULT_TIME_ZONE")
                        or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def _where(ctx: Context, tz: str | None) -> tuple[ZoneInfo, Locale]:
    language = ctx.get("language")
    code = language.code if isinstance(language, Language) else i18n.default_language()
    return _zone(tz or ctx.get("tz")), Locale.parse(code)


@pass_context
def _datetime(ctx: Context, value: datetime, format: str = "medium", tz: str | None = None) -> str:  # noqa: A002
    zone, locale = _where(ctx, tz)
    return format_datetime(value, format, tzinfo=zone, locale=locale)


@pass_context
def _date(ctx: Context, value: datetime | date, format: str = "long", tz: str | None = None) -> str:  # noqa: A002
    zone, locale = _where(ctx, tz)
    return format_date(value.astimezone(zone) if isinstance(value, datetime) else value, format, locale=locale)


@pass_context
def _time(ctx: Context, value: datetime, format: str = "short", tz: str | None = None) -> str:  # noqa: A002
    zone, locale = _where(ctx, tz)
    return format_time(value, format, tzinfo=zone, locale=locale)


@pass_context
def _day(ctx: Context, value: datetime | date, tz: str | None = None) -> str:
    """Weekday and date in the locale's order: "dinsdag 8 december", "Tuesday, December 8"."""
    zone, locale = _where(ctx, tz)
    day = value.astimezone(zone) if isinstance(value, datetime) else value
    return format_date(day, _day_pattern(str(locale)), locale=locale)


@lru_cache(maxsize=8)
def _day_pattern(code: str) -> str:
    """The locale's pattern for weekday, day and month (CLDR skeleton "MMMMEd"), with the weekday written out
    (Babel, unlike ICU, does not widen the skeleton's fields)."""
    locale = Locale.parse(code)
    skeleton = match_skeleton("MMMMEd", tuple(locale.datetime_skeletons)) or "MMMMEd"
    return re.sub(r"E+", "EEEE", str(locale.datetime_skeletons[skeleton].pattern))


@pass_context
def _timerange(ctx: Context, start: datetime, end: datetime, tz: str | None = None) -> str:
    """A start and end time in the locale's clock ("09:00–10:00", "9:00 – 10:00 AM")."""
    zone, locale = _where(ctx, tz)
    pattern = str(locale.time_formats["short"].pattern)
    return format_interval(start, end, "Hm" if "H" in pattern else "hm", tzinfo=zone, locale=locale)


@pass_context
def _zone_name(ctx: Context, tz: str | None = None) -> str:
    """The time zone's name in the reader's language ("Midden-Europese tijd", "Eastern Time")."""
    zone, locale = _where(ctx, tz)
    return get_timezone_name(zone, "long", locale=locale, zone_variant="generic")


@pass_context
def _gettext(ctx: Context, message: str) -> str:
    language = ctx.get("language")
    return language.gettext(message) if isinstance(language, Language) else message


@pass_context
def _ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
    language = ctx.get("language")
    code = language.code if isinstance(language, Language) else "en"
    return i18n.ngettext(code, singular, plural, n)


_URL = re.compile(r"https://[^\s<>\"']+")


def _linkify(text: str) -> Markup:
    """Plain text as HTML with its https URLs as links (everything else escaped)."""
    out, last = [], 0
    for found in _URL.finditer(text):
        out += [escape(text[last:found.start()]), Markup('<a href="{0}">{0}</a>').format(found.group())]
        last = found.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def when_text(start: datetime, end: datetime, tz: str, language: Language | str) -> str:
    """"dinsdag 8 december, 15:00–16:00 (Midden-Europese tijd)": a time as the reader reads it, for plain text."""
    chosen = language if isinstance(language, Language) else Language.of(language)
    template = environment().from_string("{{ start|day }}, {{ start|timerange(end) }} ({{ tz|zone }})")
    return template.render(language=chosen, tz=_zone(tz).key, start=start, end=end)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one environment: templates from the package, autoescaped HTML, gettext in the page's language."""
    env = Environment(
        loader=PackageLoader("foureyes.web", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=False),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,  # a misspelt variable is an error in tests, not an empty spot on a page
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(datetime=_datetime, date=_date, time=_time, day=_day, zone=_zone_name, timerange=_timerange,
                       linkify=_linkify)
    return env


def _context(language: Language | str, brand: Brand | None, tz: str | None,
             context: Mapping[str, Any]) -> dict[str, Any]:
    chosen = language if isinstance(language, Language) else Language.of(language)
    return {"language": chosen, "brand": brand or Brand.from_env(), "tz": _zone(tz).key, **context}


def render_page(name: str, language: Language | str, *, title: str, brand: Brand | None = None,
                tz: str | None = None, narrow: bool = True, **context: Any) -> str:
    """The page `templates/<name>`; `title` is already in the page's language."""
    values = _context(language, brand, tz, {"title": title, "narrow": narrow, **context})
    return environment().get_template(name).render(values)


def render_email(name: str, language: Language | str, *, to: str, brand: Brand | None = None, tz: str | None = None,
                 attachments: Iterable[Attachment] = (), **context: Any) -> Email:
    """A multipart e-mail (plain text and HTML) from `templates/email/<name>.{txt,html}`."""
    values = _context(language, brand, tz, context)
    env = environment()
    text_template = env.get_template(f"email/{name}.txt")
    subject = "".join(text_template.blocks["subject"](text_template.new_context(values))).strip()
    return Email(to=to, subject=" ".join(subject.split()), text=text_template.render(values),
                 html=env.get_template(f"email/{name}.html").render({**values, "subject": subject}),
                 attachments=tuple(attachments))
