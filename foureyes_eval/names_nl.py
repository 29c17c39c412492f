"""Names as they occur in the Netherlands, with rough frequencies, for the `hard` generator profile.

Counts are rough numbers of bearers in the Netherlands (surnames: the CBG/Meertens family-name
counts, rounded; first names: their rank among births of the generations in a candidate pool).
They only need to be right in shape: a handful of surnames carried by tens of thousands, a long
tail carried by few. The tail of Dutch surnames is built from real Dutch name parts ("Hoog" +
"kamp", "Wester" + "veld", "van" + ...) with falling weights, so a million records still hold
mostly rare names, as real data does.

Origins and their rough share of a Dutch candidate pool: Dutch 84%, Turkish 4%, Moroccan 4%,
Surinamese (Hindustani, Creole, Javanese) 3.5%, Polish 2.5%, Indonesian/Moluccan 2%.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

# (surname, rough number of bearers in the Netherlands)
DUTCH_SURNAMES: tuple[tuple[str, int], ...] = (
    ("de Jong", 86_500), ("Jansen", 73_000), ("de Vries", 71_700), ("van den Berg", 58_000), ("van Dijk", 56_000),
    ("Bakker", 55_000), ("Janssen", 53_000), ("Visser", 49_000), ("Smit", 48_000), ("Meijer", 44_000),
    ("de Boer", 43_000), ("Mulder", 40_000), ("de Groot", 40_000), ("Bos", 38_000), ("Vos", 36_000),
    ("Peters", 35_000), ("Hendriks", 34_000), ("van Leeuwen", 32_000), ("Dekker", 31_000), ("Brouwer", 30_000),
    ("de Wit", 29_000), ("Dijkstra", 29_000), ("Smits", 28_000), ("de Graaf", 27_000), ("van der Meer", 27_000),
    ("van der Linden", 25_000), ("Kok", 25_000), ("Jacobs", 24_000), ("de Haan", 24_000), ("Vermeulen", 24_000),
    ("van den Heuvel", 23_000), ("van der Veen", 23_000), ("van den Broek", 22_000), ("de Bruijn", 22_000),
    ("de Bruin", 21_000), ("van der Heijden", 21_000), ("Schouten", 21_000), ("van Beek", 20_000),
    ("Willems", 20_000), ("van Vliet", 20_000), ("van de Ven", 19_000), ("Hoekstra", 19_000), ("Maas", 19_000),
    ("Verhoeven", 18_500), ("Koster", 18_000), ("van Dam", 18_000), ("van der Wal", 18_000), ("Prins", 18_000),
    ("Blom", 17_500), ("Huisman", 17_500), ("Peeters", 17_000), ("de Jonge", 17_000), ("Kuipers", 16_500),
    ("van Veen", 16_500), ("Post", 16_000), ("Kuiper", 16_000), ("Veenstra", 16_000), ("Kramer", 16_000),
    ("van den Brink", 15_500), ("Scholten", 15_500), ("van Wijk", 15_500), ("Postma", 15_000), ("Martens", 15_000),
    ("Vink", 14_500), ("de Ruiter", 14_500), ("Timmermans", 14_000), ("Groen", 14_000), ("Gerritsen", 14_000),
    ("Jonker", 14_000), ("van Loon", 13_500), ("Boer", 13_500), ("van der Velde", 13_500), ("Willemsen", 13_000),
    ("Smeets", 13_000), ("de Lange", 13_000), ("de Vos", 13_000), ("Bosch", 12_500), ("van Dongen", 12_500),
    ("Schipper", 12_500), ("de Koning", 12_500), ("van der Laan", 12_000), ("Koning", 12_000),
    ("van der Velden", 12_000), ("Driessen", 12_000), ("van Doorn", 12_000), ("Hermans", 11_500),
    ("Evers", 11_500), ("van den Bosch", 11_500), ("van der Meulen", 11_500), ("Hofman", 11_500),
    ("Bosman", 11_000), ("Wolters", 11_000), ("Sanders", 11_000), ("van der Horst", 11_000), ("Mol", 11_000),
    ("Kuijpers", 10_500), ("Molenaar", 10_500), ("van de Pol", 10_500), ("de Leeuw", 10_500), ("Verbeek", 10_500),
)  # fmt: skip
DUTCH_TAIL_BEARERS = 11_500_000  # people of Dutch origin not carrying one of the names above

# Dutch name parts for the long tail: root + ending ("Hoog" + "kamp"), sometimes after a particle.
_ROOTS = (
    "Hoog", "Laag", "Groot", "Klein", "Wester", "Ooster", "Noorder", "Zuider", "Berg", "Beek", "Bosch", "Brink",
    "Dijk", "Veen", "Hof", "Kamp", "Molen", "Brug", "Water", "Zand", "Wolf", "Vogel", "Haver", "Koren", "Linde",
    "Eik", "Beuk", "Rozen", "Wit", "Zwart", "Rood", "Groen", "Stok", "Steen", "Hout", "Smed", "Vis", "Kooi",
    "Heide", "Venne", "Goor", "Lint", "Rijn", "Maas", "Schel", "Hel", "Holt", "Ever", "Wage", "Nijen", "Olde",
    "Lange", "Korte", "Bree", "Hamer", "Kuil", "Sloot", "Stal", "Akker", "Bouw", "Brom", "Dal", "Elzen", "Essen",
    "Geer", "Gras", "Ham", "Haan", "Horst", "Kerk", "Klooster", "Leeuw", "Mark", "Meer", "Mos", "Nieuw", "Oud",
    "Pol", "Ree", "Riet", "Schaap", "Schouw", "Slag", "Spijker", "Stroo", "Tol", "Valk", "Veld", "Vliet", "Vrij",
    "Weide", "Wijn", "Zee", "Zon", "Bijl", "Boon", "Duin", "Graaf", "Haar", "Knol", "Kroon", "Lam", "Mulder",
    "Nagel", "Pels", "Ruiter", "Sluis", "Speel", "Stuur", "Til", "Uiter", "Boek", "Dorp", "Gaal", "Hekker",
    "Jager", "Keizer", "Koop", "Loos", "Meul", "Paap", "Rouw", "Smal", "Teer", "Vaan", "Wever", "Zijl",
)  # fmt: skip
_ENDINGS = (
    "kamp", "veld", "man", "mans", "huis", "huizen", "stra", "sma", "inga", "ema", "ink", "ing", "horst", "hof",
    "hoven", "beek", "dijk", "meijer", "boer", "berg", "bergen", "broek", "hout", "sloot", "laar", "lo", "rink",
    "werf", "kes", "ens", "sen", "se", "er", "ers", "stede", "burg", "wijk", "heuvel", "mate", "weg", "gers",
    "kens", "tjes", "ma", "stein",
)  # fmt: skip
_TAIL_PARTICLES = (("", 0.78), ("van ", 0.09), ("van de ", 0.03), ("van der ", 0.03), ("van den ", 0.02),
                   ("ter ", 0.02), ("ten ", 0.015), ("de ", 0.015))  # fmt: skip

# First names (rough relative frequency in a candidate pool born 1958-2006), by gender.
DUTCH_GIVEN_MALE: tuple[tuple[str, int], ...] = (
    ("Jan", 90), ("Johannes", 60), ("Peter", 55), ("Mark", 50), ("Kees", 40), ("Hendrik", 40), ("Willem", 40),
    ("Pieter", 38), ("Dennis", 36), ("Martijn", 36), ("Thomas", 35), ("Daan", 34), ("Jeroen", 33), ("Sander", 33),
    ("Robert", 32), ("Michael", 32), ("Erik", 31), ("Bas", 30), ("Tim", 30), ("Kevin", 30), ("Henk", 30),
    ("Cornelis", 30), ("Gerrit", 28), ("Ruben", 28), ("Niels", 27), ("Bram", 26), ("Lucas", 26), ("Sem", 25),
    ("Jasper", 25), ("Rick", 25), ("Stefan", 24), ("Wouter", 24), ("Frank", 24), ("Paul", 23), ("Marco", 22),
    ("Rob", 22), ("Arjan", 21), ("Joost", 21), ("Lars", 20), ("Milan", 19), ("Jesse", 19),
    ("Stijn", 19), ("Koen", 19), ("Luuk", 18), ("Rutger", 12), ("Gijs", 12), ("Teun", 11), ("Floris", 10),
    ("Maarten", 18), ("Vincent", 17), ("Remco", 15), ("Hans", 17), ("Ad", 10), ("Wim", 16), ("Theo", 12),
)  # fmt: skip
DUTCH_GIVEN_FEMALE: tuple[tuple[str, int], ...] = (
    ("Maria", 80), ("Anna", 45), ("Johanna", 40), ("Linda", 40), ("Sandra", 38), ("Lisa", 36), ("Emma", 34),
    ("Sanne", 34), ("Anouk", 32), ("Julia", 32), ("Sophie", 31), ("Laura", 30), ("Kim", 30), ("Marieke", 28),
    ("Femke", 28), ("Esther", 27), ("Monique", 27), ("Petra", 26), ("Ingrid", 25), ("Nicole", 25),
    ("Cornelia", 24), ("Wilhelmina", 22), ("Elisabeth", 22), ("Anne", 22), ("Iris", 21), ("Eva", 21),
    ("Lotte", 20), ("Fleur", 20), ("Manon", 19), ("Judith", 19), ("Marloes", 18), ("Suzanne", 18),
    ("Renée", 16), ("Chantal", 16), ("Mirjam", 15), ("Ilse", 15), ("Noor", 14), ("Zoë", 12), ("Chloé", 8),
    ("Ellen", 17), ("Karin", 17), ("Anja", 16), ("Annemiek", 10), ("Joke", 10), ("Tessa", 14), ("Romy", 13),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Origin:
    name: str
    share: float
    surnames: tuple[tuple[str, int], ...]
    male: tuple[tuple[str, int], ...]
    female: tuple[tuple[str, int], ...]


def _zipf(names: tuple[str, ...], top: int) -> tuple[tuple[str, int], ...]:
    """Weights falling with rank (the first name listed is the most common)."""
    return tuple((n, max(1, round(top / (1 + 0.6 * i)))) for i, n in enumerate(names))


TURKISH = Origin(
    "turkish",
    0.04,
    _zipf(("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir",
           "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek", "Polat",
           "Korkmaz", "Karataş", "Erdoğan", "Güneş", "Bulut", "Keskin", "Ünal", "Turan", "Gök", "Akın", "Tekin",
           "Ateş", "Bozkurt", "Uçar", "Avcı", "Kalkan", "Sarı", "Yavuz", "Toprak"), 6_000),
    _zipf(("Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Hasan", "İbrahim", "Murat", "Emre", "Burak", "Yusuf",
           "Osman", "Ömer", "Kemal", "Fatih", "Serkan", "Volkan", "Erkan", "Cem", "Onur"), 60),
    _zipf(("Ayşe", "Fatma", "Emine", "Hatice", "Zeynep", "Elif", "Merve", "Büşra", "Esra", "Özlem", "Derya",
           "Hülya", "Sibel", "Gül", "Songül", "Tuba", "Selin", "Melek", "Nurten", "Dilek"), 60),
)  # fmt: skip
MOROCCAN = Origin(
    "moroccan",
    0.04,
    _zipf(("El Amrani", "Bouzid", "El Idrissi", "Benali", "Boukhari", "Ouali", "El Khattabi", "Aarab", "Azzouz",
           "El Hamdaoui", "Bakkali", "Chaouch", "Tahiri", "Mourabit", "El Ouardi", "Haddouchi", "Ahmadi",
           "Bouchtaoui", "El Bouazzaoui", "Akrouh", "Ouahabi", "Zaanoun", "Ait Taleb", "Lamrini", "Belhaj",
           "El Yaakoubi", "Amhaouch", "Benhaddou", "Mokhtari", "Ziani", "Rahmouni", "Boutaleb", "Saidi",
           "El Morabit", "Kaddouri", "Laaroussi", "Abbou", "Harrak", "Bennani", "Chaara"), 3_000),
    _zipf(("Mohamed", "Ahmed", "Youssef", "Mustapha", "Abdelkader", "Karim", "Said", "Hamza", "Bilal", "Ilias",
           "Anouar", "Rachid", "Khalid", "Driss", "Nordin", "Soufiane", "Mehdi", "Ayoub", "Adam", "Zakaria"), 60),
    _zipf(("Fatima", "Khadija", "Naima", "Samira", "Nadia", "Malika", "Soumaya", "Sara", "Yasmina", "Hafsa",
           "Latifa", "Amina", "Zineb", "Imane", "Loubna", "Salma", "Ikram", "Hanane", "Meryem", "Nora"), 60),
)  # fmt: skip
SURINAMESE = Origin(
    "surinamese",
    0.035,
    _zipf(("Ramdin", "Ramsaran", "Jadnanansing", "Sewdien", "Mahabier", "Ramlal", "Bhagwandin", "Kalloe",
           "Soekhoe", "Baldewsingh", "Ramautar", "Pinas", "Wijngaarde", "Renfurm", "Vyent", "Zeefuik", "Sedney",
           "Kolf", "Eersel", "Fränkel", "Kartoredjo", "Sarmo", "Karijo", "Atmodikoro", "Soemodihardjo",
           "Kromodimedjo", "Wongsodikromo", "Ramkhelawan", "Jagessar", "Ganga", "Biharie", "Autar", "Sitaldin",
           "Doekhie", "Lachman", "Kanhai", "Tjon A Fong", "Lie A Kwie", "Breeveld", "Nelom"), 1_500),
    _zipf(("Rakesh", "Ravi", "Sunil", "Anil", "Radjesh", "Sanjay", "Clarence", "Ronald", "Glenn", "Romano",
           "Marciano", "Soeparman", "Roy", "Dinesh", "Mitchel", "Ryan", "Rishi", "Reinier", "Ivan", "Naresh"), 60),
    _zipf(("Shanti", "Sharmila", "Anita", "Priya", "Sunita", "Jennifer", "Shirley", "Sharon", "Natasha",
           "Ghislaine", "Rosita", "Sandhya", "Kavita", "Vanessa", "Esmeralda", "Sarita", "Wendy", "Chandra",
           "Reshma", "Joyce"), 60),
)  # fmt: skip
POLISH = Origin(
    "polish",
    0.025,
    # "-ski" names take their feminine "-ska" form for women (see `gendered`)
    _zipf(("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
           "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Kwiatkowski", "Krawczyk",
           "Piotrowski", "Grabowski", "Nowakowski", "Pawłowski", "Michalski", "Nowicki", "Adamczyk", "Dudek",
           "Zając", "Wieczorek", "Jabłoński", "Król", "Majewski", "Olszewski"), 1_200),
    _zipf(("Piotr", "Krzysztof", "Tomasz", "Paweł", "Marcin", "Michał", "Łukasz", "Andrzej", "Jakub", "Kamil",
           "Grzegorz", "Mateusz", "Adam", "Dariusz", "Rafał", "Sebastian", "Wojciech", "Bartosz", "Artur",
           "Damian"), 60),
    _zipf(("Anna", "Katarzyna", "Agnieszka", "Magdalena", "Joanna", "Monika", "Małgorzata", "Aleksandra", "Ewa",
           "Karolina", "Justyna", "Natalia", "Marta", "Dorota", "Beata", "Paulina", "Sylwia", "Agata", "Kinga",
           "Iwona"), 60),
)  # fmt: skip
INDONESIAN = Origin(
    "indonesian",
    0.02,
    _zipf(("Tan", "Liem", "Oei", "Lie", "The", "Pattiasina", "Latuhihin", "Manuhutu", "Sahetapy", "Tahapary",
           "Pattipeilohy", "Wattimena", "Lekatompessy", "Matulessy", "Siregar", "Simatupang", "Hutagalung",
           "Nasution", "Wibowo", "Santoso", "Susanto", "Gunawan", "Hidayat", "Sutanto", "Tupamahu", "Sopacua",
           "Pelupessy", "Leiwakabessy", "Kastanja", "Ririmasse"), 1_200),
    _zipf(("Johannes", "Yohanes", "Agus", "Budi", "Rudi", "Hendra", "Eko", "Andreas", "Frans", "Benny",
           "Yosef", "Dimas", "Rizky", "Ferry", "Robby"), 50),
    _zipf(("Dewi", "Sri", "Siti", "Wulan", "Putri", "Indah", "Maya", "Ratna", "Yuliana", "Lestari", "Nathalie",
           "Wilma", "Ria", "Ayu", "Fransisca"), 50),
)  # fmt: skip

_FOLD = str.maketrans({"ı": "i", "İ": "I", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae"})


def gendered(surname: str, female: bool) -> str:
    """Polish surnames in -ski/-cki/-dzki take -ska/-cka/-dzka for women."""
    if female and surname.endswith(("ski", "cki", "dzki")):
        return surname[:-1] + "a"
    return surname


@lru_cache(maxsize=1 << 16)
def fold(s: str) -> str:
    """Letters outside ASCII written the way a keyboard without them would ("Yılmaz" -> "Yilmaz")."""
    import unicodedata

    s = s.translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


class WeightedNames:
    """Draw a name with probability proportional to its weight (binary search over cumulative weights)."""

    def __init__(self, weighted: Sequence[tuple[str, float]]) -> None:
        self.names = [n for n, _ in weighted]
        self.cum = list(accumulate(w for _, w in weighted))
        self.total = self.cum[-1]
        self._order: list[int] | None = None

    def draw(self, rng: random.Random) -> str:
        return self.names[bisect_right(self.cum, rng.random() * self.total)]

    def top(self, k: int) -> list[str]:
        """The `k` most common names, most common first."""
        if self._order is None:
            weights = [self.cum[0]] + [b - a for a, b in zip(self.cum, self.cum[1:], strict=False)]
            self._order = sorted(range(len(self.names)), key=lambda i: -weights[i])
        return [self.names[i] for i in self._order[:k]]


def dutch_tail(size: int = 25_000) -> list[tuple[str, int]]:
    """A fixed long tail of plausible Dutch surnames ("Hoogkamp", "van Westerveld", ...) with falling weights.

    Built from a fixed seed: the same universe of names whatever the generator's seed.
    """
    rng = random.Random(314159)
    listed = {n for n, _ in DUTCH_SURNAMES}
    seen: set[str] = set()
    names: list[str] = []
    particles = [p for p, _ in _TAIL_PARTICLES]
    particle_weights = [w for _, w in _TAIL_PARTICLES]
    attempts = 0
    while len(names) < size and attempts < size * 20:
        attempts += 1
        core = rng.choice(_ROOTS) + rng.choice(_ENDINGS)
        name = rng.choices(particles, particle_weights)[0] + core
        if name in seen or name in listed:
            continue
        seen.add(name)
        names.append(name)
    # weights ~ 1/(rank + 200)^0.9, scaled so the tail carries DUTCH_TAIL_BEARERS and its top name
    # stays below the least common listed name
    raw = [(rank + 200) ** -0.9 for rank in range(len(names))]
    scale = DUTCH_TAIL_BEARERS / sum(raw)
    cap = min(w for _, w in DUTCH_SURNAMES) - 1
    return [(n, max(1, min(cap, round(r * scale)))) for n, r in zip(names, raw, strict=True)]


FOREIGN_ORIGINS: tuple[Origin, ...] = (TURKISH, MOROCCAN, SURINAMESE, POLISH, INDONESIAN)
