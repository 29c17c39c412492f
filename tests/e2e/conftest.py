"""A real browser (Playwright driving Debian's Chromium, headless) for the page tests.

In CI (CI=true) a missing Chromium is a failure; elsewhere the tests skip and say why. `page` is an English
(en-GB) browser; `open_page(locale)` opens one in another locale (its Accept-Language), e.g. "nl-NL". Contexts
bypass the pages' CSP only so that `harness.check_page` can inject axe-core.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        message = "Debian's chromium is not installed (apt-get install chromium, or `make browsers`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Opens a page in a fresh browser context with the given locale (navigator.language and Accept-Language) and
    any other context options (`timezone_id`, `java_script_enabled`)."""
    contexts: list[Any] = []

    def open_in(locale: str = "en-GB", **options: Any) -> Any:
        context = browser.new_context(locale=locale, bypass_csp=True, **options)
        contexts.append(context)
        opened = context.new_page()
        opened.set_default_timeout(20_000)
        return opened

    try:
        yield open_in
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(open_page: Callable[..., Any]) -> Any:
    return open_page("en-GB")
