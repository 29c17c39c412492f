"""Hard cases for the matcher, added to a background of generated records (`foureyes evaluate --hard N`).

Shapes (each a cluster of records with ground truth):
- `namesake_yob`: 2-4 *different* people with a common Dutch name born in the same year (another day),
  each with their own e-mail and phone: must stay below review;
- `agency`: 5-60 *different* people registered with an agency's shared inbox and switchboard number:
  must not be linked;
- `phone_invalid`: one person twice, the same mobile number from a range `phonenumbers` calls invalid
  (06-0..., 06-9...) typed differently, another e-mail, the name once as initials: must link;
- `typo_dob`: one person twice, a one-letter typo, a dropped accent or two letters swapped in the name,
  the same full date of birth, nothing else in common: must reach review;
- `married`: one person as "Jansen-de Vries" and as "de Vries", the same full date of birth: review.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from foureyes.model import Candidate
from foureyes_eval.generate import COMMON_GIVEN, TOP_SURNAMES, GeneratedRecord, generate

HARD_SHAPES = ("namesake_yob", "agency", "phone_invalid", "typo_dob", "married")
_GIVEN = ("Anouk", "Bas", "Chantal", "Dirk", "Esra", "Fatima", "Gerrit", "Hanneke", "Ilse", "Jeroen", "Karim",
          "Lieke", "Mohamed", "Noor", "Orlando", "Priya", "Quinten", "Rutger", "Sevda", "Tamara", "Youssef")
_SURNAMES = ("Yilmaz", "El Amrani", "Kartosen", "Nowak", "Wijaya", "Brinkman", "Hoekstra", "Veenstra", "Kuipers",
             "Postma", "Dijkstra", "Prins", "Huisman", "Sarmo", "Kowalski", "Tahiri", "Soekhoe", "Bennani")


def _typo(rng: random.Random, name: str) -> str:
    if len(name) < 4:
        return name + rng.choice("aeiou")  # a letter added
    i = rng.randrange(1, len(name) - 2)
    kind = rng.randrange(3)
    if kind == 0:
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]  # two letters swapped
    if kind == 1:
        return name[:i] + name[i + 1:]  # a letter dropped
    return name[:i] + rng.choice("aeiou") + name[i + 1:]  # a letter changed


def hard_cases(n: int, seed: int = 1, background: int = 20_000) -> list[GeneratedRecord]:
    """`background` generated records plus about `n` hard-case records, with ground truth."""
    rng = random.Random(seed)
    out = list(generate(background, seed))
    count = 0
    serial = 0

    def record(cluster: str, shape: str, **fields: object) -> None:
        nonlocal count, serial
        serial += 1
        system = rng.choice(("bullhorn", "otys", "carerix"))
        candidate = Candidate(system=system, record_id=f"H{seed}-{serial}", **fields)  # type: ignore[arg-type]
        out.append(GeneratedRecord(candidate, cluster, shape))
        count += 1

    def dob(year: int | None = None) -> date:
        return date(year or rng.randint(1960, 2003), 1, 1) + timedelta(days=rng.randrange(365))

    def mobile(invalid: bool = False) -> str:
        return "06" + (rng.choice("09") if invalid else rng.choice("1234")) + f"{rng.randrange(10**7):07d}"

    group = 0
    while count < n:
        group += 1
        shape = HARD_SHAPES[group % len(HARD_SHAPES)]
        if shape == "namesake_yob":
            given, surname, year = rng.choice(COMMON_GIVEN), rng.choice(TOP_SURNAMES), rng.randint(1965, 2000)
            for k in range(rng.choice((2, 2, 3, 4))):
                record(f"h{group}.{k}", shape, full_name=f"{given} {surname}", dob=dob(year),
                       emails=(f"{given.lower()}{rng.randrange(10**6)}@{rng.choice(('gmail.com', 'live.nl'))}",),
                       phones=(mobile(),))
        elif shape == "agency":
            inbox, switchboard = f"kandidaten{group}@uitzendbureau{group}.nl", f"020-{rng.randrange(10**7):07d}"
            names = rng.sample([f"{g} {s}" for g in _GIVEN for s in _SURNAMES], rng.choice((5, 8, 12, 60)))
            for k, name in enumerate(names):  # different people: different names
                record(f"h{group}.{k}", shape, full_name=name, dob=dob(), emails=(inbox,), phones=(switchboard,))
        elif shape == "phone_invalid":
            number, given, surname = mobile(invalid=True), rng.choice(_GIVEN), rng.choice(_SURNAMES)
            nsn = number[1:]
            record(f"h{group}", shape, full_name=f"{given} {surname}", phones=(number,),
                   emails=(f"{given.lower()}.{rng.randrange(10**6)}@gmail.com",))
            record(f"h{group}", shape, first_name=f"{given[0]}.", last_name=surname,
                   phones=(f"+31 {nsn[0]} {nsn[1:]}",),
                   emails=(f"{given[0].lower()}{rng.randrange(10**6)}@werk{group}.nl",))
        elif shape == "typo_dob":
            given, surname, born = rng.choice(_GIVEN), rng.choice(_SURNAMES), dob()
            record(f"h{group}", shape, full_name=f"{given} {surname}", dob=born,
                   emails=(f"a{rng.randrange(10**8)}@gmail.com",), phones=(mobile(),))
            other = f"{_typo(rng, given)} {surname}" if rng.random() < 0.5 else f"{given} {_typo(rng, surname)}"
            record(f"h{group}", shape, full_name=other, dob=born, emails=(f"b{rng.randrange(10**8)}@live.nl",),
                   phones=(mobile(),))
        else:  # married
            given, born = rng.choice(_GIVEN), dob()
            record(f"h{group}", shape, first_name=given, last_name=f"{rng.choice(_SURNAMES)}-de Vries", dob=born,
                  emails=(f"c{rng.randrange(10**8)}@gmail.com",))
            record(f"h{group}", shape, full_name=f"{given} de Vries", dob=born,
                   emails=(f"d{rng.randrange(10**8)}@ziggo.nl",))
    return out
