"""An independent generator of Dutch candidate records with ground truth, written without reading the matcher or the
project's own generator: a second opinion on what a new user's data looks like.

Persons are drawn with realistic Netherlands name frequencies (a heavy head of common Dutch surnames with their
tussenvoegsels, a mid list, and a long tail composed from Dutch surname morphemes; given names by birth generation;
about 12% Turkish, Moroccan, Surinamese (Hindustani and Creole), Polish and Indonesian/Moluccan names, given name and
surname drawn from the same community). Each person has a phone (about 30% in unallocated ranges, typed with the
same digits every time but in mixed formats), e-mail addresses made from the name, a date of birth (1955-2006) and
employers from a list of Dutch companies plus a tail of small firms.

Records are spread over Bullhorn, OTYS and Carerix and carry the usual mess: missing fields, per-system name
conventions ("Berg, van den"), initials only, first/last swapped, typos, dropped accents, placeholder contacts, and
shared agency inboxes and company switchboards on unrelated people.

Shapes (the `shape` column), per person:

- `email`: 2-4 records sharing an e-mail address (gmail dot/plus/case variants), other fields varying.
- `phone`: 2-4 records with one phone and a different e-mail on each record (job changes).
- `name_yob`: 2-4 records with no e-mail or phone in common; the same name (exact, or one typo, dropped accent or
  re-ordered tussenvoegsel) and year of birth; ~45% of groups the same full date, the rest another day/month;
  ~half the groups the same last employer.
- `namesake`: 2-3 different persons (one record each) with the same common name, born in the same year (rarely the
  same day), each with their own contacts and employer. Each person is its own cluster: any pair proposed is wrong.
- `unique`: everyone else.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from foureyes.model import Candidate
from foureyes_eval.generate import GeneratedRecord, write_csv

SYSTEMS: tuple[str, ...] = ("bullhorn", "otys", "carerix")
SHAPES: tuple[str, ...] = ("unique", "email", "phone", "name_yob", "namesake")

# Probabilities per person slot (a namesake slot holds 2-3 persons): ~8% / 6% / 8% of persons, ~3% in namesake groups.
P_EMAIL, P_PHONE, P_NAME_YOB, P_NAMESAKE = 0.081, 0.061, 0.081, 0.0135
GROUP_SIZES, GROUP_WEIGHTS = (2, 3, 4), (0.70, 0.22, 0.08)

# Share of records missing a field (the shape's defining field is never dropped).
MISS_EMAIL, MISS_PHONE, MISS_DOB, MISS_EMPLOYER = 0.12, 0.15, 0.17, 0.20
UNALLOCATED_SHARE = 0.30

# -- names ---------------------------------------------------------------------------------------------------------

# (tussenvoegsel, surname, bearers in thousands): the head of the Dutch surname distribution.
DUTCH_HEAD: tuple[tuple[str, str, int], ...] = (
    ("de", "Jong", 86), ("", "Jansen", 75), ("de", "Vries", 73), ("van den", "Berg", 60), ("van", "Dijk", 56),
    ("", "Bakker", 55), ("", "Janssen", 54), ("", "Visser", 49), ("", "Smit", 44), ("", "Meijer", 39),
    ("de", "Boer", 37), ("", "Mulder", 36), ("de", "Groot", 35), ("", "Bos", 34), ("", "Vos", 31),
    ("", "Peters", 31), ("", "Hendriks", 30), ("van", "Leeuwen", 29), ("", "Dekker", 28), ("", "Brouwer", 26),
    ("de", "Wit", 26), ("", "Dijkstra", 26), ("", "Smits", 25), ("de", "Graaf", 25), ("van der", "Meer", 25),
    ("van der", "Linden", 24), ("", "Kok", 23), ("", "Jacobs", 23), ("de", "Haan", 23), ("", "Vermeulen", 23),
    ("van den", "Heuvel", 22), ("van der", "Veen", 22), ("van den", "Broek", 21), ("de", "Bruijn", 21),
    ("de", "Bruin", 21), ("van der", "Heijden", 20), ("", "Schouten", 20), ("van", "Beek", 20), ("", "Willems", 20),
    ("van", "Vliet", 19), ("van de", "Ven", 19), ("", "Hoekstra", 19), ("", "Maas", 19), ("", "Verhoeven", 19),
    ("", "Koster", 18), ("van", "Dam", 18), ("van der", "Wal", 18), ("", "Prins", 18), ("", "Blom", 18),
    ("", "Huisman", 17), ("", "Peeters", 17), ("de", "Jonge", 17), ("", "Kuipers", 17), ("van", "Veen", 16),
    ("", "Post", 16), ("", "Kuiper", 16), ("", "Veenstra", 16), ("", "Kramer", 16), ("van den", "Brink", 15),
    ("", "Scholten", 15), ("van", "Wijk", 15), ("", "Postma", 15), ("", "Martens", 15), ("", "Vink", 15),
    ("de", "Ruiter", 15), ("", "Timmermans", 14), ("", "Groen", 14), ("", "Gerritsen", 14), ("", "Jonker", 14),
    ("van", "Loon", 14), ("", "Boer", 14), ("van der", "Velde", 13), ("", "Willemsen", 13), ("", "Smeets", 13),
    ("de", "Lange", 13), ("de", "Vos", 13), ("", "Bosch", 13), ("van", "Dongen", 13), ("", "Schipper", 13),
    ("de", "Koning", 13), ("van der", "Laan", 12), ("", "Koning", 12), ("van der", "Velden", 12),
    ("", "Driessen", 12), ("van", "Doorn", 12), ("", "Hermans", 12), ("", "Evers", 12), ("van den", "Bosch", 12),
    ("van der", "Meulen", 12), ("", "Hofman", 11), ("", "Bosman", 11), ("", "Wouters", 11), ("", "Sanders", 11),
    ("van der", "Zanden", 11), ("", "Brink", 11), ("van", "Rijn", 11), ("", "Kroon", 11), ("", "Verbeek", 11),
    ("", "Koopman", 10), ("", "Hoogendoorn", 10), ("van", "Wijngaarden", 10),
)  # fmt: skip
TOP_DUTCH = DUTCH_HEAD[:20]  # the namesakes' surnames

DUTCH_MID: tuple[tuple[str, str], ...] = tuple(
    (s.rsplit(" ", 1)[0] if " " in s else "", s.rsplit(" ", 1)[-1])
    for s in (
        "Kooijman", "Bouwman", "van Es", "Lammers", "Molenaar", "van Dijken", "Beekman", "Wolters", "Claassen",
        "van Os", "van Vugt", "Hoogeveen", "Dijkman", "Zijlstra", "de Bruijne", "Mertens", "Goossens", "van Beek",
        "Verschuren", "Verhagen", "van Rooij", "Rutten", "Bruins", "Nijhuis", "Sterk", "Boersma", "van Gils",
        "Hoving", "Wijnands", "de Leeuw", "Aarts", "Pronk", "Kort", "van Zanten", "Stam", "Roos", "de Rooij",
        "Kuijpers", "Steenbergen", "van der Horst", "van den Bergh", "Verweij", "Geerts", "Heemskerk", "de Bakker",
        "Baas", "Dam", "Sijbesma", "Overbeek", "Veldhuis", "Groenewegen", "van der Sluis", "Ouwehand", "Visscher",
        "Buijs", "Mol", "Klaassen", "van Leeuwen", "Hoekman", "ten Brink", "ter Horst", "van het Hof", "Vlaar",
        "Koenen", "Lemmens", "Teunissen", "Hendriksen", "Arts", "Kuijper", "van Bergen", "van Wijnen", "Zwart",
        "Bijl", "Schoenmaker", "Schreurs", "Slot", "Haverkamp", "van Zon", "Bouma", "Jongsma", "Wijnberg",
        "Reinders", "Pauw", "Rijnders", "Otten", "van Hout", "Coenen", "de Vos", "Vreeswijk", "Keijzer",
        "Kamphuis", "van Ommen", "Eijkelenboom", "Spijker", "in 't Veld", "van 't Hof", "Kalf", "de Waal",
        "Hoekstra", "van Kempen", "Nieuwenhuis", "Brinkman", "Huijbregts", "van de Pol", "Boom", "Tol", "van Ham",
        "Swinkels", "Wagemakers", "Snijders", "Biesheuvel", "van Wijk", "Leenders", "Gielen", "Bongers",
    )
)  # fmt: skip

# Morphemes for the long tail ("Hoog" + "veld", "van " + "Oost" + "dijk", "Brink" + "stra").
TAIL_HEADS = (
    "Hoog", "Groen", "Zwart", "Wit", "Brink", "Veld", "Kamp", "Dijk", "Berg", "Broek", "Bosch", "Horst", "Hof",
    "Hout", "Water", "Zand", "Steen", "Molen", "Kerk", "Wijn", "Haver", "Rog", "Schaap", "Gerrit", "Klaas",
    "Wouter", "Hendrik", "Kool", "Beek", "Ree", "Oost", "West", "Noord", "Zuid", "Over", "Nieuw", "Oud", "Groot",
    "Klein", "Lang", "Hulst", "Linde", "Eik", "Riet", "Heide", "Mos", "Wolf", "Haan", "Vink", "Kraai", "Mees",
    "Dam", "Sluis", "Poel", "Meer", "Laar", "Loo", "Ven", "Donk", "Wal", "Hage", "Brug", "Akker", "Weide", "Hoek",
    "Schut", "Kuip", "Smed", "Kooi", "Korf", "Knol", "Stol", "Wester", "Ooster", "Holt", "Ter", "Roe", "Ste",
)  # fmt: skip
TAIL_TAILS = (
    "man", "mans", "ink", "inga", "stra", "sma", "ma", "huis", "huizen", "veld", "velde", "dijk", "berg", "broek",
    "horst", "hof", "kamp", "land", "loo", "meijer", "er", "ers", "sen", "s", "ens", "ing", "beek", "brink",
    "hout", "wijk", "boom", "steeg", "voort", "donk", "rade", "ven", "graaf", "schot", "kes", "kens", "ema",
    "enga", "stede", "burg", "haar", "mate",
)  # fmt: skip
TAIL_TSV = ("van", "van der", "van de", "van den", "de", "ter", "ten", "in 't", "van 't", "te")

# Given names by birth generation, most common first: (men, women).
GIVEN: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    1955: (
        ("Jan", "Peter", "Hans", "Kees", "Gerard", "Henk", "Wim", "Johan", "Piet", "Frank", "Rob", "Paul", "Ton",
         "Martin", "René", "André", "Ad", "Jaap", "Fred", "Ron", "Cor", "Theo", "Harry", "Bert", "Hendrik"),
        ("Maria", "Anneke", "Marianne", "Ingrid", "Monique", "Petra", "Yvonne", "Els", "Carla", "José", "Jolanda",
         "Anja", "Wilma", "Gerda", "Ria", "Karin", "Marja", "Linda", "Annemarie", "Hélène", "Joke", "Tineke", "Ans"),
    ),
    1970: (
        ("Mark", "Michel", "Patrick", "Marco", "Erik", "Dennis", "Jeroen", "Martijn", "Richard", "Robert", "Edwin",
         "Arjan", "Sander", "Ronald", "Remco", "Maarten", "Vincent", "Bart", "Marcel", "Raymond", "Rob", "Jan-Willem"),
        ("Linda", "Sandra", "Marieke", "Esther", "Saskia", "Mirjam", "Nicole", "Wendy", "Angelique", "Miranda",
         "Chantal", "Ilse", "Femke", "Manon", "Astrid", "Judith", "Jolanda", "Anne-Marie", "Petra", "Ingrid"),
    ),
    1985: (
        ("Kevin", "Tim", "Thomas", "Niels", "Rick", "Stefan", "Nick", "Bas", "Mike", "Joost", "Jeffrey", "Tom",
         "Sander", "Daan", "Robin", "Wouter", "Ruben", "Jasper", "Bram", "Jeroen", "Dennis", "Koen"),
        ("Lisa", "Kim", "Laura", "Anne", "Sanne", "Iris", "Manon", "Maaike", "Marloes", "Melissa", "Naomi",
         "Denise", "Charlotte", "Eva", "Fleur", "Nienke", "Lotte", "Esmée", "Kelly", "Inge", "Danielle"),
    ),
    1995: (
        ("Daan", "Sem", "Lucas", "Levi", "Thijs", "Jesse", "Milan", "Lars", "Luuk", "Bram", "Sven", "Stijn",
         "Thomas", "Ruben", "Tim", "Finn", "Max", "Jens", "Koen", "Julian", "Noël", "Niels"),
        ("Emma", "Sophie", "Julia", "Lisa", "Anna", "Lotte", "Eva", "Sanne", "Fleur", "Iris", "Isa", "Noa", "Femke",
         "Sara", "Tess", "Lieke", "Britt", "Demi", "Amber", "Romy", "Zoë", "Chloë"),
    ),
}  # fmt: skip

# Communities: (share of all persons, [(men, women, surnames)] sub-groups). Surnames most common first.
Community = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
TURKISH: Community = (
    ("Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Hasan", "İbrahim", "Murat", "Emre", "Burak", "Kemal", "Osman",
     "Yusuf", "Ömer", "Fatih", "Serkan", "Erkan", "Volkan", "Ferhat", "Ümit"),
    ("Ayşe", "Fatma", "Emine", "Hatice", "Zeynep", "Elif", "Merve", "Büşra", "Esra", "Özlem", "Derya", "Hülya",
     "Sevgi", "Gül", "Songül", "Melek", "Selin", "Tuğba"),
    ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir", "Arslan",
     "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek", "Polat", "Korkmaz", "Erdoğan",
     "Aktaş", "Güler", "Bulut", "Keskin", "Ünal", "Güneş", "Akgül", "Tekin", "Acar", "Gül", "Uçar", "Bozkurt"),
)  # fmt: skip
MOROCCAN: Community = (
    ("Mohamed", "Ahmed", "Mohammed", "Youssef", "Mustapha", "Abdelkader", "Said", "Rachid", "Karim", "Hamid",
     "Khalid", "Mourad", "Nordin", "Redouan", "Bilal", "Anouar", "Hicham", "Soufiane", "Ilias", "Ayoub", "Zakaria",
     "Yassine", "Hamza", "Mehdi"),
    ("Fatima", "Khadija", "Naima", "Nadia", "Samira", "Malika", "Latifa", "Zahra", "Hafsa", "Souad", "Loubna",
     "Siham", "Yasmina", "Meryem", "Sara", "Imane", "Houda", "Najat", "Ikram", "Hanane"),
    ("El Amrani", "Bakkali", "Benali", "El Idrissi", "Azzouzi", "El Haddouchi", "Ouali", "Amrani", "Aarab",
     "El Hamdaoui", "Ahmadi", "El Kaddouri", "Boussaid", "Chakir", "Tahiri", "Bouali", "Ziani", "El Mourabit",
     "Achahbar", "Essafi", "El Farissi", "El Yassini", "Bouhlal", "El Baghdadi", "Ait Hammou", "Haddou",
     "El Ouakili", "Boukhari", "Akkouh", "Zaoui", "Laghmouchi", "El Khayari"),
)  # fmt: skip
HINDUSTANI: Community = (
    ("Ravi", "Rajesh", "Radjesh", "Anil", "Sunil", "Navin", "Ashwin", "Kiran", "Vikash", "Rishi", "Sanjay", "Dinesh",
     "Amit", "Ramesh", "Soeniel"),
    ("Shanti", "Sharda", "Priya", "Anjali", "Soenita", "Sarita", "Poonam", "Devika", "Shiwani", "Reshma", "Sunita",
     "Kavita", "Nisha", "Asha"),
    ("Ramdin", "Ramsaran", "Jagesar", "Mahabier", "Soekhoe", "Bhoendie", "Ramcharan", "Kalloe", "Ramautar",
     "Sewdien", "Jhinkoe", "Mangroe", "Soerjoesing", "Baldew", "Bissessar", "Gangaram Panday", "Ramlal",
     "Hanoeman", "Chotkan", "Lachman", "Ramdas", "Autar"),
)  # fmt: skip
CREOLE: Community = (
    ("Marcel", "Errol", "Ricardo", "Romeo", "Clarence", "Humphrey", "Glenn", "Jerrel", "Dwight", "Orlando",
     "Roy", "Edgar", "Mitchell", "Rudie"),
    ("Shirley", "Sandra", "Gwendolyn", "Ruth", "Jennifer", "Natasha", "Melissa", "Charissa", "Ingrid", "Gerda",
     "Jacqueline", "Rosita", "Marlies", "Sharon"),
    ("Pinas", "Kross", "Pengel", "Sabajo", "Doest", "Refos", "Wijngaarde", "Zeefuik", "Eersel", "Karsters",
     "Esajas", "Vlijter", "Dors", "Brunings", "Linger", "Amania", "Seedorf", "Davids", "Tjon A Fong",
     "Tjin-A-Lim", "Kasanardjo", "Biswane", "Sapoen"),
)  # fmt: skip
POLISH: Community = (
    ("Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Michał", "Marcin", "Jakub", "Łukasz", "Mateusz",
     "Kamil", "Dawid", "Grzegorz", "Adam", "Marek", "Rafał", "Bartosz", "Wojciech"),
    ("Anna", "Katarzyna", "Magdalena", "Agnieszka", "Joanna", "Monika", "Aleksandra", "Małgorzata", "Ewa",
     "Karolina", "Natalia", "Justyna", "Paulina", "Agata", "Marta", "Dorota", "Beata"),
    ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
     "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Kwiatkowski", "Krawczyk",
     "Piotrowski", "Grabowski", "Nowakowski", "Pawłowski", "Michalski", "Król", "Wieczorek", "Jabłoński", "Wróbel",
     "Nowicki", "Majewski", "Olszewski", "Stępień", "Malinowski"),
)  # fmt: skip
INDONESIAN: Community = (
    ("Johannes", "Jacob", "Abraham", "Ronald", "Frans", "Budi", "Agus", "Rudi", "Andi", "Indra", "Bambang", "Eko",
     "Hendra", "Joko", "Wim"),
    ("Maria", "Elisabeth", "Josephine", "Yvonne", "Desiree", "Dewi", "Sri", "Siti", "Wati", "Putri", "Yuni",
     "Rina", "Dian", "Ratna"),
    ("Latuhihin", "Pattinama", "Tuhumury", "Manuputty", "Wattimena", "Sahetapy", "Pattiasina", "Lekatompessy",
     "Leiwakabessy", "Tahapary", "Sopacua", "Pattipeilohy", "Tehupeiory", "Nanlohy", "Huwae", "Matulessy",
     "Kromodikoro", "Sastrowidjojo", "Setiawan", "Santoso", "Wibowo", "Pranoto", "Soedarmo", "Kartodirdjo"),
)  # fmt: skip
COMMUNITIES: tuple[tuple[str, float, Community], ...] = (
    ("turkish", 0.030, TURKISH),
    ("moroccan", 0.029, MOROCCAN),
    ("hindustani", 0.013, HINDUSTANI),
    ("creole", 0.012, CREOLE),
    ("polish", 0.024, POLISH),
    ("indonesian", 0.012, INDONESIAN),
)
# The namesakes' common community names: top given names x top surnames of these.
COMMON_COMMUNITY = ("turkish", "moroccan", "polish")

_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "İ": "I", "ø": "o", "Ø": "O", "ß": "ss"})


def fold(text: str) -> str:
    """Drop accents and diacritics (Çelik -> Celik, Łukasz -> Lukasz, Zoë -> Zoe)."""
    text = text.translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _polish_female(surname: str) -> str:
    for male, female in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
        if surname.endswith(male):
            return surname[: -len(male)] + female
    return surname


# -- companies -----------------------------------------------------------------------------------------------------

# (canonical name, variants as typed in an ATS, e-mail domain)
COMPANIES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("ASML", ("ASML Netherlands B.V.", "ASML Holding"), "asml.com"),
    ("Philips", ("Koninklijke Philips N.V.", "Philips Nederland B.V."), "philips.com"),
    ("Shell", ("Shell Nederland", "Shell Nederland Raffinaderij B.V."), "shell.com"),
    ("Unilever", ("Unilever Nederland B.V.",), "unilever.com"),
    ("Heineken", ("Heineken Nederland B.V.", "HEINEKEN"), "heineken.com"),
    ("ING", ("ING Bank N.V.", "ING Nederland"), "ing.com"),
    ("Rabobank", ("Coöperatieve Rabobank U.A.", "Rabobank Nederland"), "rabobank.nl"),
    ("ABN AMRO", ("ABN AMRO Bank N.V.", "ABN Amro"), "abnamro.com"),
    ("KPN", ("Koninklijke KPN N.V.", "KPN B.V."), "kpn.com"),
    ("Albert Heijn", ("Albert Heijn B.V.", "AH"), "ah.nl"),
    ("Jumbo Supermarkten", ("Jumbo",), "jumbo.com"),
    ("PostNL", ("PostNL Pakketten", "Post NL"), "postnl.nl"),
    ("NS", ("Nederlandse Spoorwegen", "NS Reizigers B.V."), "ns.nl"),
    ("KLM", ("KLM Royal Dutch Airlines", "Koninklijke Luchtvaart Maatschappij"), "klm.com"),
    ("Schiphol Group", ("Royal Schiphol Group", "Schiphol"), "schiphol.nl"),
    ("Booking.com", ("Booking.com B.V.",), "booking.com"),
    ("Coolblue", ("Coolblue B.V.",), "coolblue.nl"),
    ("bol.com", ("Bol.com B.V.", "bol"), "bol.com"),
    ("Exact", ("Exact Software",), "exact.com"),
    ("TomTom", ("TomTom International B.V.",), "tomtom.com"),
    ("DSM-Firmenich", ("DSM", "Koninklijke DSM"), "dsm-firmenich.com"),
    ("AkzoNobel", ("Akzo Nobel N.V.",), "akzonobel.com"),
    ("Wolters Kluwer", ("Wolters Kluwer Nederland",), "wolterskluwer.com"),
    ("Aegon", ("Aegon Nederland N.V.",), "aegon.nl"),
    ("NN Group", ("Nationale-Nederlanden", "NN"), "nn.nl"),
    ("Achmea", ("Achmea B.V.", "Centraal Beheer"), "achmea.nl"),
    ("a.s.r.", ("ASR Nederland", "a.s.r. verzekeringen"), "asr.nl"),
    ("Vattenfall", ("Vattenfall Nederland", "Nuon"), "vattenfall.com"),
    ("Eneco", ("Eneco B.V.",), "eneco.com"),
    ("Essent", ("Essent N.V.",), "essent.nl"),
    ("BAM", ("Koninklijke BAM Groep", "BAM Bouw en Techniek"), "bam.com"),
    ("Heijmans", ("Heijmans N.V.",), "heijmans.nl"),
    ("VolkerWessels", ("Koninklijke VolkerWessels", "Volker Wessels"), "volkerwessels.com"),
    ("Boskalis", ("Royal Boskalis",), "boskalis.com"),
    ("Van Oord", ("Van Oord Marine Contractors",), "vanoord.com"),
    ("Arcadis", ("Arcadis Nederland B.V.",), "arcadis.com"),
    ("Fugro", ("Fugro N.V.",), "fugro.com"),
    ("DAF Trucks", ("DAF", "DAF Trucks N.V."), "daf.com"),
    ("VDL Groep", ("VDL", "VDL Nedcar"), "vdlgroep.com"),
    ("Damen Shipyards", ("Damen Shipyards Group", "Damen"), "damen.com"),
    ("Gemeente Amsterdam", ("Gem. Amsterdam",), "amsterdam.nl"),
    ("Gemeente Rotterdam", ("Gem. Rotterdam",), "rotterdam.nl"),
    ("Belastingdienst", ("Ministerie van Financiën",), "belastingdienst.nl"),
    ("UWV", ("Uitvoeringsinstituut Werknemersverzekeringen",), "uwv.nl"),
    ("Erasmus MC", ("Erasmus Medisch Centrum",), "erasmusmc.nl"),
    ("UMC Utrecht", ("Universitair Medisch Centrum Utrecht",), "umcutrecht.nl"),
    ("Action", ("Action Nederland B.V.",), "action.com"),
    ("HEMA", ("Hema B.V.",), "hema.nl"),
    ("De Bijenkorf", ("Bijenkorf",), "debijenkorf.nl"),
    ("Kruidvat", ("A.S. Watson (Kruidvat)",), "kruidvat.nl"),
    ("Lidl Nederland", ("Lidl",), "lidl.nl"),
    ("Picnic", ("Picnic Technologies B.V.",), "teampicnic.com"),
    ("Just Eat Takeaway.com", ("Thuisbezorgd.nl", "Takeaway.com"), "justeattakeaway.com"),
    ("Adyen", ("Adyen N.V.",), "adyen.com"),
    ("Signify", ("Philips Lighting", "Signify Netherlands B.V."), "signify.com"),
    ("NXP", ("NXP Semiconductors",), "nxp.com"),
    ("Nedap", ("Nedap N.V.",), "nedap.com"),
    ("FrieslandCampina", ("Royal FrieslandCampina",), "frieslandcampina.com"),
    ("Randstad", ("Randstad Nederland",), "randstad.nl"),
    ("Stedin", ("Stedin Netbeheer",), "stedin.net"),
    ("Alliander", ("Liander",), "alliander.com"),
    ("Sligro", ("Sligro Food Group",), "sligro.nl"),
)  # fmt: skip
SME_SECTORS = (
    "Bouw", "Installatietechniek", "Transport", "Logistiek", "Schoonmaakbedrijf", "Thuiszorg", "Accountants",
    "Advocaten", "Metaalbewerking", "Hoveniers", "Elektrotechniek", "Schilderwerken", "Administratiekantoor",
    "Autobedrijf", "Bakkerij", "ICT", "Makelaardij", "Kinderopvang", "Tandartspraktijk", "Loonbedrijf",
)  # fmt: skip
AGENCY_INBOXES = (
    "cv@tempo-team.nl", "planning@startpeople.nl", "sollicitatie@youngcapital.nl", "inschrijving@olympia.nl",
    "kandidaten@adecco.nl", "intake@manpower.nl", "vacatures@uitzendbureau-flex.nl", "info@werkgroep-detachering.nl",
    "recruitment@covebo.nl", "jobs@otto-workforce.nl",
)  # fmt: skip
PLACEHOLDER_EMAILS = ("info@", "info@info.nl", "geen@geen.nl", "noemail@noemail.com", "onbekend@onbekend.nl",
                      "x@x.nl", "nvt@nvt.nl", "test@test.nl")
PLACEHOLDER_PHONES = ("0000000000", "06-00000000", "0612345678", "000", "1234567890", "+31600000000", "06-11111111")
PROVIDERS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 34), ("hotmail.com", 14), ("hotmail.nl", 6), ("outlook.com", 9), ("ziggo.nl", 6),
    ("kpnmail.nl", 5), ("live.nl", 5), ("live.com", 2), ("icloud.com", 4), ("yahoo.com", 2), ("planet.nl", 2),
    ("home.nl", 2), ("xs4all.nl", 2), ("upcmail.nl", 1), ("casema.nl", 1), ("msn.com", 1),
)  # fmt: skip
PLUS_TAGS = ("werk", "jobs", "vacatures", "cv", "indeed", "sollicitatie", "linkedin")
AREA_CODES = (
    "10", "20", "23", "24", "26", "30", "33", "35", "36", "38", "40", "43", "45", "46", "50", "53", "55", "58",
    "70", "71", "72", "73", "74", "75", "76", "77", "78", "79", "113", "161", "172", "180", "182", "222", "223",
    "229", "251", "299", "314", "321", "341", "345", "413", "478", "486", "492", "497", "511", "513", "546",
    "591", "595",
)  # fmt: skip


# -- the person ----------------------------------------------------------------------------------------------------


@dataclass
class Employer:
    name: str
    variants: tuple[str, ...]
    domain: str
    switchboard: str  # national number digits, e.g. "201234567"


@dataclass
class Person:
    given: str
    tsv: str  # tussenvoegsel, "" when none
    core: str  # the surname without its tussenvoegsel
    initials: str
    female: bool
    community: str
    dob: date
    phones: list[str] = field(default_factory=list)  # national numbers ("612345678"), first the current one
    phone_style: int = 0  # the format the person types
    emails: list[str] = field(default_factory=list)
    employers: list[Employer] = field(default_factory=list)
    accents: bool = True  # whether the person's own records keep diacritics

    @property
    def surname(self) -> str:
        return f"{self.tsv} {self.core}".strip()


def _zipf(n: int, offset: float = 1.5) -> list[float]:
    return [1.0 / (i + offset) for i in range(n)]


class _Gen:
    """All drawing goes through one seeded Random, so a seed gives the same records every time."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used_emails: set[str] = {email_key(e) for e in AGENCY_INBOXES + PLACEHOLDER_EMAILS}
        self.used_phones: set[str] = {phone_key(p) for p in PLACEHOLDER_PHONES}
        self.employers = [self._big(c) for c in COMPANIES]
        self.sme: dict[str, Employer] = {}
        self.head_w = [w for _, _, w in DUTCH_HEAD]
        self.mid_w = _zipf(len(DUTCH_MID), 40)
        self.tail_head_w = _zipf(len(TAIL_HEADS), 15)
        self.tail_tail_w = _zipf(len(TAIL_TAILS), 15)
        self.given_w = {g: (_zipf(len(m), 2), _zipf(len(f), 2)) for g, (m, f) in GIVEN.items()}

    # -- drawing helpers
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items: Sequence[str], weights: Sequence[float] | None = None) -> str:
        return self.rng.choices(items, weights)[0] if weights else self.rng.choice(items)

    def _switchboard(self) -> str:
        while True:
            area = self.pick(AREA_CODES[:28])
            digits = "".join(str(self.rng.randint(0, 9)) for _ in range(8 - len(area)))
            number = area + str(self.rng.randint(2, 9)) + digits
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def _big(self, company: tuple[str, tuple[str, ...], str]) -> Employer:
        return Employer(company[0], company[1], company[2], self._switchboard())

    def employer(self) -> Employer:
        if self.chance(0.55):
            return self.pick_employer(self.employers)
        if len(self.sme) > 400 and self.chance(0.5):  # small firms recur too
            return self.pick_employer(list(self.sme.values()))
        tsv, core = self.dutch_surname()
        sector = self.pick(SME_SECTORS)
        owner = f"{tsv.capitalize()} {core}".strip() if tsv else core
        name = self.pick([f"{owner} {sector} B.V.", f"{sector} {owner}", f"{owner} & Zonen", f"{owner} {sector}"])
        if name not in self.sme:
            slug = re.sub(r"[^a-z0-9]", "", fold(name.lower().replace(" b.v.", "")))
            self.sme[name] = Employer(name, (name.replace(" B.V.", ""), name.upper()), f"{slug[:24]}.nl",
                                      self._switchboard())
        return self.sme[name]

    def pick_employer(self, pool: Sequence[Employer]) -> Employer:
        """Big employers first in the list a little more often (no single one above ~4% of the picks)."""
        return self.rng.choices(pool, _zipf(len(pool), 12))[0]

    def birth_date(self) -> date:
        years = list(range(1955, 2007))
        weights = [0.5 + min(y - 1955, 30) / 20 if y < 2002 else 1.6 - (y - 2001) * 0.2 for y in years]
        year = self.rng.choices(years, weights)[0]
        return date(year, 1, 1) + timedelta(days=self.rng.randrange(365))

    def dutch_surname(self) -> tuple[str, str]:
        r = self.rng.random()
        if r < 0.15:  # the top ~100 names: ~14% of people of Dutch descent
            tsv, core, _ = self.rng.choices(DUTCH_HEAD, self.head_w)[0]
            return tsv, core
        if r < 0.21:
            return self.rng.choices(DUTCH_MID, self.mid_w)[0]
        head = self.rng.choices(TAIL_HEADS, self.tail_head_w)[0]
        s = self.rng.random()
        if s < 0.25:  # "van Oosterhout", "ter Horst"-like
            tsv = self.rng.choices(TAIL_TSV, (40, 20, 12, 10, 18, 6, 4, 3, 2, 2))[0]
            core = head if self.chance(0.35) else head + self.rng.choices(TAIL_TAILS, self.tail_tail_w)[0]
            return tsv, core
        return "", head + self.rng.choices(TAIL_TAILS, self.tail_tail_w)[0]

    def given_name(self, year: int, female: bool, common: bool = False) -> str:
        gen = max(g for g in GIVEN if g <= max(year, 1955))
        names = GIVEN[gen][female]
        weights = self.given_w[gen][female]
        if common:
            return self.pick(names[:6])
        name = self.rng.choices(names, weights)[0]
        if self.chance(0.25):  # a name from the neighbouring generation
            other = self.rng.choice([g for g in GIVEN if g != gen])
            name = self.rng.choices(GIVEN[other][female], self.given_w[other][female])[0]
        return name

    def community(self) -> tuple[str, Community | None]:
        r = self.rng.random()
        for name, share, community in COMMUNITIES:
            if r < share:
                return name, community
            r -= share
        return "dutch", None

    def person(self, common: tuple[str, str, str, str, bool] | None = None, dob: date | None = None) -> Person:
        """A new person; `common` fixes (community, given, tsv, core, female) for namesakes."""
        dob = dob or self.birth_date()
        if common:
            community_name, given, tsv, core, female = common
        else:
            female = self.chance(0.5)
            community_name, community = self.community()
            if community is None:
                tsv, core = self.dutch_surname()
                given = self.given_name(dob.year, female)
            else:
                men, women, surnames = community
                given = self.rng.choices(women if female else men, _zipf(len(women if female else men), 1.5))[0]
                tsv, core = "", self.rng.choices(surnames, _zipf(len(surnames), 10))[0]
                if community_name == "polish" and female:
                    core = _polish_female(core)
        letters = [part[0] for part in re.split(r"[- ]", given) if part]
        for _ in range(self.rng.choices((0, 1, 2), (45, 40, 15))[0] if community_name == "dutch" else 0):
            letters.append(self.pick("JMAHCPWGTE"))
        p = Person(given, tsv, core, "".join(f"{c.upper()}." for c in letters), female, community_name, dob,
                   accents=self.chance(0.6))
        p.phones.append(self.new_phone())
        p.phone_style = self.rng.randrange(len(PHONE_STYLES_MOBILE))
        p.employers = [self.employer() for _ in range(self.rng.choices((1, 2, 3, 4), (40, 30, 20, 10))[0])]
        return p

    # -- contacts
    def new_phone(self) -> str:
        while True:
            if self.chance(0.82):  # mobile: 06-1 .. 06-5 allocated, 06-0 and 06-9 not
                first = self.pick("09") if self.chance(UNALLOCATED_SHARE) else self.pick("12345", (30, 25, 20, 15, 10))
                number = "6" + first + "".join(str(self.rng.randint(0, 9)) for _ in range(7))
            else:  # landline; a subscriber number starting with 0 or 1 is not in use
                area = self.pick(AREA_CODES)
                lead = self.pick("01") if self.chance(UNALLOCATED_SHARE) else str(self.rng.randint(2, 9))
                number = area + lead + "".join(str(self.rng.randint(0, 9)) for _ in range(8 - len(area)))
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def new_email(self, p: Person, work: Employer | None = None) -> str:
        g = re.sub(r"[^a-z]", "", fold(p.given.lower()))
        ini = re.sub(r"[^a-z]", "", fold(p.initials.lower())) or g[:1]
        tsv = re.sub(r"[^a-z]", "", fold(p.tsv.lower()))
        core = re.sub(r"[^a-z]", "", fold(p.core.lower()))
        yy = f"{p.dob.year % 100:02d}"
        for attempt in range(50):
            if work:
                local = self.pick([f"{g}.{tsv}{core}", f"{g}.{p.tsv.replace(' ', '.')}.{core}".replace("..", "."),
                                   f"{ini[0]}.{tsv}{core}", f"{ini}.{core}", f"{g}{core[:1]}"]).strip(".")
                domain = work.domain
            else:
                local = self.pick([
                    f"{g}.{tsv}{core}", f"{g}{tsv}{core}", f"{ini[0]}.{tsv}{core}", f"{ini[0]}{tsv}{core}",
                    f"{g}.{core}", f"{g}_{core}", f"{core}.{g}", f"{g}{yy}", f"{g}.{tsv}{core}{yy}",
                    f"{g}{core}{self.rng.randint(1, 999)}", f"{g}{core[:3]}{self.rng.randint(1, 99)}",
                    f"{tsv}{core}{ini}", f"{g}-{tsv}{core}",
                ])
                domain = self.rng.choices([d for d, _ in PROVIDERS], [w for _, w in PROVIDERS])[0]
            if attempt > 3:
                local += str(self.rng.randint(1, 9999))
            email = f"{local}@{domain}"
            if email_key(email) not in self.used_emails:
                self.used_emails.add(email_key(email))
                return email
        raise RuntimeError("no free e-mail address")  # pragma: no cover


# -- keys (also used by the tests to check the shapes) ------------------------------------------------------------


def email_key(email: str) -> str:
    """An address as the mailbox it reaches: lower case; gmail without dots and +tags."""
    local, _, domain = email.strip().lower().partition("@")
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.split("+", 1)[0].replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def phone_key(phone: str) -> str:
    """A Dutch number as its national significant digits ("+31 6 1234 5678" -> "612345678")."""
    digits = re.sub(r"\D", "", phone.replace("(0)", ""))
    for prefix in ("0031", "31"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 9:
            return digits[len(prefix):]
    return digits[1:] if digits.startswith("0") else digits


def name_key(c: Candidate) -> str:
    """The letters of a record's name, folded and sorted by word ("Berg, van den" ~ "van den Berg")."""
    text = c.full_name or f"{c.first_name} {c.last_name}"
    return " ".join(sorted(re.sub(r"[^a-z' ]", " ", fold(text.lower())).split()))


# -- rendering -----------------------------------------------------------------------------------------------------

PHONE_STYLES_MOBILE = (
    "06-{a}", "06 {a}", "06{a}", "06 {b} {c}", "06-{d} {e} {f}", "+31 6 {b} {c}", "+316{a}", "+31 (0)6 {a}",
    "00316{a}", "+31-6-{a}",
)


def format_phone(number: str, style: int) -> str:
    if number.startswith("6") and len(number) == 9:
        a = number[1:]
        return PHONE_STYLES_MOBILE[style % len(PHONE_STYLES_MOBILE)].format(
            a=a, b=a[:4], c=a[4:], d=a[:3], e=a[3:6], f=a[6:])
    area = next(ac for ac in sorted(AREA_CODES, key=len, reverse=True) if number.startswith(ac))
    sub = number[len(area):]
    spaced = f"{sub[:3]} {sub[3:]}" if len(sub) == 7 else f"{sub[:2]} {sub[2:4]} {sub[4:]}"
    styles = (f"(0{area}) {spaced}", f"0{area}-{sub}", f"0{area} {spaced}", f"0{area}{sub}", f"+31 {area} {spaced}",
              f"0031{area}{sub}", f"+31 (0){area} {sub}", f"0{area} - {sub}")
    return styles[style % len(styles)]


def _typo(rng: random.Random, word: str) -> str:
    """One typing error: a swap of neighbours, a dropped or doubled letter, a near key, or ij <-> y."""
    if "ij" in word and rng.random() < 0.25:
        return word.replace("ij", "y", 1)
    spots = [i for i in range(1, len(word) - 1) if word[i].isalpha()]
    if not spots:
        return word + word[-1]
    i = rng.choice(spots)
    kind = rng.randrange(4)
    if kind == 0 and word[i] != word[i + 1] and word[i + 1].isalpha():
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    near = {"a": "s", "e": "r", "i": "o", "o": "i", "n": "m", "m": "n", "r": "t", "s": "d", "t": "r", "d": "s",
            "k": "l", "l": "k", "u": "y", "h": "j", "j": "h", "b": "v", "v": "b", "g": "h"}
    c = word[i]
    sub = near.get(c.lower(), "e" if c.lower() != "e" else "a")
    return word[:i] + (sub.upper() if c.isupper() else sub) + word[i + 1:]


def _cap_tsv(tsv: str) -> str:
    return tsv[:1].upper() + tsv[1:]


@dataclass
class NameParts:
    given: str
    tsv: str
    core: str


def render_name(rng: random.Random, system: str, n: NameParts, style: str) -> tuple[str, str, str]:
    """(first_name, last_name, full_name) of a name in one of the styles an ATS holds."""
    surname = f"{n.tsv} {n.core}".strip()
    if style == "fl":
        return n.given, surname, ""
    if style == "fl_cap":
        return n.given, f"{_cap_tsv(n.tsv)} {n.core}".strip(), ""
    if style == "fl_rev":  # OTYS keeps the tussenvoegsel in a field of its own: "Berg, van den"
        return n.given, rng.choice((f"{n.core}, {n.tsv}", f"{n.core} {n.tsv}")) if n.tsv else n.core, ""
    if style == "full":
        return "", "", f"{n.given} {surname}"
    if style == "full_rev":
        return "", "", f"{n.core}, {n.given} {n.tsv}".strip() if n.tsv else f"{n.core}, {n.given}"
    if style == "swap":
        return (surname, n.given, "") if system != "carerix" else ("", "", f"{surname} {n.given}")
    if style == "upper":
        return n.given.upper(), surname.upper(), ""
    raise ValueError(style)  # pragma: no cover


def system_style(rng: random.Random, system: str, has_tsv: bool) -> str:
    if system == "bullhorn":
        styles, weights = ("fl", "fl_cap", "fl_rev"), (85, 10, 5)
    elif system == "otys":
        styles, weights = ("fl", "fl_rev", "fl_cap"), (60, 30, 10)
    else:
        styles, weights = ("full", "fl", "full_rev"), (70, 20, 10)
    style = rng.choices(styles, weights)[0]
    return style if has_tsv or style not in ("fl_rev",) else "fl"


# -- records -------------------------------------------------------------------------------------------------------


@dataclass
class Draft:
    system: str
    first_name: str = ""
    last_name: str = ""
    full_name: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    dob: date | None = None
    employer: str = ""


def _systems(g: _Gen, k: int) -> list[str]:
    order = list(SYSTEMS)
    g.rng.shuffle(order)
    systems = (order * 2)[:k]
    if g.chance(0.10):  # a duplicate inside one ATS
        systems[1] = systems[0]
    return systems


def _more_employers(g: _Gen, p: Person, k: int) -> None:
    """At least `k` different employers in the person's history (job changes)."""
    distinct: dict[str, Employer] = {}
    for e in p.employers:
        distinct.setdefault(e.name, e)
    while len(distinct) < k:
        e = g.employer()
        distinct.setdefault(e.name, e)
    p.employers = list(distinct.values())


def _employer_text(g: _Gen, e: Employer) -> str:
    return g.pick(e.variants) if g.chance(0.25) else e.name


def _email_case(g: _Gen, email: str) -> str:
    if g.chance(0.1):
        local, _, domain = email.partition("@")
        return ".".join(part.capitalize() for part in local.split(".")) + "@" + domain.capitalize()
    return email


def _gmail_variant(g: _Gen, email: str) -> str:
    local, _, domain = email.partition("@")
    if domain != "gmail.com" or not g.chance(0.5):
        return _email_case(g, email)
    kind = g.rng.randrange(3)
    if kind == 0:  # dots added or removed
        if "." in local:
            local = local.replace(".", "", 1)
        else:
            i = g.rng.randrange(1, len(local))
            local = local[:i] + "." + local[i:]
    elif kind == 1:
        local = f"{local}+{g.pick(PLUS_TAGS)}"
    else:
        local, domain = local.replace(".", ""), g.pick(("gmail.com", "googlemail.com"))
    return f"{local}@{domain}"


def _messy_name(g: _Gen, p: Person, system: str) -> tuple[str, str, str]:
    """A name with the usual mess (all shapes but name_yob and namesake)."""
    given, core = p.given, p.core
    if g.chance(0.05):
        given = p.initials
    if g.chance(0.04):
        if g.chance(0.6):
            core = _typo(g.rng, core)
        else:
            given = _typo(g.rng, given)
    parts = NameParts(given, p.tsv, core)
    if not p.accents or g.chance(0.3):
        parts = NameParts(fold(given), fold(p.tsv), fold(core))
    style = system_style(g.rng, system, bool(p.tsv))
    r = g.rng.random()
    if r < 0.02:
        style = "swap"
    elif r < 0.05:
        style = "upper"
    return render_name(g.rng, system, parts, style)


def _clean_name(g: _Gen, p: Person, system: str, variant: str = "exact") -> tuple[str, str, str]:
    """The name as the person writes it, or with exactly one change (name_yob, namesakes)."""
    given, core, tsv = p.given, p.core, p.tsv
    if not p.accents:
        given, core = fold(given), fold(core)
    if variant == "typo":
        if g.chance(0.6):
            core = _typo(g.rng, core)
        else:
            given = _typo(g.rng, given)
    elif variant == "accent":
        given, core = fold(given), fold(core)
    style = g.pick(("fl", "fl_cap")) if system != "carerix" else g.pick(("full", "fl"))
    if variant == "reorder":
        style = "fl_rev" if system != "carerix" else "full_rev"
    return render_name(g.rng, system, NameParts(given, tsv, core), style)


def _dob_variant(g: _Gen, dob: date) -> date:
    """Another day or month in the same year: a typo, day and month swapped, or a careless 1 January."""
    kind = g.rng.choices(("typo", "swap", "jan1"), (45, 30, 25))[0]
    if kind == "swap" and dob.day <= 12 and dob.day != dob.month:
        return date(dob.year, dob.day, dob.month)
    if kind == "jan1" and (dob.month, dob.day) != (1, 1):
        return date(dob.year, 1, 1)
    for _ in range(20):
        day, month = dob.day, dob.month
        r = g.rng.random()
        if r < 0.4 and day >= 10 and day % 10 and day % 10 <= 3:  # 12 -> 21
            day = int(str(day)[::-1])
        elif r < 0.8:
            day += g.rng.choice((-1, 1, -10, 10)) if day > 10 else g.rng.choice((-1, 1))
        else:
            month += g.rng.choice((-1, 1))
        try:
            out = date(dob.year, month, day)
        except ValueError:
            continue
        if out != dob:
            return out
    return date(dob.year, 1, 1) if (dob.month, dob.day) != (1, 1) else date(dob.year, 1, 2)


def _maybe_dob(g: _Gen, p: Person) -> date | None:
    if g.chance(MISS_DOB):
        return None
    return _dob_variant(g, p.dob) if g.chance(0.03) else p.dob


def _phone_text(g: _Gen, p: Person, number: str) -> str:
    return format_phone(number, p.phone_style if g.chance(0.6) else g.rng.randrange(10))


def _unique(g: _Gen, p: Person) -> list[Draft]:
    system = g.rng.choices(SYSTEMS, (40, 35, 25))[0]
    d = Draft(system, *_messy_name(g, p, system))
    employer = p.employers[-1]
    r = g.rng.random()
    if r < 0.015:
        d.emails = [g.pick(AGENCY_INBOXES)]
    elif r < 0.035:
        d.emails = [g.pick(PLACEHOLDER_EMAILS)]
    elif r > MISS_EMAIL + 0.035:
        d.emails = [_email_case(g, g.new_email(p, employer if g.chance(0.12) else None))]
    r = g.rng.random()
    if r < 0.02:
        d.phones = [format_phone(employer.switchboard, g.rng.randrange(8))]
    elif r < 0.04:
        d.phones = [g.pick(PLACEHOLDER_PHONES)]
    elif r > MISS_PHONE + 0.04:
        d.phones = [_phone_text(g, p, p.phones[0])]
    d.dob = _maybe_dob(g, p)
    d.employer = "" if g.chance(MISS_EMPLOYER) else _employer_text(g, employer)
    return [d]


def _email_group(g: _Gen, p: Person, k: int) -> list[Draft]:
    email = g.new_email(p)
    out = []
    for system in _systems(g, k):
        d = Draft(system, *_messy_name(g, p, system))
        d.emails = [_gmail_variant(g, email)]
        if g.chance(0.1):
            d.emails.append(g.new_email(p, p.employers[-1]))
        r = g.rng.random()
        if r < 0.02:
            d.phones = [g.pick(PLACEHOLDER_PHONES)]
        elif r < 0.02 + MISS_PHONE:
            pass
        elif r < 0.80:
            d.phones = [_phone_text(g, p, p.phones[0])]
        else:
            p.phones.append(g.new_phone())
            d.phones = [_phone_text(g, p, p.phones[-1])]
        d.dob = _maybe_dob(g, p)
        d.employer = "" if g.chance(MISS_EMPLOYER) else _employer_text(g, g.rng.choice(p.employers))
        out.append(d)
    return out


def _phone_group(g: _Gen, p: Person, k: int) -> list[Draft]:
    _more_employers(g, p, k)
    out = []
    for i, system in enumerate(_systems(g, k)):
        d = Draft(system, *_messy_name(g, p, system))
        d.phones = [_phone_text(g, p, p.phones[0])]
        employer = p.employers[i]
        r = g.rng.random()
        if r < 0.02:
            d.emails = [g.pick(PLACEHOLDER_EMAILS)]
        elif r > 0.02 + MISS_EMAIL:
            d.emails = [g.new_email(p, employer if g.chance(0.35) else None)]
        d.dob = _maybe_dob(g, p)
        d.employer = "" if g.chance(MISS_EMPLOYER / 2) else _employer_text(g, employer)
        out.append(d)
    return out


def _name_yob_group(g: _Gen, p: Person, k: int) -> list[Draft]:
    same_dob = g.chance(0.45)
    same_employer = g.chance(0.5)
    _more_employers(g, p, k)
    variants = ["exact", "typo", "accent", "reorder"]
    out = []
    for i, system in enumerate(_systems(g, k)):
        variant = "exact" if i == 0 else g.rng.choices(variants, (40, 25, 15, 20))[0]
        if variant == "accent" and (not p.accents or fold(p.given + p.core) == p.given + p.core):
            variant = "typo"
        if variant == "reorder" and not p.tsv:
            variant = "exact"
        d = Draft(system, *_clean_name(g, p, system, variant))
        if i > 0:  # a re-application years later: new address and number
            p.phones.append(g.new_phone())
        if not g.chance(MISS_EMAIL):
            d.emails = [g.new_email(p, p.employers[i] if g.chance(0.15) else None)]
        if not g.chance(MISS_PHONE):
            d.phones = [_phone_text(g, p, p.phones[-1])]
        d.dob = p.dob if same_dob or i == 0 else _dob_variant(g, p.dob)
        if same_employer:
            d.employer = p.employers[-1].name
        elif not g.chance(MISS_EMPLOYER):
            d.employer = _employer_text(g, p.employers[i])
        out.append(d)
    return out


def _namesake_group(g: _Gen, k: int) -> list[tuple[Person, Draft]]:
    dob = g.birth_date()
    female = g.chance(0.5)
    if g.chance(0.75):
        tsv, core, _ = g.rng.choice(TOP_DUTCH)
        common = ("dutch", g.given_name(dob.year, female, common=True), tsv, core, female)
    else:
        wanted = g.pick(COMMON_COMMUNITY)
        name, _, (men, women, surnames) = next(c for c in COMMUNITIES if c[0] == wanted)
        core = g.pick(surnames[:4])
        common = (name, g.pick((women if female else men)[:3]), "", _polish_female(core) if female else core, female)
    out: list[tuple[Person, Draft]] = []
    employers: set[str] = set()
    for _ in range(k):
        day = dob if g.chance(0.05) else date(dob.year, 1, 1) + timedelta(days=g.rng.randrange(365))
        p = g.person(common, day)
        p.accents = True
        while p.employers[-1].name in employers:
            p.employers[-1] = g.employer()
        employers.add(p.employers[-1].name)
        system = g.pick(SYSTEMS)
        d = Draft(system, *_clean_name(g, p, system))
        if not g.chance(MISS_EMAIL):
            d.emails = [g.new_email(p)]
        if not g.chance(MISS_PHONE):
            d.phones = [_phone_text(g, p, p.phones[0])]
        d.dob = None if g.chance(MISS_DOB / 2) else p.dob
        d.employer = "" if g.chance(MISS_EMPLOYER) else _employer_text(g, p.employers[-1])
        out.append((p, d))
    return out


def generate_independent(n: int, seed: int) -> list[GeneratedRecord]:
    """`n` records (exactly) of Dutch candidates with ground truth; the same `seed` gives the same records."""
    g = _Gen(seed)
    groups: list[tuple[str, list[Draft]]] = []
    total = 0
    while total < n:
        left = n - total
        r = g.rng.random()
        k = g.rng.choices(GROUP_SIZES, GROUP_WEIGHTS)[0]
        if r < P_NAMESAKE and left >= 2:
            for _, draft in _namesake_group(g, min(g.rng.choices((2, 3), (75, 25))[0], left)):
                groups.append(("namesake", [draft]))
                total += 1
            continue
        r -= P_NAMESAKE
        p = g.person()
        if k > left or r >= P_EMAIL + P_PHONE + P_NAME_YOB:
            groups.append(("unique", _unique(g, p)))
        elif r < P_EMAIL:
            groups.append(("email", _email_group(g, p, k)))
        elif r < P_EMAIL + P_PHONE:
            groups.append(("phone", _phone_group(g, p, k)))
        else:
            groups.append(("name_yob", _name_yob_group(g, p, k)))
        total += len(groups[-1][1])
    rows = [(f"i{index:06d}", shape, d) for index, (shape, drafts) in enumerate(groups) for d in drafts]
    g.rng.shuffle(rows)
    next_id = {"bullhorn": 100_000, "otys": 2_400_000, "carerix": 51_000}
    out = []
    for cluster, shape, d in rows:
        next_id[d.system] += g.rng.randint(1, 4)
        candidate = Candidate(
            system=d.system, record_id=str(next_id[d.system]), first_name=d.first_name, last_name=d.last_name,
            full_name=d.full_name, emails=tuple(d.emails), phones=tuple(d.phones), dob=d.dob, employer=d.employer,
        )
        out.append(GeneratedRecord(candidate, cluster, shape))
    return out


def write_independent_csv(path: str | Path, n: int = 20_000, seed: int = 7) -> int:
    """Write `generate_independent(n, seed)` in the reconcile/evaluate CSV format; returns the number of rows."""
    return write_csv(generate_independent(n, seed), path)
