"""Normalised keys of a candidate record (SPEC "Reconciliation / Normalised key of a record").

Pure functions, no I/O. Names are Dutch-aware: the tussenvoegsels (van, van der, de, ter, 't, ...)
are recognised in every common spelling ("van der Berg", "Berg, van der", "v.d. Berg",
"Berg, Jan van der"), so the name key compares the given name with the surname *core*.

Hot paths are cached with `functools.lru_cache` (names repeat a lot) and the common Dutch phone
formats take a string fast path that gives exactly what `phonenumbers` gives (a test checks it);
everything else goes through `phonenumbers`, cached.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

import phonenumbers

__all__ = [
    "NameParts",
    "PARTICLES",
    "canonical_email",
    "e164",
    "fuzzy_name_key",
    "phonetic_name_key",
    "soundex",
    "name_key",
    "normalize_employer",
    "normalize_name",
    "normalize_text",
    "split_name",
    "year_of_birth",
]

# Letters NFD does not decompose into "base letter + combining mark".
_TRANSLITERATE = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "ĳ": "ij",
    }
)
_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_SEPARATORS = re.compile(r"[\W_]+")  # hyphens, dots, slashes, ... become a space (\w is Unicode-aware)

# Tussenvoegsels and the foreign particles common in Dutch ATS data, as single tokens after
# normalisation ("'t" -> "t", "'s" -> "s", "d'" -> "d").
PARTICLES: frozenset[str] = frozenset(
    "van de der den het t ter ten te in op uit aan bij voor onder over s "
    "la le les du des d von vom zu zum zur da di del della dos das y".split()
)
# Abbreviated particles, expanded: "v.d." and "vd" -> "van der", "v." -> "van", "vd." too.
_ABBREVIATIONS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("v", "d"): ("van", "der"),
    ("v", "der"): ("van", "der"),
    ("v", "den"): ("van", "den"),
    ("v", "de"): ("van", "de"),
    ("vd",): ("van", "der"),
    ("vdr",): ("van", "der"),
    ("v",): ("van",),
}
_SYNONYMS = {"het": "t"}  # "van het Hof" and "van 't Hof" are the same name


@lru_cache(maxsize=1 << 17)
def normalize_text(s: str) -> str:
    """NFD, drop combining marks, lower-case, punctuation to spaces, trim, collapse whitespace.

    Apostrophes are dropped ("O'Brien" -> "obrien", "'t" -> "t"); hyphens, dots and other
    separators become spaces ("Jan-Willem" -> "jan willem", "v.d." -> "v d").
    """
    if not s:
        return ""
    if not s.isascii():
        s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
        s = s.lower().translate(_TRANSLITERATE)
    else:
        s = s.lower()
    s = _APOSTROPHES.sub("", s)
    return " ".join(_SEPARATORS.sub(" ", s).split())


def _expand(tokens: list[str]) -> list[str]:
    """Expand abbreviated particles ("v d" -> "van der") and map synonyms ("het" -> "t")."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for width in (2, 1):
            chunk = tuple(tokens[i : i + width])
            # a lone "v" is only a particle when a surname follows it
            if len(chunk) == width and chunk in _ABBREVIATIONS and i + width < len(tokens):
                out.extend(_ABBREVIATIONS[chunk])
                i += width
                break
        else:
            out.append(_SYNONYMS.get(tokens[i], tokens[i]))
            i += 1
    return out


class NameParts(NamedTuple):
    """A name split into given names, particles (tussenvoegsels) and the surname core, all normalised."""

    given: tuple[str, ...]
    particles: tuple[str, ...]
    core: tuple[str, ...]
    surname: tuple[str, ...] = ()  # particles and core in their written order

    @property
    def full(self) -> str:
        return " ".join(self.given + (self.surname or self.particles + self.core))


def _split_surname(tokens: list[str]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(particles, core, all) of a surname's tokens; particles anywhere in a double name leave the core."""
    tokens = _expand(tokens)
    particles = tuple(t for t in tokens if t in PARTICLES)
    core = tuple(t for t in tokens if t not in PARTICLES)
    if not core:  # a surname made only of particle-like words: keep it whole
        return (), tuple(tokens), tuple(tokens)
    return particles, core, tuple(tokens)


def _split_surname_field(last: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """A last-name field: "van der Berg", "Berg, van der", "v.d. Berg", "Berg v.d."."""
    if "," in last:
        head, _, tail = last.partition(",")
        last = f"{tail} {head}"
    return _split_surname(normalize_text(last).split())


@lru_cache(maxsize=1 << 17)
def _split_full(full: str) -> NameParts:
    if "," in full:
        # "Berg, Jan van der" / "de Jong, J." / "Berg, van der Jan": surname before the comma
        head, _, tail = full.partition(",")
        surname_tokens = normalize_text(head).split()
        rest = _expand(normalize_text(tail).split())
        given = tuple(t for t in rest if t not in PARTICLES)
        leading = [t for t in rest if t in PARTICLES]
        return NameParts(given, *_split_surname(leading + surname_tokens))
    tokens = _expand(normalize_text(full).split())
    if not tokens:
        return NameParts((), (), (), ())
    if len(tokens) == 1:
        return NameParts((), (), tuple(tokens), tuple(tokens))
    # the surname starts at the first particle after the first given name, else it is the last token
    start = next((i for i in range(1, len(tokens) - 1) if tokens[i] in PARTICLES), len(tokens) - 1)
    return NameParts(tuple(tokens[:start]), *_split_surname(tokens[start:]))


@lru_cache(maxsize=1 << 17)
def _split_fields(first: str, last: str) -> NameParts:
    tokens = _expand(normalize_text(first).split())
    # particles typed into the first-name field ("Jan van der" + "Berg") belong to the surname; leading single
    # letters there are initials ("S.W.", "D.J."), not the "'s" or "'t" of a surname
    initials = _leading_initials(tokens)
    given = tuple(t for k, t in enumerate(tokens) if k < initials or t not in PARTICLES or not last)
    stray = [t for k, t in enumerate(tokens) if k >= initials and t in PARTICLES] if last else []
    surname = _split_surname_field(last)
    if stray:
        surname = _split_surname(stray + list(surname[2]))
    return NameParts(given, *surname)


def split_name(full_name: str = "", first_name: str = "", last_name: str = "") -> NameParts:
    """Split a name given either as one string or as first + last name fields.

    The separate fields win when a last name is present (they carry more structure).
    """
    if last_name.strip():
        return _split_fields(first_name, last_name)
    if full_name.strip():
        return _split_full(full_name)
    return _split_full(first_name)


def normalize_name(s: str) -> str:
    """The canonical full name: "Berg, Jan van der" -> "jan van der berg", "v.d. Berg" -> "van der berg"."""
    return split_name(full_name=s).full


# particles for the name key, plus the abbreviations before expansion ("v", "vd", "vdr")
_KEY_PARTICLES = PARTICLES | {"v", "vd", "vdr", "het"}


@lru_cache(maxsize=1 << 17)
def _tokens(s: str) -> tuple[str, ...]:
    return tuple(normalize_text(s).split())


def _leading_initials(tokens: Sequence[str]) -> int:
    """How many single letters a first-name field starts with: initials ("S.W." is Sanne Wilhelmina, not the
    "'s" of 's-Gravesande), where a single letter after a name is an abbreviated particle ("Jan v.d.")."""
    if tuple(tokens[:2]) == ("v", "d"):  # "v.d.": van der / van den, as before
        return 0
    k = 0
    while k < len(tokens) and len(tokens[k]) == 1:
        k += 1
    return k


def _first_given(tokens: Sequence[str]) -> str:
    """The first given name of a first-name field (particles typed there belong to the surname)."""
    if _leading_initials(tokens):
        return tokens[0]
    for t in tokens:
        if t not in _KEY_PARTICLES:
            return t
    return ""


def _last_core(tokens: Sequence[str]) -> str:
    for t in reversed(tokens):
        if t not in _KEY_PARTICLES:
            return t
    return tokens[-1] if tokens else ""


@lru_cache(maxsize=1 << 16)
def _surname_core(last: str) -> str:
    head, comma, _ = last.partition(",")
    return _last_core(_tokens(head if comma else last))


def _key(given: str, core: str) -> str:
    return f"{given} {core}" if given and core else core


def name_key(full_name: str = "", first_name: str = "", last_name: str = "") -> str:
    """The name compared for "same name": first given name + surname core, particles dropped.

    "Jan van der Berg", "Berg, Jan v.d.", "J.W. van der Berg" (-> "j berg") and "Jan Berg" give
    "jan berg" (or "j berg"). Of a double surname only the last part counts ("Jansen-de Vries" ->
    "vries", "Oude Heer" -> "heer"): a full name cannot tell a second given name from the first part
    of a double surname, the separate fields can, and both must give the same key. Empty without a surname.
    Consistent with `split_name` (first of `given`, last of `core`), computed without building it.
    """
    if last_name and not last_name.isspace():
        return _key(_first_given(_tokens(first_name)), _surname_core(last_name))
    text = full_name if full_name and not full_name.isspace() else first_name
    if "," in text:
        head, _, tail = text.partition(",")
        return _key(_first_given(_tokens(tail)), _last_core(_tokens(head)))
    tokens = [t for raw in text.split() for t in _tokens(raw)]  # per-word cache: words repeat, names do not
    if len(tokens) < 2:
        return tokens[0] if tokens else ""
    return _key(tokens[0] if tokens[0] not in _KEY_PARTICLES else "", _last_core(tokens[1:]))


def fuzzy_name_key(key: str) -> str:
    """Blocking value for fuzzy-name recall: initial of the given name + surname core ("j|berg")."""
    given, _, core = key.rpartition(" ")
    return f"{given[:1]}|{core}" if core else ""


_SOUNDEX = {c: d for letters, d in (("bfpv", "1"), ("cgjkqsxz", "2"), ("dt", "3"), ("l", "4"), ("mn", "5"), ("r", "6"))
            for c in letters}


@lru_cache(maxsize=1 << 16)
def soundex(word: str) -> str:
    """American Soundex of a normalised word ("robert", "rupert" -> "R163"; "" without letters).

    Eight lines, so written here rather than a dependency: the first letter, then the consonant classes,
    a class repeated (also across "h" and "w") counting once, vowels separating, padded to four.
    """
    letters = [c for c in word if "a" <= c <= "z"]
    if not letters:
        return ""
    out = [letters[0].upper()]
    last = _SOUNDEX.get(letters[0], "")
    for c in letters[1:]:
        code = _SOUNDEX.get(c, "")
        if code and code != last:
            out.append(code)
        if c not in "hw":
            last = code
    return "".join(out)[:4].ljust(4, "0")


def phonetic_name_key(key: str) -> str:
    """The Soundex codes of a name key's words, sorted ("jan berg" and "berg jahn" -> "B620 J500"): a blocking
    value robust to typos after the first letter, to given name and surname swapped, and to a missing given name
    matching another record's missing given name."""
    return " ".join(sorted(soundex(word) for word in key.split()))


_EMAIL_SHAPE = re.compile(r"^[^\s@]+@(?:[^\s@.]+\.)+[^\s@.]{2,}$")
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_PLACEHOLDER_LOCALS = frozenset(
    {
        "noemail",
        "no-email",
        "geen",
        "geenemail",
        "geen-email",
        "none",
        "nvt",
        "na",
        "n.v.t",
        "unknown",
        "onbekend",
        "test",
        "noreply",
        "no-reply",
        "donotreply",
        "x",
        "xx",
        "xxx",
    }
)
_PLACEHOLDER_DOMAINS = frozenset({"example.com", "example.org", "example.net", "example.nl", "test.com", "test.nl"})


def canonical_email(s: str | None) -> str | None:
    """Trim and lower-case; for gmail (and googlemail) drop dots and any `+suffix` in the local part.

    Returns None for something that is not an address, or is a known placeholder ("geen@...",
    "noemail@...", "...@example.com"): placeholders would link unrelated people.
    """
    if not s:
        return None
    s = s.strip().lower()
    if s.startswith("mailto:"):
        s = s[7:]
    if not _EMAIL_SHAPE.match(s) or ".." in s:
        return None
    local, _, domain = s.rpartition("@")
    if domain in _GMAIL_DOMAINS:
        local = local.partition("+")[0].replace(".", "")
        domain = "gmail.com"
    if not local or local in _PLACEHOLDER_LOCALS or domain in _PLACEHOLDER_DOMAINS:
        return None
    return f"{local}@{domain}"


_PHONE_JUNK = re.compile(r"[\s\-./()]+")
_NL_MOBILE = re.compile(r"6[1-58]\d{7}")


def _placeholder_number(national: str) -> bool:
    subscriber = national[-7:]
    return len(set(subscriber)) == 1 or national.endswith(("12345678", "87654321", "1234567"))


@lru_cache(maxsize=1 << 10)
def _nl_prefix_valid(prefix3: str) -> bool:
    """Whether 9-digit Dutch numbers starting with these 3 digits are valid (phonenumbers metadata).

    Every NL number pattern for 9-digit national numbers is a prefix of at most 3 digits followed by
    free digits, so the answer for one representative is the answer for all.
    """
    number = phonenumbers.PhoneNumber(country_code=31, national_number=int(prefix3 + "000000"))
    return bool(phonenumbers.is_valid_number(number))


def _nl_fast(compact: str, possible: bool) -> str | None | bool:
    """E.164 for the usual Dutch spellings; False when the string needs the full parser.

    Every 9-digit Dutch national number not starting with 0 is *possible* (right length); `valid`
    also asks for an allocated range.
    """
    if compact.startswith("+31"):
        nsn = compact[3:]
    elif compact.startswith("0031"):
        nsn = compact[4:]
    elif compact.startswith("0") and not compact.startswith("00"):
        nsn = compact[1:]
    else:
        return False
    if len(nsn) == 10 and nsn.startswith("0") and compact[0] != "0":  # +31(0)6...
        nsn = nsn[1:]
    if len(nsn) != 9 or not nsn.isdigit() or not nsn.isascii():
        return False
    if nsn[0] == "0":
        return False
    if not possible and not (_NL_MOBILE.fullmatch(nsn) or _nl_prefix_valid(nsn[:3])):
        return None
    return None if _placeholder_number(nsn) else "+31" + nsn


@lru_cache(maxsize=1 << 16)
def _e164_slow(phone: str, region: str, possible: bool) -> str | None:
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    if not (phonenumbers.is_possible_number(number) if possible else phonenumbers.is_valid_number(number)):
        return None
    if _placeholder_number(str(number.national_number)):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def e164(phone: str | None, default_region: str = "NL", *, possible: bool = False) -> str | None:
    """E.164 form ("+31612345678") of a phone number typed in any common way, or None.

    "+31 6 1234 5678", "+31(0)6-12345678", "06-12345678", "0031612345678" all give "+31612345678".
    None for what is not a number of a valid (allocated) range, or with `possible=True` only for what
    does not even have the right length for its region (`phonenumbers.is_possible_number`): two
    records with the same digits are evidence whatever the numbering plan says. Obvious placeholders
    ("06-00000000", "06-12345678") give None either way: they would link unrelated people.
    """
    if not phone:
        return None
    compact = _PHONE_JUNK.sub("", phone.strip())
    if not compact:
        return None
    if default_region == "NL" or compact.startswith(("+31", "0031")):
        fast = _nl_fast(compact, possible)
        if fast is not False:
            return fast  # type: ignore[return-value]
    return _e164_slow(phone.strip(), default_region, possible)


_LEGAL_FORMS = frozenset({"bv", "nv", "vof", "cv", "holding", "groep", "group", "ltd", "inc", "gmbh", "bvba", "sa"})


@lru_cache(maxsize=1 << 14)
def normalize_employer(s: str) -> str:
    """Employer name for "same last employer": normalised text without legal forms ("B.V.", "N.V." ...)."""
    text = normalize_text(s.replace(".", ""))
    return " ".join(t for t in text.split() if t not in _LEGAL_FORMS)


_MIN_YEAR, _MAX_YEAR = 1900, 2100


def year_of_birth(dob: date | str | None) -> int | None:
    """Year of birth from a date or an ISO `YYYY-MM-DD` string; None when unknown or implausible."""
    if dob is None or dob == "":
        return None
    if isinstance(dob, datetime):
        year = dob.year
    elif isinstance(dob, date):
        year = dob.year
    else:
        text = dob.strip()
        if len(text) < 4 or not text[:4].isdigit():
            return None
        try:
            year = date.fromisoformat(text[:10]).year
        except ValueError:
            return None
    return year if _MIN_YEAR <= year <= _MAX_YEAR else None
