"""The Dutch and English catalogs are complete and compiled: every message in the code and templates is in each
.po (run `make catalogs` when this fails), every Dutch message is translated (not fuzzy, same placeholders), and
each .mo holds exactly what its .po says (a .po edited without compiling fails here).

Modification times are not compared: a git checkout sets them arbitrarily; comparing the contents is the check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers/foureyes/python/foureyes"
LOCALE = PACKAGE / "web/locale"
LANGUAGES = ("nl", "en")
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _po(language: str) -> Catalog:
    with (LOCALE / language / "LC_MESSAGES/messages.po").open("rb") as handle:
        return read_po(handle)


def _mo(language: str) -> Catalog:
    with (LOCALE / language / "LC_MESSAGES/messages.mo").open("rb") as handle:
        return read_mo(handle)


def _pairs(catalog: Catalog, *, skip_fuzzy: bool) -> dict[object, object]:
    return {m.id: m.string for m in catalog if m.id and m.string and not (skip_fuzzy and m.fuzzy)}


def _extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map, options_map, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_mo_holds_what_its_po_says(language: str) -> None:
    assert _pairs(_mo(language), skip_fuzzy=False) == _pairs(_po(language), skip_fuzzy=True), (
        f"{language}: messages.mo is not compiled from messages.po (run `make catalogs`)")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_of_the_code_is_in_the_catalog(language: str) -> None:
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _po(language) if m.id}
    missing = sorted(_extracted() - known)
    assert not missing, f"{language}: not in messages.po (run `make catalogs`): {missing}"


def test_every_dutch_message_is_translated_with_the_same_placeholders() -> None:
    problems = []
    for message in _po("nl"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(f"untranslated or fuzzy: {ids[0]!r}")
        elif sorted(PLACEHOLDER.findall(ids[0])) != sorted(PLACEHOLDER.findall(strings[0])):
            problems.append(f"placeholders differ: {ids[0]!r}")
    assert not problems, "\n".join(problems)
