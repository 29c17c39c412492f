"""Normalised keys of a record (SPEC "Normalised key of a record")."""

from __future__ import annotations

import random
from datetime import date

import phonenumbers
import pytest

from foureyes.matching.normalize import (
    canonical_email,
    e164,
    name_key,
    normalize_employer,
    normalize_name,
    normalize_text,
    split_name,
    year_of_birth,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  JAN   de  JONG ", "jan de jong"),
        ("José Ñúñez", "jose nunez"),
        ("Chloë Müller-Lüdenscheidt", "chloe muller ludenscheidt"),
        ("Søren Øster", "soren oster"),
        ("O'Brien", "obrien"),
        ("Jan-Willem", "jan willem"),
        ("v.d.", "v d"),
        ("", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Berg, Jan van der", "jan van der berg"),
        ("Jan van der Berg", "jan van der berg"),
        ("Jan v.d. Berg", "jan van der berg"),
        ("Jan vd Berg", "jan van der berg"),
        ("Jan van 't Hof", "jan van t hof"),
        ("Jan van het Hof", "jan van t hof"),
        ("de Jong, J.", "j de jong"),
        ("Berg, van der", "van der berg"),
    ],
)
def test_normalize_name_dutch_forms(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_split_name_finds_particles_and_core() -> None:
    parts = split_name("Anna Maria van den Heuvel")
    assert parts.given == ("anna", "maria")
    assert parts.particles == ("van", "den")
    assert parts.core == ("heuvel",)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"full_name": "Jan van der Berg"},
        {"full_name": "Berg, Jan van der"},
        {"full_name": "Jan v.d. Berg"},
        {"full_name": "JAN VAN DER BERG"},
        {"full_name": "Jan Berg"},
        {"first_name": "Jan", "last_name": "van der Berg"},
        {"first_name": "Jan", "last_name": "Berg, van der"},
        {"first_name": "Jan", "last_name": "v.d. Berg"},
        {"first_name": "Jan van der", "last_name": "Berg"},
        {"first_name": "Jan Willem", "last_name": "Van Der Berg"},
        {"full_name": "Jan-Willem van der Berg"},
    ],
)
def test_name_key_is_the_same_for_every_tussenvoegsel_form(kwargs: dict[str, str]) -> None:
    assert name_key(**kwargs) == "jan berg"


def test_name_key_keeps_different_people_apart() -> None:
    assert name_key("Jan de Jong") != name_key("Johan de Jong")
    assert name_key("Jan de Jong") != name_key("Jan de Vries")
    assert name_key("J. de Jong") == "j jong"  # an initial is not the full name
    assert name_key("") == ""


def test_name_key_full_and_fields_agree_on_double_surnames() -> None:
    assert name_key("Romy Oude Heer") == name_key(first_name="Romy", last_name="Oude Heer")
    assert name_key("Marieke Jansen-de Vries") == name_key(first_name="Marieke", last_name="Jansen-de Vries")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Jan.Jansen@Bedrijf.NL ", "jan.jansen@bedrijf.nl"),
        ("j.a.n.jansen+jobs@gmail.com", "janjansen@gmail.com"),
        ("JanJansen@googlemail.com", "janjansen@gmail.com"),
        ("jan.jansen+x@hotmail.com", "jan.jansen+x@hotmail.com"),  # plus/dots only folded for gmail
        ("mailto:piet@kpnmail.nl", "piet@kpnmail.nl"),
        ("not an email", None),
        ("jan@@x.nl", None),
        ("jan@localhost", None),
        ("", None),
        (None, None),
        ("geen@geen.nl", None),
        ("noemail@whatever.nl", None),
        ("someone@example.com", None),
    ],
)
def test_canonical_email(raw: str | None, expected: str | None) -> None:
    assert canonical_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["+31 6 2345 6789", "+31(0)6-23456789", "06-23456789", "0031623456789", "06 23 45 67 89", "(06) 23456789",
     "+31623456789", "06.2345.6789"],
)  # fmt: skip
def test_e164_dutch_mobile_spellings(raw: str) -> None:
    assert e164(raw) == "+31623456789"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("020-6244343", "+31206244343"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0612", None),
        ("abc", None),
        ("", None),
        (None, None),
        ("06-00000000", None),  # placeholder
        ("06-12345678", None),  # placeholder
        ("+31 00 1234 567", None),
    ],
)
def test_e164_other_and_invalid(raw: str | None, expected: str | None) -> None:
    assert e164(raw) == expected


def test_year_of_birth() -> None:
    assert year_of_birth(date(1985, 3, 2)) == 1985
    assert year_of_birth("1985-03-02") == 1985
    assert year_of_birth("1985-13-02") is None
    assert year_of_birth("") is None
    assert year_of_birth(None) is None
    assert year_of_birth("1812-01-01") is None


def test_normalize_employer_drops_legal_forms() -> None:
    assert normalize_employer("Randstad Nederland B.V.") == normalize_employer("randstad nederland bv")
    assert normalize_employer("ING Bank N.V.") == "ing bank"


@pytest.mark.parametrize("possible", [False, True])
def test_e164_fast_path_agrees_with_phonenumbers(possible: bool) -> None:
    """The NL fast path says what phonenumbers says: a valid number by default; with `possible`, any number of the
    right length (a match key, whatever the numbering plan allocates)."""
    accepts = phonenumbers.is_possible_number if possible else phonenumbers.is_valid_number
    rng = random.Random(6 if possible else 5)
    for _ in range(3000):
        nsn = str(rng.randrange(100_000_000, 999_999_999))
        raw = rng.choice((f"0{nsn}", f"+31{nsn}", f"0031{nsn}", f"+31(0){nsn}"))
        number = phonenumbers.parse("0" + nsn, "NL")
        expected: str | None = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if not accepts(number) or len(set(nsn[-7:])) == 1 or nsn.endswith(("12345678", "87654321", "1234567")):
            expected = None
        assert e164(raw, possible=possible) == expected, raw


def test_an_unallocated_but_possible_number_is_a_key_only_when_possible_numbers_are() -> None:
    assert e164("06-98765412") is None and e164("06-98765412", possible=True) == "+31698765412"
    assert e164("0612", possible=True) is None  # too short for any Dutch number
    assert e164("06-00000000", possible=True) is None  # placeholders stay out


@pytest.mark.parametrize(("first", "last", "key"), [
    ("S.W.", "van Os", "s os"),  # initials, not the 's of 's-Gravesande
    ("D.J.", "Hendriks", "d hendriks"),
    ("T.", "Hart", "t hart"),
    ("Jan v.d.", "Berg", "jan berg"),  # after a name, single letters are an abbreviated particle
    ("Jan van der", "Berg", "jan berg"),
    ("v.d.", "Berg", "berg"),
])
def test_single_letters_leading_a_first_name_field_are_initials(first: str, last: str, key: str) -> None:
    assert name_key("", first, last) == key
    parts = split_name("", first, last)
    assert " ".join(x for x in (parts.given[:1] + parts.core[-1:]) if x) == key
