"""Fictional people: names in WoS AU/AF form, e-mail addresses, ORCID and ResearcherID ids."""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

from collabscope.synth import vocab

_CN_CUM: list[float] = []
_total = 0.0
for _w in vocab.CN_SURNAME_WEIGHTS:
    _total += _w
    _CN_CUM.append(_total)


@dataclass(slots=True)
class Person:
    surname: str
    given: str  # as in AF, e.g. 'Xiaoming', 'John A.', 'Chia-Hui'
    initials: str  # as in AU, e.g. 'XM', 'JA', 'CH'
    email_local: str
    culture: str

    @property
    def au(self) -> str:
        return f"{self.surname}, {self.initials}"

    @property
    def af(self) -> str:
        return f"{self.surname}, {self.given}"


def _syllable_given(rng: random.Random, syllables: list[str], hyphen: float) -> tuple[str, str]:
    rnd = rng.random
    first = syllables[int(rnd() * len(syllables))]
    if rnd() < 0.3:
        return first, first[0]
    second = syllables[int(rnd() * len(syllables))]
    if rnd() < hyphen:
        return f"{first}-{second}", first[0] + second[0]
    return first + second.lower(), first[0] + second[0]


def make_person(rng: random.Random, culture: str) -> Person:
    """A fictional person of a name culture (see vocab.CULTURES)."""
    rnd = rng.random
    if culture == "cn":
        surname = vocab.CN_SURNAMES[bisect.bisect_right(_CN_CUM, rnd() * _CN_CUM[-1])]
        given, initials = _syllable_given(rng, vocab.CN_SYLLABLES, 0.08)
        local = (surname + given.replace("-", "")).lower()
        if rnd() < 0.5:
            local += str(1 + int(rnd() * 1999))
    elif culture == "hk":
        surname = vocab.HK_SURNAMES[int(rng.random() * len(vocab.HK_SURNAMES))]
        if rng.random() < 0.25:
            given = vocab.HK_WESTERN[int(rng.random() * len(vocab.HK_WESTERN))]
            initials = given[0]
        else:
            a = vocab.HK_SYLLABLES[int(rng.random() * len(vocab.HK_SYLLABLES))]
            b = vocab.HK_SYLLABLES[int(rng.random() * len(vocab.HK_SYLLABLES))]
            given, initials = f"{a} {b}", a[0] + b[0]
        local = f"{given.split()[0]}{surname}".lower()
    elif culture in ("tw", "kr"):
        surnames = vocab.TW_SURNAMES if culture == "tw" else vocab.KR_SURNAMES
        syllables = vocab.TW_SYLLABLES if culture == "tw" else vocab.KR_SYLLABLES
        surname = surnames[int(rng.random() * len(surnames))]
        given, initials = _syllable_given(rng, syllables, 0.85)
        local = f"{given.replace('-', '').lower()}.{surname.lower()}"
    else:
        surnames, givens = vocab.WESTERN_POOLS[culture]
        surname = surnames[int(rnd() * len(surnames))]
        given = givens[int(rnd() * len(givens))]
        initials = given[0]
        plain_given, plain_surname = given, surname
        if rnd() < 0.5:
            surname = vocab.ACCENTED.get(surname, surname)
            given = vocab.ACCENTED.get(given, given)
        if rnd() < 0.3:
            middle = "ABCDEHJKLMPRST"[int(rnd() * 14)]
            given = f"{given} {middle}."
            initials += middle
        local = f"{plain_given}.{plain_surname}" if rnd() < 0.6 else plain_given[0] + plain_surname
        local = local.lower().replace(" ", "").replace("'", "")
    return Person(surname, given, initials, local, culture)


def culture_for(rng: random.Random, country: str) -> str:
    options = vocab.CULTURES[country]
    if len(options) == 1:
        return options[0][0]
    x = rng.random() * sum(w for _, w in options)
    for culture, weight in options:
        x -= weight
        if x <= 0:
            return culture
    return options[-1][0]


def orcid(rng: random.Random) -> str:
    """A syntactically valid ORCID iD (ISO 7064 11,2 check character); not a real person's."""
    digits = f"0000000{1 + int(rng.random() * 3)}{int(rng.random() * 10**7):07d}"
    total = 0
    for ch in digits:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    full = digits + ("X" if check == 10 else str(check))
    return f"{full[0:4]}-{full[4:8]}-{full[8:12]}-{full[12:16]}"


def researcher_id(rng: random.Random, year: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if year < 2017 or rng.random() < 0.4:
        letter = letters[int(rng.random() * 26)]
        return f"{letter}-{1000 + int(rng.random() * 8999)}-{2008 + int(rng.random() * 9)}"
    prefix = "".join(letters[int(rng.random() * 26)] for _ in range(3))
    return f"{prefix}-{1000 + int(rng.random() * 8999)}-{2017 + int(rng.random() * 6)}"
