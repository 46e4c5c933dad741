"""REALISE: the text of each planned record, field by field, and its ground truth.

:class:`Realiser` turns a :class:`~collabscope.synth.plan.PaperPlan` into a :class:`Record`
(tag -> text or list of items, in WoS conventions) plus the truth rows the record implies
(addresses with their true country and institution, funders with their canonical name).
Cited references come in a second step (:meth:`Realiser.add_references`) so that references
to other generated records can use those records' final author, year, journal, volume, page
and DOI.
"""

from __future__ import annotations

import bisect
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from collabscope.synth import vocab
from collabscope.synth.people import make_person, orcid, researcher_id
from collabscope.synth.places import INSTITUTIONS, address_text
from collabscope.synth.plan import BRACKET, CHINA, CU, NO_C1, UK, UPPER, PaperPlan

_T = TypeVar("_T")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_OA = (
    "Green Published",
    "gold",
    "hybrid",
    "Bronze",
    "Green Submitted",
    "Green Accepted",
    "gold, Green Published",
    "Green Published, hybrid",
)
_CONFERENCES = (
    (
        "International Conference on Education and New Learning Technologies (EDULEARN)",
        "Barcelona, SPAIN",
    ),
    ("European Conference on Educational Research (ECER)", "Dublin, IRELAND"),
    ("International Conference on Computers in Education (ICCE)", "Taipei, TAIWAN"),
    ("Annual Meeting of the American Educational Research Association", "Chicago, IL"),
)


@dataclass(slots=True)
class AddressRow:
    position: int
    kind: str  # affiliation (C1) | reprint (RP)
    raw: str  # as written, without the final full stop
    country_text: str | None  # last element as written
    country: str  # ISO3, default policy
    institution: str  # canonical name
    joint: bool


@dataclass(slots=True)
class FunderRow:
    position: int
    raw: str
    canonical: str
    grants: list[str]


@dataclass(slots=True)
class Record:
    plan: PaperPlan
    fields: dict[str, str | list[str]]
    addresses: list[AddressRow] = field(default_factory=list)
    funders: list[FunderRow] = field(default_factory=list)
    cite_name: str = ""  # first author as written in a cited reference: 'Zhang W'
    cite_year: str = ""
    j9: str = ""
    volume: str = ""
    page: str = ""
    doi: str | None = None
    cited: list[tuple[int, str, str]] = field(default_factory=list)  # (ref_pos, cited ut, how)

    @property
    def ut(self) -> str:
        return self.plan.ut


def _issn(name: str, salt: str) -> str:
    n = zlib.crc32(f"{salt}:{name}".encode()) % 10_000_000
    digits = f"{n:07d}"
    total = sum(int(d) * w for d, w in zip(digits, range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return f"{digits[:4]}-{digits[4:]}{'X' if check == 10 else check}"


@dataclass(frozen=True, slots=True)
class Journal:
    so: str
    j9: str
    ji: str
    publisher: tuple[str, str, str]
    scheme: str
    wc: str
    sc: str
    scie: bool
    language: str
    vol2001: int | None
    start: int
    ar_from: int
    issn: str
    eissn: str
    issues: int

    def volume(self, year: int) -> int:
        if self.vol2001 is None:
            return max(1, year - self.start + 1)
        return max(1, self.vol2001 + year - 2001)


JOURNALS: tuple[Journal, ...] = tuple(
    Journal(
        so=j[0],
        j9=j[1],
        ji=j[2],
        publisher=j[3],
        scheme=j[4],
        wc=j[5],
        sc=j[6],
        scie=bool(j[7]),
        language=j[8],
        vol2001=j[9],
        start=j[10],
        ar_from=j[11],
        issn=_issn(j[0], "p"),
        eissn=_issn(j[0], "e"),
        issues=(4, 6, 8, 12)[zlib.crc32(j[0].encode()) % 4],
    )
    for j in vocab.JOURNALS
)
_CITED_J9 = tuple(j.j9 for j in JOURNALS) + tuple(vocab.CITED_ONLY_J9)
_CITED_SURNAMES: tuple[tuple[str, ...], ...] = (
    *(
        vocab.WESTERN_POOLS[c][0]
        for c in ("en", "us", "en", "us", "de", "es", "nl", "tr", "nordic")
    ),
    tuple(vocab.HK_SURNAMES),
    tuple(vocab.KR_SURNAMES),
    tuple(vocab.TW_SURNAMES),
)
_INITIALS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TOPICS_BY_YEAR: dict[int, list[str]] = {
    y: [t for t, first in vocab.TOPICS if first <= y] for y in range(1990, 2031)
}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _digits(rng: random.Random, n: int) -> str:
    return str(10 ** (n - 1) + int(rng.random() * 9 * 10 ** (n - 1)))


def _grant(rng: random.Random, pattern: str, year: int) -> str:
    out = []
    for ch in pattern.replace("{yy}", f"{(year - int(rng.random() * 3)) % 100:02d}"):
        if ch == "#":
            out.append(str(int(rng.random() * 10)))
        elif ch == "A":
            out.append(chr(65 + int(rng.random() * 26)))
        else:
            out.append(ch)
    return "".join(out)


class TextMaker:
    """Titles, abstracts and keywords from the vocabulary's fragments."""

    def __init__(
        self,
        rng: random.Random,
        abstract_sentences: tuple[int, int],
        keywords: tuple[int, int] = (3, 7),
    ) -> None:
        self.rng = rng
        self.sentences = abstract_sentences
        self.n_keywords = keywords

    def _pick(self, seq: Sequence[_T]) -> _T:
        return seq[int(self.rng.random() * len(seq))]

    def context(self, plan: PaperPlan) -> str:
        rng = self.rng
        if plan.kind == CU and rng.random() < 0.6:
            pool = vocab.CONTEXTS["CU"]
        elif plan.kind in (CU, CHINA) and rng.random() < 0.7:
            pool = vocab.CONTEXTS["CHN"]
        elif plan.kind == UK and rng.random() < 0.7:
            pool = vocab.CONTEXTS["GBR"]
        else:
            lead = plan.addresses[0].country if plan.addresses else ""
            pool = vocab.CONTEXTS.get(lead) if rng.random() < 0.6 else None
            pool = pool or vocab.CONTEXTS["ANY"]
        return self._pick(pool)

    def title(self, plan: PaperPlan, topic: str, context: str) -> str:
        pick = self._pick
        outcome = pick(vocab.OUTCOMES)
        method = pick(vocab.METHOD_PHRASES)
        n = int(self.rng.random() * 7)
        if n == 0:
            return f"{_cap(topic)} {context}: {method}"
        if n == 1:
            return f"{_cap(topic)} and {outcome} {context}"
        if n == 2:
            return f"Exploring {topic} {context}"
        if n == 3:
            return f"The role of {topic} in {outcome}: {method}"
        if n == 4:
            return f"How does {topic} shape {outcome}? {_cap(method)}"
        if n == 5:
            return f"{_cap(topic)} {context}: a {pick(vocab.THEORIES)} perspective"
        return f"Understanding {topic}: {method} {context}"

    def abstract(self, plan: PaperPlan, topic: str, context: str, copyright_: str) -> str:
        rng, pick = self.rng, self._pick
        outcome = pick(vocab.OUTCOMES)
        low, high = self.sentences
        n = low + int(rng.random() * (high - low + 1))
        out = []
        k = int(rng.random() * 4)
        if k == 0:
            out.append(f"This study examines {topic} {context}.")
        elif k == 1:
            out.append(
                f"Drawing on {pick(vocab.THEORIES)}, this paper investigates how {topic} "
                f"relates to {outcome} {context}."
            )
        elif k == 2:
            out.append(
                f"Although {topic} has attracted growing attention, little is known about its "
                f"relationship with {outcome} {context}."
            )
        else:
            out.append(
                f"Using {pick(vocab.METHOD_PHRASES)}, this article explores {topic} {context}."
            )
        if n > 1:
            start = plan.year - 2 - int(rng.random() * 3)
            span = (
                f"in {start}–{plan.year - 1}"
                if rng.random() < 0.3
                else f"between {start} and {plan.year - 1}"
            )
            people = pick(vocab.PARTICIPANTS)
            if rng.random() < 0.5:
                out.append(
                    f"Data were collected through {pick(vocab.DATA_METHODS)} with "
                    f"{20 + int(rng.random() * 1980)} {people} {span}."
                )
            else:
                out.append(
                    f"Using {pick(vocab.DATA_METHODS)} from {12 + int(rng.random() * 900)} "
                    f"{people}, we examine the participants’ views of {topic}."
                )
        middle = max(0, n - 3)
        for i in range(middle):
            finding = pick(vocab.FINDINGS).format(t=topic, o=pick(vocab.OUTCOMES))
            lead = (
                pick(vocab.ANALYSES) + " showed that"
                if i == 0
                else "The results also indicate that"
            )
            out.append(f"{lead} {finding}.")
        if n > 2:
            out.append(f"The findings suggest that {pick(vocab.IMPLICATIONS).format(t=topic)}.")
        if copyright_:
            out.append(copyright_)
        return " ".join(out)

    def keywords(self, plan: PaperPlan, topic: str) -> str:
        rng, pick = self.rng, self._pick
        words = [topic]
        low, high = self.n_keywords
        for _ in range(low - 1 + int(rng.random() * (high - low + 1))):
            words.append(pick(vocab.OUTCOMES) if rng.random() < 0.4 else pick(vocab.TOPICS)[0])
        extra = {"cu": "CU", "china": "CHN", "uk": "GBR"}.get(plan.kind)
        if extra and rng.random() < 0.7:
            words.append(pick(vocab.EXTRA_KEYWORDS[extra]))
        return "; ".join(dict.fromkeys(words))

    def keywords_plus(self) -> str:
        n = 3 + int(self.rng.random() * 6)
        return "; ".join(dict.fromkeys(self._pick(vocab.KEYWORDS_PLUS) for _ in range(n)))


@dataclass(frozen=True)
class Profile:
    """How big the records are: the example keeps them small, the benchmark realistic."""

    abstract_sentences: tuple[int, int] = (1, 2)
    refs: tuple[int, int] = (2, 6)  # uniform range of cited references per article
    keywords: tuple[int, int] = (2, 4)
    fx_closer: float = 0.3  # share of FX texts with a closing sentence
    pool_size: int = 4000


EXAMPLE_PROFILE = Profile()
CORPUS_PROFILE = Profile(
    abstract_sentences=(8, 11), refs=(30, 76), keywords=(3, 7), fx_closer=0.8, pool_size=40000
)


class ReferencePool:
    """Cited references that are not links to generated records, by year (sorted)."""

    def __init__(
        self,
        rng: random.Random,
        size: int,
        exclude_dois: set[str] | None = None,
        exclude_keys: set[tuple[str, str, str, str, str]] | None = None,
    ) -> None:
        exclude_dois = exclude_dois or set()
        exclude_keys = exclude_keys or set()
        refs: list[tuple[int, str]] = []
        n_books = len(vocab.BOOKS)
        for _ in range(size):
            x = rng.random()
            if x < 0.06:
                author, year, source, rest = vocab.BOOKS[int(rng.random() * n_books)]
                text = f"{author}, {year}, {source}" + (f", {rest}" if rest else "")
                refs.append((year, text))
                continue
            if x < 0.08:
                author, source = vocab.INSTITUTIONAL_AUTHORS[
                    int(rng.random() * len(vocab.INSTITUTIONAL_AUTHORS))
                ]
                year = 1998 + int(rng.random() * 24)
                refs.append((year, f"{author}, {year}, {source}"))
                continue
            for _attempt in range(5):
                year, text, doi, key = self._article(rng)
                if (doi is None or doi not in exclude_dois) and key not in exclude_keys:
                    break
            refs.append((year, text))
        refs.sort(key=lambda r: r[0])
        self.years = [y for y, _ in refs]
        self.texts = [t for _, t in refs]
        self._order = list(range(len(refs)))
        rng.shuffle(self._order)
        self._eligible: dict[int, list[str]] = {}

    @staticmethod
    def _article(
        rng: random.Random,
    ) -> tuple[int, str, str | None, tuple[str, str, str, str, str]]:
        rnd = rng.random
        if rnd() < 0.3:
            surname = vocab.CN_SURNAMES[int(rnd() * len(vocab.CN_SURNAMES))]
        else:
            surnames = _CITED_SURNAMES[int(rnd() * len(_CITED_SURNAMES))]
            surname = surnames[int(rnd() * len(surnames))]
        initials = _INITIALS[int(rnd() * 26)]
        if rnd() < 0.45:
            initials += _INITIALS[int(rnd() * 26)]
        year = 2021 - int(rnd() ** 2.0 * 50)
        name = f"{surname} {initials}"
        if year < 1995 and rnd() < 0.5:
            name = name.upper()
        elif rnd() < 0.1:
            name = f"{surname} {'. '.join(initials)}."
        if rng.random() < 0.55:
            journal = JOURNALS[int(rng.random() * len(JOURNALS))]
            j9, volume = journal.j9, str(journal.volume(year))
        else:
            j9 = _CITED_J9[int(rng.random() * len(_CITED_J9))]
            volume = str(1 + int(rng.random() * 90))
        page = str(1 + int(rng.random() * 900))
        text = f"{name}, {year}, {j9}, V{volume}, P{page}"
        doi = None
        if year >= 1998 and rng.random() < 0.75:
            prefix = 1000 + int(rng.random() * 9000)
            doi = f"10.{prefix}/{j9.replace(' ', '').lower()[:8]}.{year}.{page}"
            x = rng.random()
            if x < 0.04:
                text += f", DOI DOI {doi}"
            elif x < 0.06:
                text += f", DOI [{doi}, DOI {doi.upper()}]"
            else:
                text += f", DOI {doi}"
        key = (surname.lower(), initials[:1].lower(), str(year), volume, page)
        return year, text, doi, key

    def pick(self, rng: random.Random, year: int, k: int) -> list[str]:
        """``k`` distinct references published no later than ``year``.

        A random run of the pool's references eligible for ``year`` (kept in a fixed shuffled
        order): one slice per record, so that large corpora are cheap to generate.
        """
        eligible = self._eligible.get(year)
        if eligible is None:
            limit = bisect.bisect_right(self.years, year) or len(self.years)
            eligible = self._eligible[year] = [self.texts[i] for i in self._order if i < limit]
        n = len(eligible)
        if k >= n:
            return eligible[:]
        start = int(rng.random() * (n - k + 1))
        return eligible[start : start + k]


class Realiser:
    """Writes the text of planned records. All randomness from ``rng``."""

    def __init__(
        self, rng: random.Random, profile: Profile = EXAMPLE_PROFILE, *, track_dois: bool = True
    ) -> None:
        self.rng = rng
        self.profile = profile
        self.track_dois = track_dois
        self.text = TextMaker(rng, profile.abstract_sentences, profile.keywords)
        self.dois: set[str] = set()
        self.pool: ReferencePool | None = None

    # ------------------------------------------------------------------ journal details

    def _doi(
        self, journal: Journal, year: int, issue: int, page: int, ar: str, serial: str
    ) -> str | None:
        """A DOI in the publisher's pattern, unique among this realiser's records.

        Without DOI tracking (a streamed corpus) the random part is ``serial`` (from the UT),
        which makes it unique without remembering every DOI.
        """
        rng = self.rng
        scheme, _, code = journal.scheme.partition(":")
        if scheme == "none":
            return None
        for _ in range(20):
            if self.track_dois:
                num = _digits
            else:

                def num(_rng: random.Random, _n: int) -> str:
                    return serial

            if scheme == "tf":
                doi = f"10.1080/{journal.issn.replace('-', '')}.{year}.{num(rng, 7)}"
            elif scheme == "els":
                if ar and self.track_dois:
                    doi = f"10.1016/j.{code}.{year}.{ar}"
                else:
                    month = 1 + int(rng.random() * 12)
                    doi = f"10.1016/j.{code}.{year}.{month:02d}.{num(rng, 3)}"
            elif scheme == "wiley":
                prefix = "10.1002" if code in ("berj", "tea", "tesq") else "10.1111"
                doi = f"{prefix}/{code}.{num(rng, 5)}"
            elif scheme == "spr":
                doi = f"10.1007/s{code}-{year % 1000:03d}-{num(rng, 4)}-{int(rng.random() * 10)}"
            elif scheme == "sage":
                doi = f"10.1177/{code[:7]}{year % 100:02d}{num(rng, 6)}"
            elif scheme == "apa":
                if year >= 2013:
                    doi = f"10.1037/edu0000{num(rng, 3)}"
                else:
                    tail = page if self.track_dois else serial
                    doi = f"10.1037/0022-0663.{journal.volume(year)}.{issue}.{tail}"
            elif scheme == "front":
                doi = f"10.3389/fpsyg.{year}.{num(rng, 5)}"
            else:  # cup
                doi = f"10.1017/S03057410{year % 100:02d}{num(rng, 6)}"
            if not self.track_dois:
                return doi
            key = doi.lower()
            if key not in self.dois:
                self.dois.add(key)
                return doi
        return None

    # ------------------------------------------------------------------ the record

    def realise(self, plan: PaperPlan) -> Record:
        """All fields but the cited references (see :meth:`add_references`)."""
        rng = self.rng
        year = plan.year
        journal = JOURNALS[plan.journal]
        upper = plan.c1 == UPPER
        fields: dict[str, str | list[str]] = {"PT": "J"}
        record = Record(plan, fields)

        people = []
        seen: set[str] = set()
        for author in plan.authors:
            for _ in range(6):
                person = make_person(rng, author.culture)
                if person.au not in seen:
                    break
            seen.add(person.au)
            people.append(person)
        au = [p.au.upper() if upper else p.au for p in people]
        af = au if (upper or year < 2006) else [p.af for p in people]
        fields["AU"] = au
        fields["AF"] = af
        if plan.group_author:
            fields["CA"] = [plan.group_author]
        if people:
            first = people[0]
            name = f"{first.surname} {first.initials}"
            record.cite_name = name.upper() if upper else name

        topic_pool = _TOPICS_BY_YEAR[min(max(year, 1990), 2030)]
        topic = topic_pool[int(rng.random() * len(topic_pool))]
        context = self.text.context(plan)
        if plan.title:
            title = plan.title
        elif plan.doc_type == "Book Review":
            title = rng.choice(vocab.BOOK_REVIEW_TITLES)
        else:
            title = self.text.title(plan, topic, context)
        fields["TI"] = title.upper() if upper else title
        fields["SO"] = journal.so
        fields["LA"] = journal.language
        fields["DT"] = plan.doc_type + ("; Early Access" if plan.early_access == "ea_only" else "")
        if "Proceedings Paper" in plan.doc_type:
            conference, place = _CONFERENCES[int(rng.random() * len(_CONFERENCES))]
            fields["CT"] = conference
            fields["CY"] = (
                f"{MONTHS[int(rng.random() * 12)]} {10 + int(rng.random() * 15)}, {year - 1}"
            )
            fields["CL"] = place
        article = plan.doc_type not in ("Book Review", "Editorial Material")
        if article and rng.random() < 0.9:
            fields["DE"] = self.text.keywords(plan, topic)
        if article and rng.random() < 0.75:
            fields["ID"] = self.text.keywords_plus()
        if plan.doc_type != "Book Review":
            copyright_ = ""
            if journal.scheme.startswith("els") and rng.random() < 0.5:
                copyright_ = vocab.COPYRIGHT["els"].format(y=year)
            fields["AB"] = self.text.abstract(plan, topic, context, copyright_)

        # Addresses
        texts = [
            address_text(INSTITUTIONS[a.inst], year, a.style, rng, form=a.form)
            for a in plan.addresses
        ]
        written: set[int] = set()
        position = 0
        if plan.c1 != NO_C1:
            items = []
            for i, (a, t) in enumerate(zip(plan.addresses, texts, strict=True)):
                if plan.c1 == BRACKET:
                    names = [
                        af[k] for k, author in enumerate(plan.authors) if i in author.affiliations
                    ]
                    items.append(f"[{'; '.join(names)}] {t.text}.")
                else:
                    items.append(f"{t.text}.")
                written.add(i)
                position += 1
                inst = INSTITUTIONS[a.inst]
                record.addresses.append(
                    AddressRow(
                        position,
                        "affiliation",
                        t.text,
                        t.country_text,
                        a.country,
                        inst.full_name,
                        inst.joint,
                    )
                )
            fields["C1"] = items
            full_names = [
                INSTITUTIONS[a.inst].full_name
                for a in plan.addresses
                if INSTITUTIONS[a.inst].has_c3
            ]
            if full_names and rng.random() < 0.9:
                fields["C3"] = "; ".join(dict.fromkeys(full_names))
        groups = []
        marker = plan.rp_marker
        for k in plan.corresponding:
            affiliations = plan.authors[k].affiliations
            if not plan.rp_all_affiliations:
                affiliations = affiliations[:1]
            for a in affiliations:
                t = texts[a]
                groups.append(f"{au[k]} ({marker}), {t.text}." if plan.rp_named else f"{t.text}.")
                written.add(a)
                position += 1
                inst = INSTITUTIONS[plan.addresses[a].inst]
                record.addresses.append(
                    AddressRow(
                        position,
                        "reprint",
                        t.text,
                        t.country_text,
                        plan.addresses[a].country,
                        inst.full_name,
                        inst.joint,
                    )
                )
        if groups:
            fields["RP"] = "; ".join(groups)
        for i in sorted(written):
            plan.quirks.extend(q for q in texts[i].quirks if q not in plan.quirks)

        # E-mails and author ids
        emails = []
        for k, person in enumerate(people):
            wanted = k in plan.corresponding
            chance = (0.9 if year >= 2006 else 0.5) if wanted else (0.25 if year >= 2012 else 0.05)
            if rng.random() < chance:
                inst = INSTITUTIONS[plan.addresses[plan.authors[k].affiliations[0]].inst]
                domain = inst.domain
                if person.culture == "cn" and inst.country == "CHN" and rng.random() < 0.3:
                    domain = vocab.CN_WEBMAIL[int(rng.random() * len(vocab.CN_WEBMAIL))]
                email = f"{person.email_local}@{domain}"
                if wanted:
                    emails.insert(0, email)
                else:
                    emails.append(email)
        if emails:
            fields["EM"] = "; ".join(dict.fromkeys(emails))
        ri, oi = [], []
        for k in range(len(people)):
            p_oi, p_ri = (0.3, 0.15) if year >= 2012 else (0.05, 0.08) if year >= 2006 else (0, 0)
            if rng.random() < p_ri:
                ri.append(f"{af[k]}/{researcher_id(rng, year)}")
            if rng.random() < p_oi:
                oi.append(f"{af[k]}/{orcid(rng)}")
        if ri:
            fields["RI"] = "; ".join(ri)
        if oi:
            fields["OI"] = "; ".join(oi)

        # Funding
        if plan.funders:
            entries, phrases = [], []
            for i, (key, index, variant) in enumerate(plan.funders, start=1):
                variants, pattern, _ = vocab.FUNDERS[key][index]
                raw = variants[variant]
                grants: list[str] = []
                if pattern:
                    x = rng.random()
                    n = 0 if x < 0.15 else 2 if x > 0.85 else 1
                    grants = [_grant(rng, pattern, year) for _ in range(n)]
                entries.append(f"{raw} [{', '.join(grants)}]" if grants else raw)
                phrases.append(f"{raw} ({', '.join(grants)})" if grants else raw)
                record.funders.append(FunderRow(i, raw, variants[0], grants))
            fields["FU"] = "; ".join(entries)
            closer = rng.choice(vocab.FX_CLOSERS) if rng.random() < self.profile.fx_closer else ""
            fields["FX"] = f"{rng.choice(vocab.FX_OPENERS)} {' and the '.join(phrases)}.{closer}"

        # Bibliographic details
        publisher, city, address = journal.publisher
        fields["PU"] = publisher
        fields["PI"] = city
        fields["PA"] = address
        fields["SN"] = journal.issn
        if year >= 2003 or rng.random() < 0.5:
            fields["EI"] = journal.eissn
        fields["J9"] = journal.j9
        fields["JI"] = journal.ji
        record.j9 = journal.j9
        issue = 1 + int(rng.random() * journal.issues)
        ar = ""
        bp = 0
        pages = 6 + int(rng.random() * 22)
        if plan.doc_type == "Book Review":
            pages = 1 + int(rng.random() * 2)
        if journal.ar_from and year >= journal.ar_from:
            ar = (
                str(100000 + int(rng.random() * 9000))
                if journal.scheme != "front"
                else _digits(rng, 4)
            )
        else:
            bp = 1 + (issue - 1) * 160 + int(rng.random() * 140)
        ea_month = MONTHS[int(rng.random() * 12)]
        if plan.early_access == "ea_only":
            fields["EA"] = f"{ea_month} {year}"
            record.cite_year = str(year)
        else:
            month = MONTHS[min(11, (issue - 1) * 12 // journal.issues + int(rng.random() * 2))]
            fields["PD"] = month if rng.random() < 0.8 else f"{month} {1 + int(rng.random() * 28)}"
            fields["PY"] = str(year)
            record.cite_year = str(year)
            volume = str(journal.volume(year))
            fields["VL"] = volume
            record.volume = volume
            if not ar or rng.random() < 0.5:
                fields["IS"] = str(issue)
            for tag in plan.extra_tags:
                fields[tag] = {"SI": "SI", "PN": str(1 + int(rng.random() * 3)), "SU": "1"}[tag]
            if ar:
                fields["AR"] = ar
            else:
                fields["BP"] = str(bp)
                fields["EP"] = str(bp + pages - 1)
                record.page = str(bp)
        doi = self._doi(journal, year, issue, bp, ar, plan.ut[-12:])
        if doi:
            fields["DI"] = doi
            record.doi = doi
        if plan.early_access == "ea_then_py":
            ea_year = year - 1 if rng.random() < 0.6 else year
            fields["EA"] = f"{ea_month} {ea_year}"
        fields["PG"] = str(pages)
        fields["WC"] = journal.wc
        fields["WE"] = (
            "Science Citation Index Expanded (SCI-EXPANDED); Social Science Citation Index (SSCI)"
            if journal.scie
            else "Social Science Citation Index (SSCI)"
        )
        fields["SC"] = journal.sc
        fields["GA"] = "".join(_ALNUM[int(rng.random() * 36)] for _ in range(5))
        fields["UT"] = plan.ut
        if journal.j9 == "MED EDUC" and rng.random() < 0.6:
            fields["PM"] = _digits(rng, 8)
        if rng.random() < 0.35:
            fields["OA"] = _OA[int(rng.random() * len(_OA))]
        self.set_citation_counts(record)
        return record

    def set_citation_counts(self, record: Record) -> None:
        """TC, Z9, U1, U2, HC and HP from the plan (call again after changing the plan)."""
        rng = self.rng
        plan, fields = record.plan, record.fields
        fields["TC"] = str(plan.times_cited)
        fields["Z9"] = str(plan.times_cited + (int(rng.random() * 4) if plan.times_cited else 0))
        u1 = int(rng.random() * 12)
        fields["U1"] = str(u1)
        fields["U2"] = str(u1 + int(rng.random() * 40))
        if plan.highly_cited:
            fields["HC"] = "Y"
            fields["HP"] = "Y" if plan.hot_paper else "N"
        else:
            fields.pop("HC", None)
            fields.pop("HP", None)

    # ------------------------------------------------------------------ cited references

    def ensure_pool(
        self,
        exclude_dois: set[str] | None = None,
        exclude_keys: set[tuple[str, str, str, str, str]] | None = None,
    ) -> None:
        """Build the reference pool once, avoiding the given DOIs and author-year-volume-page
        keys (those of generated records, which must only be cited on purpose)."""
        if self.pool is None:
            self.pool = ReferencePool(self.rng, self.profile.pool_size, exclude_dois, exclude_keys)

    def add_references(self, record: Record, cited: list[tuple[Record, str]] | None = None) -> None:
        """CR and NR: references from the pool plus links to generated records."""
        self.ensure_pool()
        assert self.pool is not None
        rng = self.rng
        cited = cited or []
        entries: list[tuple[str, tuple[str, str] | None]] = [
            (text, None)
            for text in self.pool.pick(rng, record.plan.year, record.plan.n_refs - len(cited))
        ]
        for target, how in cited:
            position = int(rng.random() * (len(entries) + 1))
            entries.insert(position, (cited_reference(target, how, rng), (target.ut, how)))
        for i, (_, link) in enumerate(entries, start=1):
            if link:
                record.cited.append((i, *link))
        if entries:
            record.fields["CR"] = [text for text, _ in entries]
        record.fields["NR"] = str(len(entries))


def cited_reference(target: Record, how: str, rng: random.Random) -> str:
    """How a record cites ``target``: with its DOI, or by author, year, volume and page."""
    parts = [target.cite_name, target.cite_year, target.j9]
    if target.volume:
        parts.append(f"V{target.volume}")
    if target.page:
        parts.append(f"P{target.page}")
    text = ", ".join(parts)
    if how == "doi":
        assert target.doi
        doi = target.doi.upper() if rng.random() < 0.1 else target.doi
        text += f", DOI DOI {doi}" if rng.random() < 0.05 else f", DOI {doi}"
    return text
