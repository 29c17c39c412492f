"""The one set of security headers of every HTML page, the message page, and the f-string shell of the pages not
yet moved to templates (`foureyes.web.templating`, whose `base.html` is the layout to use for new pages).

Pages are server-rendered, work without JavaScript, and carry no task tokens or exception text.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from foureyes.web.i18n import Language
from foureyes.web.templating import Brand, render_page

HTML = "text/html; charset=utf-8"
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}

_STYLE = ("body{font-family:system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:1rem;line-height:1.5;"
          "font-size:1.05rem}main.narrow{max-width:40rem;margin:0 auto}"
          "table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.4rem;text-align:left;"
          "vertical-align:top}fieldset{border:1px solid #888;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}"
          "legend{font-weight:600;padding:0 .3rem}.opt{margin:.35rem 0}.opt label{display:inline-block;"
          "padding:.45rem .3rem;min-height:44px;box-sizing:border-box}input[type=radio],input[type=checkbox]"
          "{width:1.3rem;height:1.3rem;vertical-align:middle}button{font-size:1.05rem;padding:.7rem 1.2rem;"
          "min-height:44px;margin:.5rem .5rem .5rem 0}.note{background:#eef;padding:.6rem;border-radius:4px}"
          ".alert{background:#fee;border:1px solid #c00;padding:.6rem;border-radius:4px}.zone{color:#444}"
          "textarea,select{font-size:1rem;width:100%;box-sizing:border-box}a{color:#0645ad}")


def page(title: str, body: str, *, narrow: bool = False) -> str:
    """A whole HTML document around `body` (already escaped HTML); `narrow` for phone-first forms."""
    main = "<main class=\"narrow\">" if narrow else "<main>"
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<meta name=\"referrer\" content=\"no-referrer\"><meta name=\"robots\" content=\"noindex\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{main}{body}</main></body></html>")


def message_page(title: str, text: str, *, role: str = "status", language: Language | None = None,
                 brand: Brand | None = None) -> str:
    """A page that says one thing: a title and a sentence (`templates/message.html`, translated when the catalog
    has them: English msgids)."""
    chosen = language or Language.of()
    return render_page("message.html", chosen, title=chosen.gettext(title), text=chosen.gettext(text), role=role,
                       brand=brand)
