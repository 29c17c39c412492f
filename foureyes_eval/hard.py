"""The `hard` profile of the generator: the duplicates and look-alikes that real Dutch candidate data holds.

Names follow rough real frequencies (`names_nl`): common Dutch surnames as common as they are, the
Turkish, Moroccan, Surinamese, Polish and Indonesian names frequent in the Netherlands, a long tail
of rare names; Polish surnames gendered, women sometimes under a double (married) surname.
About 30% of phone numbers are possible but in an unallocated range (06-0…, 06-7…, 06-9…); agencies'
shared inboxes (`cv@uitzendbureau.nl`) and switchboard numbers sit on many people's records.

Shapes (true duplicates unless marked as a hard negative):
- `unique`: one record;
- `email`: the same address typed differently (case, gmail dots and `+suffix`, googlemail);
- `phone`: the same number in an allocated range, a new e-mail and employer;
- `phone_unallocated`: the same, the number in an unallocated but possible range;
- `name_dob`: the same name (in another written form) and the same full date of birth, nothing else;
- `name_typo_dob`: one typo, a dropped accent or a re-ordered tussenvoegsel ("Berg van der"), same
  full date of birth, nothing else;
- `name_yob`: the same name and year of birth, another day/month (swapped, careless 1 January, a
  mistyped day or month), nothing else;
- `married_name`: a woman under her own and her double or partner's surname ("de Vries" /
  "Jansen-de Vries"), same full date of birth; when the surnames share no part, a shared contact;
- `initials`: initials only on one record ("J.P. de Vries"), the same full date of birth, often the
  same employer;
- `namesake` (hard negative): different people with a common name born in the same year;
- `namesake_dob` (hard negative): different people with a common name and the same full date of
  birth, with different contact details and employers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import TypeVar

from foureyes.ats.registry import SYSTEMS
from foureyes.model import Candidate
from foureyes_eval import names_nl
from foureyes_eval.generate import render_email
from foureyes_eval.names_nl import WeightedNames, fold

T = TypeVar("T")

HARD_SHAPES: tuple[str, ...] = (
    "unique", "email", "phone", "phone_unallocated", "name_dob", "name_typo_dob", "name_yob", "married_name",
    "initials", "namesake", "namesake_dob",
)  # fmt: skip
NEGATIVE_SHAPES = frozenset({"unique", "namesake", "namesake_dob"})

# Staffing agencies whose shared inboxes and switchboards end up on candidates' records
AGENCIES: tuple[tuple[str, str], ...] = (
    ("cv@uitzendbureau.nl", "0201234560"), ("info@flexwerk.nl", "0882001000"),
    ("vacatures@werkplein-noord.nl", "0503115500"), ("sollicitaties@techniekpersoneel.nl", "0884400200"),
    ("planning@zorgflex.nl", "0302887700"), ("cv@logistiekuitzend.nl", "0104206060"),
    ("info@bouwpersoneel.nl", "0884102030"), ("cv@horecaflex.nl", "0207712345"),
    ("aanmelden@studentenwerk.nl", "0715161718"), ("cv@metaalvakmensen.nl", "0402345678"),
    ("inschrijven@schoonmaakdiensten.nl", "0703650400"), ("cv@productiewerk.nl", "0534888200"),
    ("info@transportpool.nl", "0786151515"), ("cv@kantoorkrachten.nl", "0235317000"),
    ("werk@oostflex.nl", "0263510000"), ("cv@groenpersoneel.nl", "0174283000"),
    ("info@zuidwerkt.nl", "0433250000"), ("cv@havenwerkers.nl", "0102990000"),
    ("jobs@itdetachering.nl", "0880330330"), ("cv@callcenterkrachten.nl", "0356210000"),
)  # fmt: skip
_AGENCY_WEIGHTS = tuple(round(100 / (1 + 0.5 * i)) for i in range(len(AGENCIES)))
_PERSONAL_DOMAINS = (
    ("gmail.com", 40), ("hotmail.com", 18), ("outlook.com", 10), ("live.nl", 6), ("ziggo.nl", 7), ("kpnmail.nl", 6),
    ("yahoo.com", 5), ("icloud.com", 5), ("xs4all.nl", 3),
)  # fmt: skip
_AREA_CODES = ("10", "20", "30", "40", "70", "13", "15", "23", "24", "26", "35", "36", "38", "43", "45", "46",
               "50", "53", "58", "71", "72", "73", "74", "75", "76", "77", "78", "79")  # fmt: skip
_UNALLOCATED_MOBILE = "079"  # 06-0…, 06-7…, 06-9…: possible (9 digits) but not in an allocated range
_ALLOCATED_MOBILE = "12345688"
_PLACEHOLDER_EMAILS = ("geen@geen.nl", "noemail@example.com", "nvt@nvt.nl")
_PLACEHOLDER_PHONES = ("06-00000000", "0612345678", "0000000000")
_PARTICLES = frozenset({"van", "de", "der", "den", "'t", "ter", "ten", "op", "in", "te", "het", "el", "ait"})


@dataclass(frozen=True, slots=True)
class HardMix:
    """Share of persons per shape (the rest are unique) and the rates of the realistic mess."""

    email: float = 0.07
    phone: float = 0.07  # split into phone / phone_unallocated by the number's range
    name_dob: float = 0.035
    name_typo_dob: float = 0.035
    name_yob: float = 0.035
    married_name: float = 0.025
    initials: float = 0.025
    namesake_groups: float = 0.025
    # of namesake groups (born the same year): two people share the full date with odds 1/365, and a group
    # of 2, 2, 3 or 4 holds 2.75 pairs on average: about 0.75% of the groups (was 35%: hundreds of such
    # pairs, far more than a real base of that size holds)
    namesake_same_dob: float = 0.0075
    unallocated_mobile: float = 0.355  # of mobile numbers (mobiles are 85% of numbers: ~30% overall)
    landline: float = 0.15
    double_surname: float = 0.08  # of women, who carry "partner-own" as their surname everywhere
    typo: float = 0.04
    accents_dropped: float = 0.3
    initials_mess: float = 0.04
    missing_dob: float = 0.10
    missing_email: float = 0.12
    missing_phone: float = 0.18
    placeholder: float = 0.1  # of missing contact fields
    agency_inbox: float = 0.015
    agency_phone: float = 0.015
    employer_known: float = 0.7


@dataclass(frozen=True, slots=True)
class _Person:
    given: tuple[str, ...]
    surname: str  # as normally written: "van der Berg", "Jansen-de Vries"
    female: bool
    dob: date
    email: str
    phone: str
    employer: str
    own_surname: str = ""  # for married women: the birth surname
    partner_surname: str = ""


@lru_cache(maxsize=1 << 16)
def _compact(s: str) -> str:
    return "".join(c for c in fold(s).lower() if c.isalnum())


@lru_cache(maxsize=1 << 12)
def _split_particles(surname: str) -> tuple[str, str]:
    """("van der", "Berg") for "van der Berg"; ("", "Jansen-de Vries") for a double name."""
    words = surname.split()
    n = 0
    while n < len(words) - 1 and words[n].lower() in _PARTICLES:
        n += 1
    return " ".join(words[:n]), " ".join(words[n:])


def _email_key(address: str) -> str:
    local, _, domain = address.lower().partition("@")
    if domain in ("gmail.com", "googlemail.com"):
        return local.partition("+")[0].replace(".", "") + "@gmail.com"
    return f"{local}@{domain}"


def unallocated(phone: str) -> bool:
    """Whether a generated Dutch mobile number ("06…") lies in an unallocated range."""
    return phone.startswith("06") and phone[2] in _UNALLOCATED_MOBILE


class _Rng(random.Random):
    """`random.Random` with choice/randrange/randint drawn from one `random()` call each: about three times
    faster than the exact-uniform versions, and uniform enough for test data (the same seed, the same data)."""

    def choice(self, seq: Sequence[T]) -> T:  # type: ignore[override]
        return seq[int(self.random() * len(seq))]

    def randrange(self, start: int, stop: int | None = None) -> int:  # type: ignore[override]
        if stop is None:
            return int(self.random() * start)
        return start + int(self.random() * (stop - start))

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))


class HardGenerator:
    def __init__(self, seed: int, employers: list[str], mix: HardMix | None = None) -> None:
        self.rng = _Rng(seed)
        self.mix = mix or HardMix()
        self.employers = employers
        self.dutch = WeightedNames(list(names_nl.DUTCH_SURNAMES) + _dutch_tail())
        self.dutch_male = WeightedNames(names_nl.DUTCH_GIVEN_MALE)
        self.dutch_female = WeightedNames(names_nl.DUTCH_GIVEN_FEMALE)
        origins = names_nl.FOREIGN_ORIGINS
        foreign = sum(o.share for o in origins)
        self.origins = WeightedNames([("dutch", 1 - foreign), *((o.name, o.share) for o in origins)])
        self.surnames = {"dutch": self.dutch, **{o.name: WeightedNames(o.surnames) for o in origins}}
        self.male = {"dutch": self.dutch_male, **{o.name: WeightedNames(o.male) for o in origins}}
        self.female = {"dutch": self.dutch_female, **{o.name: WeightedNames(o.female) for o in origins}}
        self.used_emails: set[str] = set()
        self.used_phones: set[str] = set()
        self.ids = dict.fromkeys(SYSTEMS, 0)
        self.domains = WeightedNames(_PERSONAL_DOMAINS)
        self.agencies = WeightedNames([(str(i), w) for i, w in enumerate(_AGENCY_WEIGHTS)])
        self.partner_origin = WeightedNames([("dutch", 80), *((o.name, 20 * o.share) for o in origins)])

    # -- people -------------------------------------------------------------------------------
    def _origin(self) -> str:
        return self.origins.draw(self.rng)

    def _given(self, origin: str, female: bool) -> tuple[str, ...]:
        names = (self.female if female else self.male)[origin]
        first = names.draw(self.rng)
        if origin == "dutch" and self.rng.random() < 0.2:  # a second given name
            second = names.draw(self.rng)
            if second != first:
                return first, second
        return (first,)

    def _dob(self, year: int | None = None) -> date:
        year = year or self.rng.randint(1958, 2006)
        return date(year, 1, 1) + timedelta(days=self.rng.randrange(365))

    def _email(self, given: str, surname: str, domain: str | None = None) -> str:
        rng = self.rng
        g, s = _compact(given), _compact(surname)
        domain = domain or self.domains.draw(rng)
        for attempt in range(200):
            local = rng.choice((f"{g}.{s}", f"{g[:1]}.{s}", f"{g}{s}", f"{s}.{g}", f"{g}_{s}", f"{g[:1]}{s}"))
            if rng.random() < 0.6 or attempt:
                local += str(rng.randrange(10 ** (1 + attempt // 20)))
            address = f"{local}@{domain}"
            key = _email_key(address)
            if key not in self.used_emails:
                self.used_emails.add(key)
                return address
        raise RuntimeError("could not find an unused e-mail address")  # pragma: no cover

    def _work_email(self, given: str, surname: str, employer: str) -> str:
        domain = _compact(employer.split(" B.V.")[0].split(" N.V.")[0])[:20] or "werk"
        return self._email(given, surname, f"{domain}.nl")

    def _phone(self) -> str:
        rng, mix = self.rng, self.mix
        while True:
            if rng.random() < mix.landline:
                area = rng.choice(_AREA_CODES)
                nsn = area + f"{rng.randrange(10 ** (9 - len(area))):0{9 - len(area)}d}"
            else:
                second = rng.choice(_UNALLOCATED_MOBILE if rng.random() < mix.unallocated_mobile else _ALLOCATED_MOBILE)
                nsn = "6" + second + f"{rng.randrange(10**7):07d}"
            subscriber = nsn[-7:]
            if len(set(subscriber)) == 1 or nsn.endswith(("1234567", "7654321")) or nsn in self.used_phones:
                continue
            self.used_phones.add(nsn)
            return "0" + nsn

    def person(
        self,
        *,
        origin: str | None = None,
        female: bool | None = None,
        given: tuple[str, ...] | None = None,
        surname: str | None = None,
        dob: date | None = None,
        year: int | None = None,
        married: bool = False,
    ) -> _Person:
        rng = self.rng
        origin = origin or self._origin()
        female = rng.random() < 0.5 if female is None else female
        given = given or self._given(origin, female)
        own = surname or names_nl.gendered(self.surnames[origin].draw(rng), female)
        partner = ""
        written = own
        if female and (married or (surname is None and rng.random() < self.mix.double_surname)):
            partner = self.surnames[self.partner_origin.draw(rng)].draw(rng)
            if partner == own:
                partner = self.dutch.draw(rng)
            if not married:
                written = f"{partner}-{own}"
        employer = rng.choice(self.employers)
        return _Person(
            given, written, female, dob or self._dob(year), self._email(given[0], written), self._phone(), employer,
            own if partner else "", partner,
        )  # fmt: skip

    def moved_on(self, p: _Person, *, new_email: bool, new_phone: bool, new_employer: bool) -> _Person:
        """The same person later: another job, another address or number."""
        rng = self.rng
        employer = p.employer
        while new_employer and employer == p.employer:
            employer = rng.choice(self.employers)
        email = p.email
        if new_email:
            email = (
                self._work_email(p.given[0], p.surname, employer)
                if rng.random() < 0.5
                else self._email(p.given[0], p.surname)
            )
        return replace(p, email=email, phone=self._phone() if new_phone else p.phone, employer=employer)

    # -- rendering ----------------------------------------------------------------------------
    def _typo(self, s: str) -> str:
        rng = self.rng
        if len(s) < 4:
            return s + rng.choice("enrs")
        i = rng.randrange(1, len(s) - 1)
        op = rng.randrange(4)
        if op == 0:
            out = s[:i] + s[i + 1 :]
        elif op == 1:
            out = s[:i] + s[i + 1] + s[i] + s[i + 2 :]
        elif op == 2:
            out = s[:i] + s[i] + s[i:]
        else:
            out = s[:i] + rng.choice("aeioulnrst") + s[i + 1 :]
        return out if out != s else s[:i] + "x" + s[i + 1 :]

    def _last_field(self, surname: str) -> str:
        """The surname as a last-name field: "van der Berg", "Berg, van der", "v.d. Berg", "Van der Berg", caps."""
        prefix, core = _split_particles(surname)
        r = self.rng.random()
        if not prefix:
            return surname.upper() if r < 0.05 else surname
        if r < 0.5:
            return surname
        if r < 0.7:
            return f"{core}, {prefix}"
        if r < 0.8 and prefix in ("van der", "van den", "van de"):
            return f"{self.rng.choice(('v.d.', 'vd', 'v/d'))} {core}"
        if r < 0.92:
            return prefix.capitalize() + " " + core
        return surname.upper()

    def _name_fields(self, given: list[str], surname: str, reorder: bool) -> tuple[str, str, str]:
        """(first_name, last_name, full_name) in one of the ways the three systems hold names."""
        rng = self.rng
        given_text = " ".join(given) if len(given) == 1 or rng.random() < 0.5 else given[0]
        if reorder:  # tussenvoegsel after the surname, no comma: "Berg van der"
            prefix, core = _split_particles(surname)
            return given_text, f"{core} {prefix}", ""
        style = rng.random()
        if style < 0.5:
            return given_text, self._last_field(surname), ""
        if style < 0.85:
            return "", "", f"{given_text} {surname}"
        prefix, core = _split_particles(surname)
        return "", "", f"{core}, {given_text} {prefix}".strip()

    def render(
        self,
        p: _Person,
        *,
        surname: str | None = None,
        change: str = "",
        clean: bool = False,
        initials: bool = False,
        keep_dob: bool = False,
        dob: date | None = None,
        exact_contact: bool = False,
        employer_known: float | None = None,
    ) -> Candidate:
        """One ATS record of `p`. `change`: "typo", "accent" or "reorder" (exactly that one change);
        `clean`: no random name mess (the shape controls the name); `initials`: given names as initials."""
        rng, mix = self.rng, self.mix
        system = rng.choice(SYSTEMS)
        self.ids[system] += 1
        record_id = {"bullhorn": "{}", "otys": "OT{:07d}", "carerix": "CX-{}"}[system].format(self.ids[system])
        given = list(p.given)
        last = surname or p.surname
        if change == "typo":
            if rng.random() < 0.5:
                given[0] = self._typo(given[0])
            else:
                prefix, core = _split_particles(last)
                last = f"{prefix} {self._typo(core)}".strip()
        elif change == "accent":
            given, last = [fold(g) for g in given], fold(last)
        elif not clean:
            if rng.random() < mix.typo:
                given[0] = self._typo(given[0])
            if rng.random() < mix.accents_dropped:
                given, last = [fold(g) for g in given], fold(last)
            initials = initials or rng.random() < mix.initials_mess
        if initials:
            given = [".".join(g[0] for g in given) + "."]
        first_name, last_name, full_name = self._name_fields(given, last, change == "reorder")
        emails: list[str] = []
        if exact_contact or rng.random() >= mix.missing_email:
            emails.append(render_email(self.rng, p.email))
        elif rng.random() < mix.placeholder:
            emails.append(rng.choice(_PLACEHOLDER_EMAILS))
        if rng.random() < mix.agency_inbox:  # the agency that sent the CV left its own inbox
            agency = AGENCIES[int(self.agencies.draw(rng))][0]
            emails = [*emails, agency] if exact_contact or rng.random() < 0.4 else [agency]
        phones: list[str] = []
        if exact_contact or rng.random() >= mix.missing_phone:
            phones.append(self._render_phone(p.phone))
        elif rng.random() < mix.placeholder:
            phones.append(rng.choice(_PLACEHOLDER_PHONES))
        if rng.random() < mix.agency_phone:
            switchboard = self._render_phone(AGENCIES[int(self.agencies.draw(rng))][1])
            phones = [*phones, switchboard] if exact_contact or rng.random() < 0.4 else [switchboard]
        record_dob = dob or (p.dob if keep_dob or rng.random() >= mix.missing_dob else None)
        known = mix.employer_known if employer_known is None else employer_known
        return Candidate(
            system=system,
            record_id=record_id,
            first_name=first_name,
            last_name=last_name,
            full_name=full_name,
            emails=tuple(emails),
            phones=tuple(phones),
            dob=record_dob,
            employer=p.employer if rng.random() < known else "",
            status=rng.choice(("new", "active", "placed", "inactive")),
        )

    def _render_phone(self, phone: str) -> str:
        nsn = phone[1:]
        if nsn.startswith("6"):
            cut = 1
        else:
            cut = 2 if nsn[:2] in _AREA_CODES or nsn.startswith("8") else 3
        a, b = nsn[:cut], nsn[cut:]
        return self.rng.choice(
            (
                f"0{nsn}", f"0{a}-{b}", f"0{a} {b[:4]} {b[4:]}", f"+31 {a} {b[:4]} {b[4:]}", f"+31(0){a}-{b}",
                f"+31{nsn}", f"0031{nsn}", f"(0{a}) {b}", f"0{a}-{b[:2]} {b[2:4]} {b[4:6]} {b[6:]}",
            )
        )  # fmt: skip

    # -- shapes -------------------------------------------------------------------------------
    def _other_day(self, dob: date) -> date:
        """The same year, another day or month: swapped day/month, a careless 1 January, a mistyped digit."""
        rng = self.rng
        for _ in range(20):
            r = rng.random()
            if r < 0.3 and dob.day <= 12 and dob.day != dob.month:
                other = date(dob.year, dob.day, dob.month)
            elif r < 0.45:
                other = date(dob.year, 1, 1)
            elif r < 0.8:
                other = dob.replace(day=max(1, min(28, dob.day + rng.choice((-10, -9, -1, 1, 9, 10)))))
            else:
                other = dob.replace(month=rng.randint(1, 12), day=min(dob.day, 28))
            if other != dob:
                return other
        return date(dob.year, 1, 1) if dob != date(dob.year, 1, 1) else date(dob.year, 12, 31)

    def _namesake_group(self, cid: str) -> list[tuple[Candidate, str, str]]:
        rng = self.rng
        origin = rng.choices(("dutch", "turkish", "moroccan"), (0.7, 0.15, 0.15))[0]
        female = rng.random() < 0.5
        given = ((self.female if female else self.male)[origin]).top(6)
        surnames = self.surnames[origin].top(10)
        name_given = (rng.choice(given),)
        name_surname = names_nl.gendered(rng.choice(surnames), female)
        year = rng.randint(1960, 2004)
        same_dob = rng.random() < self.mix.namesake_same_dob
        shape = "namesake_dob" if same_dob else "namesake"
        shared_dob = self._dob(year) if same_dob else None
        out: list[tuple[Candidate, str, str]] = []
        employers: set[str] = set()
        for k in range(rng.choice((2, 2, 3, 4))):
            p = self.person(origin=origin, female=female, given=name_given, surname=name_surname, dob=shared_dob,
                            year=year)  # fmt: skip
            while p.employer in employers:
                p = replace(p, employer=rng.choice(self.employers))
            employers.add(p.employer)
            out.append((self.render(p, clean=True, keep_dob=True), f"{cid}.{k}", shape))
        return out

    def _married(self, p: _Person) -> list[Candidate]:
        rng = self.rng
        own, partner = p.own_surname, p.partner_surname
        sep = rng.choice(("-", "-", "-", " - ", " "))
        double_pf, double_of = f"{partner}{sep}{own}", f"{own}{sep}{partner}"
        forms = rng.choices(
            ((own, double_pf), (own, double_of), (double_pf, partner), (double_pf, double_of), (own, partner)),
            (0.4, 0.15, 0.2, 0.1, 0.15),
        )[0]
        later = self.moved_on(p, new_email=True, new_phone=True, new_employer=rng.random() < 0.5)
        if forms == (own, partner):  # nothing of the surname in common: a contact detail is
            later = replace(later, email=p.email) if rng.random() < 0.5 else replace(later, phone=p.phone)
        return [
            self.render(p, surname=forms[0], clean=True, keep_dob=True, exact_contact=True),
            self.render(later, surname=forms[1], clean=True, keep_dob=True, exact_contact=True),
        ]

    def clusters(self, n: int) -> list[tuple[Candidate, str, str]]:
        rng, mix = self.rng, self.mix
        out: list[tuple[Candidate, str, str]] = []
        bounds = []
        acc = 0.0
        for share in (mix.namesake_groups, mix.email, mix.phone, mix.name_dob, mix.name_typo_dob, mix.name_yob,
                      mix.married_name, mix.initials):  # fmt: skip
            acc += share
            bounds.append(acc)
        cluster_no = 0
        while len(out) < n:
            cluster_no += 1
            cid = f"h{cluster_no}"
            r = rng.random()
            if r < bounds[0]:
                out.extend(self._namesake_group(cid))
                continue
            if r < bounds[1]:
                p = self.person()
                shape, records = "email", [self.render(p, exact_contact=True)]
                for _ in range(2 if rng.random() < 0.15 else 1):
                    later = self.moved_on(p, new_email=False, new_phone=rng.random() < 0.6,
                                          new_employer=rng.random() < 0.5)  # fmt: skip
                    records.append(self.render(later, exact_contact=True))
            elif r < bounds[2]:
                p = self.person()
                shape = "phone_unallocated" if unallocated(p.phone) else "phone"
                records = [self.render(p, exact_contact=True)]
                for _ in range(2 if rng.random() < 0.15 else 1):
                    later = self.moved_on(p, new_email=True, new_phone=False, new_employer=True)
                    records.append(self.render(later, exact_contact=True))
            elif r < bounds[5]:
                p = self.person()
                later = self.moved_on(p, new_email=True, new_phone=True, new_employer=True)
                first = self.render(p, clean=True, keep_dob=True)
                if r < bounds[3]:
                    shape, second = "name_dob", self.render(later, clean=True, keep_dob=True)
                elif r < bounds[4]:
                    shape = "name_typo_dob"
                    name = " ".join(p.given) + " " + p.surname
                    changes = ["typo", "typo"]
                    changes.append("accent" if fold(name) != name else "typo")
                    changes.append("reorder" if _split_particles(p.surname)[0] else "typo")
                    second = self.render(later, change=rng.choice(changes), keep_dob=True)
                else:
                    shape, second = "name_yob", self.render(later, clean=True, dob=self._other_day(p.dob))
                records = [first, second]
            elif r < bounds[6]:
                p = self.person(female=True, married=True)
                shape, records = "married_name", self._married(p)
            elif r < bounds[7]:
                p = self.person()
                later = self.moved_on(p, new_email=True, new_phone=True, new_employer=rng.random() < 0.4)
                shape = "initials"
                records = [
                    self.render(p, clean=True, keep_dob=True, employer_known=0.9),
                    self.render(later, clean=True, initials=True, keep_dob=True, employer_known=0.9),
                ]
                if rng.random() < 0.5:
                    records.reverse()
            else:
                shape, records = "unique", [self.render(self.person())]
            out.extend((c, cid, shape) for c in records)
        return out[:n]


@lru_cache(maxsize=1)
def _dutch_tail() -> list[tuple[str, int]]:
    return names_nl.dutch_tail()
