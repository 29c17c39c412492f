"""Seeded generator of Dutch candidate records spread over Bullhorn, Otys and Carerix, with ground truth.

Every record belongs to a true person (`cluster`); each cluster has a `shape`:
- `unique`: one record;
- `email` (SPEC shape 1): 2-3 records sharing an e-mail address (typed differently: case, spaces,
  gmail dots, `+suffix`, googlemail), sometimes also the phone;
- `phone` (shape 2): a new (work) e-mail address after a job change, same mobile number typed differently;
- `name_yob` (shape 3): a re-application years later with a new address and a new number: only the
  name (in another tussenvoegsel form), the date of birth and usually the last employer stay;
- `namesake` (shape 4): *different* people with the same common Dutch name ("Jan de Jong"), half
  of the groups born in the same year: one record each, and they must not be matched.

About 35% of surnames come from the twenty most common Dutch surnames; names come in every form the
three systems produce ("van der Berg", "Berg, van der", "v.d. Berg", "Berg, Jan van der", initials,
dropped accents, capitals), with a few typos; phones in every Dutch notation; some fields missing;
a few placeholder values ("geen@geen.nl", "06-00000000") that must not link anyone.
Only Faker's nl_NL word lists are used (seeded); the assembly uses `random.Random(seed)`, so a
million records take seconds and the same seed gives the same data.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

from faker import Faker

from foureyes.ats.registry import SYSTEMS
from foureyes.matching.normalize import canonical_email, e164
from foureyes.model import Candidate

TOP_SURNAMES: tuple[str, ...] = (
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
    "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen",
    "Dekker", "Brouwer",
)  # fmt: skip
EXTRA_PARTICLE_SURNAMES: tuple[str, ...] = (
    "van der Berg", "van der Meer", "van der Linden", "van 't Hof", "ter Horst", "ten Brink", "van der Heijden",
    "van de Ven", "op den Kamp", "in 't Veld", "de Wit", "van Beek", "van der Wal", "van den Heuvel",
)  # fmt: skip
COMMON_GIVEN: tuple[str, ...] = (
    "Jan", "Peter", "Kees", "Henk", "Johannes", "Willem", "Thomas", "Daan", "Maria", "Anna", "Sanne", "Lisa",
)  # fmt: skip
BIG_EMPLOYERS: tuple[str, ...] = (
    "Albert Heijn B.V.", "Randstad Nederland", "ING Bank N.V.", "Rabobank", "KPN", "PostNL", "NS",
    "Philips", "ASML", "Gemeente Amsterdam", "Jumbo Supermarkten", "Coolblue", "bol.com", "Ahold Delhaize",
)  # fmt: skip
PERSONAL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.40), ("hotmail.com", 0.18), ("outlook.com", 0.10), ("live.nl", 0.06), ("ziggo.nl", 0.07),
    ("kpnmail.nl", 0.06), ("yahoo.com", 0.05), ("icloud.com", 0.05), ("xs4all.nl", 0.03),
)  # fmt: skip
SHAPES: tuple[str, ...] = ("unique", "email", "phone", "name_yob", "namesake")
PROFILES: tuple[str, ...] = ("standard", "hard", "independent")
CSV_COLUMNS = (
    "system", "record_id", "full_name", "first_name", "last_name", "email", "phone", "dob", "employer", "cluster",
    "shape",
)  # fmt: skip
_PARTICLE_WORDS = frozenset({"van", "de", "der", "den", "'t", "ter", "ten", "op", "in", "te", "het", "la", "le"})
PLACEHOLDER_EMAILS = ("geen@geen.nl", "noemail@example.com", "nvt@nvt.nl")
PLACEHOLDER_PHONES = ("06-00000000", "0612345678", "0000000000")


class GeneratedRecord(NamedTuple):
    candidate: Candidate
    cluster: str
    shape: str


@dataclass(frozen=True, slots=True)
class _Person:
    given: tuple[str, ...]  # given names, the first is the one used (roepnaam)
    surname: str  # with particles, as written after the given name: "van der Berg"
    dob: date
    email: str
    phone: str
    employer: str


@dataclass(frozen=True, slots=True)
class _Mix:
    """Share of persons per shape (the rest are unique) and the rates of the realistic mess."""

    email: float = 0.13
    phone: float = 0.10
    name_yob: float = 0.10
    namesake_groups: float = 0.03
    top_surname: float = 0.35
    typo: float = 0.04
    initials: float = 0.03
    missing_dob: float = 0.08
    missing_email: float = 0.08
    missing_phone: float = 0.15
    placeholder: float = 0.005
    employer_known: float = 0.75


def employer_pool(seed: int) -> list[str]:
    """Employers to draw from: 1,500 Faker company names and the big employers (~27% of jobs)."""
    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    companies = sorted({fake.company() for _ in range(1500)})
    return companies + list(BIG_EMPLOYERS) * 40


def _strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


def _compact(s: str) -> str:
    return "".join(c for c in _strip_accents(s).lower() if c.isalnum())


def render_email(rng: random.Random, email: str) -> str:
    """An address as a person might type it: gmail dots and +suffixes, googlemail, capitals, stray spaces."""
    local, _, domain = email.partition("@")
    if domain == "gmail.com":
        r = rng.random()
        if r < 0.25:
            local = local.replace(".", "")
        elif r < 0.4 and len(local) > 3:
            i = rng.randrange(1, len(local) - 1)
            local = local[:i] + "." + local[i:] if local[i] != "." and local[i - 1] != "." else local
        elif r < 0.55:
            local += "+" + rng.choice(("jobs", "werk", "cv", "sollicitatie"))
        if rng.random() < 0.1:
            domain = "googlemail.com"
    text = f"{local}@{domain}"
    r = rng.random()
    if r < 0.15:
        text = text.title()
    elif r < 0.2:
        text = text.upper()
    if rng.random() < 0.05:
        text = f" {text} "
    return text


class _Generator:
    def __init__(self, seed: int, mix: _Mix | None = None) -> None:
        self.rng = random.Random(seed)
        self.mix = mix or _Mix()
        import faker.providers.person.nl_NL as person

        self.male = list(person.Provider.first_names_male)
        self.female = list(person.Provider.first_names_female)
        self.surnames = [s for s in person.Provider.last_names if s.strip()] + list(EXTRA_PARTICLE_SURNAMES)
        self.employers = employer_pool(seed)
        self.domains = [d for d, _ in PERSONAL_DOMAINS]
        self.domain_weights = [w for _, w in PERSONAL_DOMAINS]
        self.used_emails: set[str] = set()
        self.used_phones: set[str] = set()
        self.ids = dict.fromkeys(SYSTEMS, 0)

    # -- people -------------------------------------------------------------------------------
    def _surname(self) -> str:
        raw = (
            self.rng.choice(TOP_SURNAMES)
            if self.rng.random() < self.mix.top_surname
            else self.rng.choice(self.surnames)
        )
        if "," in raw:  # Faker writes some as "Bourgondië, van": use the natural order
            head, _, tail = raw.partition(",")
            raw = f"{tail.strip()} {head.strip()}"
        return raw

    def _given(self) -> tuple[str, ...]:
        names = self.male if self.rng.random() < 0.5 else self.female
        first = self.rng.choice(names)
        if self.rng.random() < 0.15:
            return first, self.rng.choice(names)
        return (first,)

    def _dob(self, year: int | None = None) -> date:
        if year is None:
            year = self.rng.randint(1958, 2004)
        return date(year, 1, 1) + timedelta(days=self.rng.randrange(365))

    def _email(self, given: str, surname: str, domain: str | None = None) -> str:
        g, s = _compact(given), _compact(surname)
        domain = domain or self.rng.choices(self.domains, self.domain_weights)[0]
        for attempt in range(100):
            n = self.rng.randrange(10 ** (1 + attempt // 10))
            local = self.rng.choice((f"{g}.{s}", f"{g[:1]}.{s}", f"{g}{s}", f"{s}.{g}", f"{g}_{s}"))
            if self.rng.random() < 0.6 or attempt:
                local += str(n)
            address = f"{local}@{domain}"
            canon = canonical_email(address)
            if canon and canon not in self.used_emails:
                self.used_emails.add(canon)
                return address
        raise RuntimeError("could not find an unused e-mail address")  # pragma: no cover

    def _work_email(self, given: str, surname: str, employer: str) -> str:
        domain = _compact(employer.split(" B.V.")[0].split(" N.V.")[0])[:20] or "werk"
        return self._email(given, surname, f"{domain}.nl")

    def _phone(self) -> str:
        while True:
            nsn = "6" + self.rng.choice("12345688") + f"{self.rng.randrange(10**7):07d}"
            canon = e164("0" + nsn)
            if canon and canon not in self.used_phones:
                self.used_phones.add(canon)
                return "0" + nsn

    def person(
        self, given: tuple[str, ...] | None = None, surname: str | None = None, year: int | None = None
    ) -> _Person:
        given = given or self._given()
        surname = surname or self._surname()
        employer = self.rng.choice(self.employers)
        return _Person(given, surname, self._dob(year), self._email(given[0], surname), self._phone(), employer)

    def moved_on(self, p: _Person, *, new_email: bool, new_phone: bool, new_employer: bool) -> _Person:
        """The same person some years later."""
        employer = self.rng.choice(self.employers) if new_employer else p.employer
        email = self._work_email(p.given[0], p.surname, employer) if new_email else p.email
        if new_email and self.rng.random() < 0.5:
            email = self._email(p.given[0], p.surname)
        return _Person(p.given, p.surname, p.dob, email, self._phone() if new_phone else p.phone, employer)

    # -- rendering one record of a person -----------------------------------------------------
    def _typo(self, s: str) -> str:
        if len(s) < 4:
            return s
        i = self.rng.randrange(1, len(s) - 1)
        op = self.rng.randrange(4)
        if op == 0:
            return s[:i] + s[i + 1 :]
        if op == 1:
            return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
        if op == 2:
            return s[:i] + s[i] + s[i:]
        return s[:i] + self.rng.choice("aeioulnrst") + s[i + 1 :]

    def _surname_forms(self, surname: str) -> tuple[str, str]:
        """(last-name field, surname core) in one of the written forms."""
        words = surname.split()
        n_particles = 0
        while n_particles < len(words) - 1 and words[n_particles].lower() in _PARTICLE_WORDS:
            n_particles += 1
        particles = words[:n_particles]
        if not particles:
            return surname, surname
        core = " ".join(words[n_particles:])
        prefix = " ".join(particles)
        r = self.rng.random()
        if r < 0.45:
            return surname, core
        if r < 0.65:
            return f"{core}, {prefix}", core
        if r < 0.8 and prefix in ("van der", "van den", "van de"):
            return f"{self.rng.choice(('v.d.', 'vd', 'v/d'))} {core}", core
        if r < 0.9:
            return prefix.title() + " " + core, core
        return surname.upper(), core

    def render(
        self, p: _Person, *, keep_dob: bool = False, exact_contact: bool = False, employer_known: float | None = None
    ) -> Candidate:
        rng, mix = self.rng, self.mix
        system = rng.choice(SYSTEMS)
        self.ids[system] += 1
        record_id = {"bullhorn": "{}", "otys": "OT{:07d}", "carerix": "CX-{}"}[system].format(self.ids[system])
        given = list(p.given)
        surname = p.surname
        if rng.random() < mix.typo:
            if rng.random() < 0.5:
                given[0] = self._typo(given[0])
            else:
                surname = self._typo(surname)
        if rng.random() < 0.3:
            given = [_strip_accents(g) for g in given]
        if rng.random() < mix.initials:
            given = [".".join(g[0] for g in given) + "."]
        given_text = " ".join(given) if rng.random() < 0.5 or len(given) == 1 else given[0]
        first_name = last_name = full_name = ""
        last_field, _core = self._surname_forms(surname)
        style = rng.random()
        if style < 0.5:
            first_name, last_name = given_text, last_field
        elif style < 0.85:
            full_name = f"{given_text} {surname}"
        else:  # "Berg, Jan van der"
            words = surname.split()
            n_particles = 0
            while n_particles < len(words) - 1 and words[n_particles].lower() in _PARTICLE_WORDS:
                n_particles += 1
            core, prefix = " ".join(words[n_particles:]), " ".join(words[:n_particles])
            full_name = f"{core}, {given_text} {prefix}".strip()
        emails: list[str] = []
        if exact_contact or rng.random() >= mix.missing_email:
            emails.append(self._render_email(p.email))
        elif rng.random() < mix.placeholder * 20:
            emails.append(rng.choice(PLACEHOLDER_EMAILS))
        phones: list[str] = []
        if exact_contact or rng.random() >= mix.missing_phone:
            phones.append(self._render_phone(p.phone))
        elif rng.random() < mix.placeholder * 20:
            phones.append(rng.choice(PLACEHOLDER_PHONES))
        dob = p.dob if keep_dob or rng.random() >= mix.missing_dob else None
        employer = p.employer if rng.random() < (employer_known or mix.employer_known) else ""
        return Candidate(
            system=system,
            record_id=record_id,
            first_name=first_name,
            last_name=last_name,
            full_name=full_name,
            emails=tuple(emails),
            phones=tuple(phones),
            dob=dob,
            employer=employer,
            status=rng.choice(("new", "active", "placed", "inactive")),
        )

    def _render_email(self, email: str) -> str:
        return render_email(self.rng, email)

    def _render_phone(self, phone: str) -> str:
        nsn = phone[1:]  # "6xxxxxxxx"
        a, b = nsn[:1], nsn[1:]
        return self.rng.choice(
            (
                f"0{nsn}",
                f"0{a}-{b}",
                f"0{a} {b[:4]} {b[4:]}",
                f"+31 {a} {b[:4]} {b[4:]}",
                f"+31(0){a}-{b}",
                f"+31{nsn}",
                f"0031{nsn}",
                f"0{a}-{b[:2]} {b[2:4]} {b[4:6]} {b[6:]}",
                f"(0{a}) {b}",
            )
        )

    # -- clusters -----------------------------------------------------------------------------
    def clusters(self, n: int) -> list[GeneratedRecord]:
        rng, mix = self.rng, self.mix
        out: list[GeneratedRecord] = []
        cluster_no = 0
        while len(out) < n:
            cluster_no += 1
            cid = f"c{cluster_no}"
            r = rng.random()
            if r < mix.namesake_groups:
                given = (rng.choice(COMMON_GIVEN),)
                surname = rng.choice(TOP_SURNAMES)
                year = rng.randint(1960, 2002)
                for k in range(rng.choice((2, 2, 3, 4))):
                    same_year = year if rng.random() < 0.5 else None
                    person = self.person(given, surname, same_year)
                    out.append(GeneratedRecord(self.render(person), f"{cid}.{k}", "namesake"))
                continue
            r -= mix.namesake_groups
            person = self.person()
            size = 3 if rng.random() < 0.15 else 2
            if r < mix.email:
                shape = "email"
                records = [self.render(person, exact_contact=True)]
                for _ in range(size - 1):
                    later = self.moved_on(
                        person, new_email=False, new_phone=rng.random() < 0.6, new_employer=rng.random() < 0.5
                    )
                    records.append(self.render(later, exact_contact=True))
                    if rng.random() < 0.3:  # and a work address on top
                        records[-1] = _with(
                            records[-1],
                            emails=(
                                *records[-1].emails,
                                self._work_email(person.given[0], person.surname, later.employer),
                            ),
                        )
            elif r < mix.email + mix.phone:
                shape = "phone"
                records = [self.render(person, exact_contact=True)]
                for _ in range(size - 1):
                    later = self.moved_on(person, new_email=True, new_phone=False, new_employer=True)
                    records.append(self.render(later, exact_contact=True))
            elif r < mix.email + mix.phone + mix.name_yob:
                shape = "name_yob"
                size = 2
                # SPEC shape 3: same name + year of birth (+ last employer); the employer is not always there
                records = [self.render(person, keep_dob=True, employer_known=0.9)]
                later = self.moved_on(person, new_email=True, new_phone=True, new_employer=rng.random() < 0.1)
                records.append(self.render(later, keep_dob=rng.random() < 0.95, employer_known=0.9))
            else:
                shape = "unique"
                records = [self.render(person)]
            out.extend(GeneratedRecord(c, cid, shape) for c in records)
        return out[:n]


def _with(c: Candidate, **changes: object) -> Candidate:
    from dataclasses import replace

    return replace(c, **changes)  # type: ignore[arg-type]


def generate(n: int, seed: int = 1, profile: str = "standard") -> list[GeneratedRecord]:
    """`n` records with ground truth (`cluster`, `shape`), the same for the same seed and profile.

    Profiles: `standard` (the shapes above) and `hard` (see `foureyes_eval.hard`: real name
    frequencies, unallocated phone ranges, shared agency inboxes, typos with the same birth date,
    married names, initials, namesakes with the same birth date) and `independent` (see
    `foureyes_eval.independent`: written apart from the other two and from the matcher, to check that figures
    hold beyond our own generator).
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if profile == "standard":
        return _Generator(seed).clusters(n)
    if profile == "hard":
        from foureyes_eval.hard import HardGenerator

        return [GeneratedRecord(*row) for row in HardGenerator(seed, employer_pool(seed)).clusters(n)]
    if profile == "independent":
        from foureyes_eval.independent import generate_independent

        return generate_independent(n, seed)
    raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")


def generate_candidates(n: int, seed: int = 1, profile: str = "standard") -> list[Candidate]:
    """`n` candidate records (for seeding the fake ATS servers); same data as `generate`."""
    return [record.candidate for record in generate(n, seed, profile)]


def csv_row(record: GeneratedRecord) -> list[str]:
    c = record.candidate
    return [
        c.system, c.record_id, c.full_name, c.first_name, c.last_name, ";".join(c.emails), ";".join(c.phones),
        c.dob.isoformat() if c.dob else "", c.employer, record.cluster, record.shape,
    ]  # fmt: skip


def write_csv(records: Iterable[GeneratedRecord], path: str | Path) -> int:
    """Write the reconcile input format plus `cluster` and `shape`; returns the number of rows."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for record in records:
            writer.writerow(csv_row(record))
            count += 1
    return count


def read_csv(path: str | Path) -> list[GeneratedRecord]:
    """Read a file written by `write_csv` (or any reconcile input with `cluster` and optional `shape`)."""
    out: list[GeneratedRecord] = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            dob = row.get("dob") or ""
            out.append(
                GeneratedRecord(
                    Candidate(
                        system=row["system"],
                        record_id=row["record_id"],
                        full_name=row.get("full_name") or "",
                        first_name=row.get("first_name") or "",
                        last_name=row.get("last_name") or "",
                        emails=tuple(e for e in (row.get("email") or "").split(";") if e),
                        phones=tuple(p for p in (row.get("phone") or "").split(";") if p),
                        dob=date.fromisoformat(dob) if dob else None,
                        employer=row.get("employer") or "",
                    ),
                    row["cluster"],
                    row.get("shape") or "",
                )
            )
    return out


def shapes_of(records: Sequence[GeneratedRecord]) -> dict[str, int]:
    counts = dict.fromkeys(SHAPES, 0)
    for r in records:
        counts[r.shape] = counts.get(r.shape, 0) + 1
    return counts
