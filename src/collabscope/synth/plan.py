"""PLAN: the structure of each synthetic record, before any text is written.

A :class:`PaperPlan` says what a record *is*: year, journal, document type, which institutions
(hence countries) its addresses are at and in which order, which author is at which address,
who is the corresponding author, who funded it, which flags it carries and which planted quirks
it must show. Text (names, titles, address strings, references) is decided later by
:mod:`collabscope.synth.realise`; the file layout by :mod:`collabscope.synth.render`.

Planning is driven by parameters (:class:`KindParams`: shares of international collaboration,
of lead countries, of single authors, …) so that a corpus matching given marginals can be
planned by choosing them, or by building plans directly with :meth:`Planner.plan`.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field

from collabscope.synth import vocab
from collabscope.synth.people import culture_for
from collabscope.synth.places import INSTITUTIONS, InstitutionPicker, address_style

EDU = "Education & Educational Research"

# Record kinds: which population a record is planned for.
CU = "cu"  # mainland China and UK addresses
CHINA = "china"  # mainland China, no UK
UK = "uk"  # UK, no mainland China
WORLD = "world"  # neither mainland China nor UK
CITING = "citing"  # any countries, any subject (cites the China-UK papers)

# C1 styles
BRACKET = "bracket"  # '[Li, Wei; Smith, John] Univ Oxford, ...' (author links; from 2008)
PLAIN = "plain"  # 'Univ Oxford, ...' (no author links; before 2008)
UPPER = "upper"  # 'UNIV OXFORD,DEPT EDUC,OXFORD,ENGLAND' (old records)
NO_C1 = "none"


@dataclass(slots=True)
class AddressPlan:
    inst: str  # key in places.INSTITUTIONS
    country: str  # ISO3 under the default policy
    style: str  # places.MODERN, UPPER, HK_*, MO_*, US_NO_COUNTRY
    form: str = ""  # force this WoS form of the institution's name


@dataclass(slots=True)
class AuthorPlan:
    culture: str  # name culture (vocab.CULTURES)
    affiliations: list[int]  # indices into PaperPlan.addresses, first = the author's main one


@dataclass(slots=True)
class PaperPlan:
    ut: str
    kind: str
    year: int  # publication year (EA year when the record has no PY)
    journal: int  # index into vocab.JOURNALS
    doc_type: str
    addresses: list[AddressPlan]  # in C1 order
    authors: list[AuthorPlan]  # in byline order
    c1: str = BRACKET
    corresponding: list[int] = field(default_factory=lambda: [0])  # author indices
    rp_marker: str = "corresponding author"
    rp_all_affiliations: bool = False  # RP repeats every affiliation of the corresponding author
    rp_named: bool = True  # old records sometimes give the reprint address without a name
    early_access: str = ""  # "" | "ea_only" (EA, no PY) | "ea_then_py"
    funders: list[tuple[str, int, int]] = field(default_factory=list)  # (country, funder, variant)
    group_author: str = ""
    extra_tags: list[str] = field(default_factory=list)
    title: str = ""  # set to override the generated title
    n_refs: int = 10
    highly_cited: bool = False
    hot_paper: bool = False
    times_cited: int = 0
    cites: list[tuple[str, str]] = field(default_factory=list)  # (cited ut, "doi" | "aypv")
    in_world: bool = False  # drawn into the world sample
    datasets: list[str] = field(default_factory=list)
    quirks: list[str] = field(default_factory=list)

    @property
    def countries(self) -> list[str]:
        return [a.country for a in self.addresses]

    @property
    def is_education(self) -> bool:
        return EDU in vocab.JOURNALS[self.journal][6]

    @property
    def lead_address(self) -> int:
        """Index of the first author's first address (the default lead affiliation)."""
        if self.authors and self.authors[0].affiliations:
            return self.authors[0].affiliations[0]
        return 0


@dataclass
class KindParams:
    """Shares that shape the records of one kind (all probabilities)."""

    international: float = 0.3
    lead_focal: float = 0.6  # share of international papers led by the focal country
    second_partner: float = 0.15
    single_author: float = 0.15
    domestic_multi: float = 0.5  # domestic papers with 2+ institutions
    partners: dict[str, float] = field(default_factory=dict)
    # CU only: lead by CHN / GBR / other
    lead_shares: tuple[float, float, float] = (0.54, 0.35, 0.11)


DEFAULT_PARAMS: dict[str, KindParams] = {
    CU: KindParams(international=1.0, second_partner=0.22, partners=dict(vocab.CU_EXTRA_PARTNERS)),
    CHINA: KindParams(
        international=0.46,
        lead_focal=0.57,
        partners=dict(vocab.CHINA_PARTNERS),
        single_author=0.12,
        domestic_multi=0.55,
    ),
    UK: KindParams(
        international=0.38, lead_focal=0.62, partners=dict(vocab.UK_PARTNERS), single_author=0.2
    ),
    WORLD: KindParams(international=0.25, partners=dict(vocab.WORLD_WEIGHTS), single_author=0.18),
    CITING: KindParams(international=0.35, partners=dict(vocab.WORLD_WEIGHTS), single_author=0.12),
}


class _Weighted:
    def __init__(self, weights: dict[str, float]) -> None:
        self.keys = list(weights)
        self.cum: list[float] = []
        total = 0.0
        for key in self.keys:
            total += weights[key]
            self.cum.append(total)

    def pick(self, rng: random.Random, avoid: tuple[str, ...] = ()) -> str:
        for _ in range(20):
            key = self.keys[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]
            if key not in avoid:
                return key
        return next(k for k in self.keys if k not in avoid)


_EDU_JOURNALS = [i for i, j in enumerate(vocab.JOURNALS) if EDU in j[6]]
_ALL_JOURNALS = list(range(len(vocab.JOURNALS)))
_WORLD_NO_FOCAL = {k: v for k, v in vocab.WORLD_WEIGHTS.items() if k not in ("CHN", "GBR")}
_CITING_LEADS = {**_WORLD_NO_FOCAL, "CHN": 22.0, "GBR": 9.0}


class Planner:
    """Plans records. One instance per generation run; all randomness from ``rng``."""

    def __init__(
        self,
        rng: random.Random,
        params: dict[str, KindParams] | None = None,
        boost: dict[str, float] | None = None,
    ) -> None:
        self.rng = rng
        self.params = {**DEFAULT_PARAMS, **(params or {})}
        self.picker = InstitutionPicker(boost)
        self._partners = {kind: _Weighted(p.partners) for kind, p in self.params.items()}
        self._world_leads = _Weighted(_WORLD_NO_FOCAL)
        self._citing_leads = _Weighted(_CITING_LEADS)
        self._journal_cum: dict[bool, tuple[list[int], list[float]]] = {}
        for edu_only in (True, False):
            idx = _EDU_JOURNALS if edu_only else _ALL_JOURNALS
            cum, total = [], 0.0
            for i in idx:
                total += float(vocab.JOURNALS[i][12])
                cum.append(total)
            self._journal_cum[edu_only] = (idx, cum)

    # ---------------------------------------------------------------- countries

    def countries(self, kind: str) -> list[str]:
        """Address countries of a new record, lead first (repeats = several institutions)."""
        rng, p = self.rng, self.params[kind]
        partners = self._partners[kind]
        if kind == CU:
            x = rng.random()
            a, b, _ = p.lead_shares
            lead = "CHN" if x < a else "GBR" if x < a + b else partners.pick(rng, ("CHN", "GBR"))
            rest = [c for c in ("CHN", "GBR") if c != lead]
            if lead not in ("CHN", "GBR") or rng.random() < p.second_partner:
                extra = partners.pick(rng, ("CHN", "GBR", lead))
                if lead in ("CHN", "GBR"):
                    rest.append(extra)
            rng.shuffle(rest)
            out = [lead, *rest]
            if rng.random() < 0.2:
                out.insert(1 + int(rng.random() * len(out)), "CHN")
            if rng.random() < 0.15:
                out.insert(1 + int(rng.random() * len(out)), "GBR")
            return out
        if kind in (CHINA, UK):
            focal = "CHN" if kind == CHINA else "GBR"
            excluded = ("CHN", "GBR")
            if rng.random() < p.international:
                partner = partners.pick(rng, excluded)
                others = [partner]
                if rng.random() < p.second_partner:
                    others.append(partners.pick(rng, (*excluded, partner)))
                if rng.random() < p.lead_focal:
                    out = [focal, *others]
                else:
                    out = [others[0], focal, *others[1:]]
                if rng.random() < 0.2:
                    out.insert(1 + int(rng.random() * len(out)), focal)
                return out
            if rng.random() < p.domestic_multi:
                return [focal] * (2 if rng.random() < 0.75 else 3)
            return [focal]
        leads = self._world_leads if kind == WORLD else self._citing_leads
        lead = leads.pick(rng)
        out = [lead]
        if rng.random() < p.international:
            avoid = (lead, "CHN", "GBR") if kind == WORLD else (lead,)
            out.append(
                self._world_leads.pick(rng, avoid)
                if kind == WORLD
                else self._citing_leads.pick(rng, avoid)
            )
        elif rng.random() < 0.35:
            out.append(lead)
        return out

    # ---------------------------------------------------------------- records

    def journal(self, year: int, education: bool) -> int:
        idx, cum = self._journal_cum[education]
        for _ in range(50):
            j = idx[bisect.bisect_right(cum, self.rng.random() * cum[-1])]
            if vocab.JOURNALS[j][10] <= year:
                return j
        return idx[0]

    def doc_type(self, kind: str) -> str:
        x = self.rng.random()
        if kind in (WORLD,):
            return "Review" if x < 0.07 else "Article; Proceedings Paper" if x < 0.09 else "Article"
        if x < 0.86:
            return "Article"
        if x < 0.93:
            return "Review"
        if x < 0.95:
            return "Article; Proceedings Paper"
        if x < 0.975:
            return "Editorial Material"
        return "Book Review"

    def c1_style(self, doc_type: str, year: int) -> str:
        """C1 style by era: author links from 2008, upper case in some of the oldest records."""
        rng = self.rng
        if (doc_type in ("Editorial Material", "Book Review") and rng.random() < 0.4) or (
            rng.random() < 0.02
        ):
            return NO_C1
        if year <= 2004 and rng.random() < 0.3:
            return UPPER
        if year < 2008:
            return PLAIN if rng.random() < 0.92 else BRACKET
        return BRACKET

    def plan(
        self,
        ut: str,
        kind: str,
        year: int,
        *,
        countries: list[str] | None = None,
        institutions: list[str] | None = None,
        doc_type: str | None = None,
        n_refs: int = 10,
        c1: str | None = None,
    ) -> PaperPlan:
        """Plan one record; ``countries``/``institutions`` force its addresses (lead first)."""
        rng = self.rng
        p = self.params[kind]
        doc_type = doc_type or self.doc_type(kind)
        education = kind != CITING or rng.random() < 0.8
        journal = self.journal(year, education)
        if institutions:
            countries = [INSTITUTIONS[k].country for k in institutions]
        elif countries is None:
            countries = self.countries(kind)
        if doc_type == "Book Review":
            if kind == CU:
                doc_type = "Editorial Material"
            elif kind in (CHINA, UK) and not institutions:
                countries = ["CHN" if kind == CHINA else "GBR"]
            else:
                countries = countries[:1]
        insts: list[str] = list(institutions or [])
        if not insts:
            for cc in countries:
                insts.append(self.picker.pick(rng, cc, tuple(insts)))

        if c1 is None:
            c1 = self.c1_style(doc_type, year)
        addresses = [
            AddressPlan(
                k, INSTITUTIONS[k].country, address_style(INSTITUTIONS[k], year, rng, c1 == UPPER)
            )
            for k in insts
        ]

        # Authors: at least one per address; the lead address's author first.
        n_addr = len(addresses)
        if (
            doc_type == "Book Review"
            or (n_addr == 1 and rng.random() < p.single_author)
            or (n_addr > 1 and rng.random() < 0.02)
        ):
            per_address = [1] + [0] * (n_addr - 1)
        else:
            per_address = [1 + (rng.random() < 0.45) + (rng.random() < 0.2) for _ in addresses]
        authors: list[AuthorPlan] = []
        for i, count in enumerate(per_address):
            for _ in range(count):
                authors.append(AuthorPlan(culture_for(rng, addresses[i].country), [i]))
        if len(authors) == 1 and n_addr > 1:  # one author with several affiliations
            authors[0].affiliations = list(range(n_addr))
        rest = authors[1:]
        rng.shuffle(rest)
        authors = [authors[0], *rest]
        if n_addr > 1 and len(authors) > 1:
            for author in authors:
                if rng.random() < 0.08:
                    other = int(rng.random() * n_addr)
                    if other not in author.affiliations:
                        author.affiliations.append(other)

        # C1 order: by first appearance in the byline (as WoS lists them).
        order: list[int] = []
        for author in authors:
            for a in author.affiliations:
                if a not in order:
                    order.append(a)
        remap = {old: new for new, old in enumerate(order)}
        addresses = [addresses[old] for old in order]
        for author in authors:
            author.affiliations = [remap[a] for a in author.affiliations]

        # Corresponding author: usually the first, often the last, sometimes another.
        x = rng.random()
        n = len(authors)
        if n == 1 or x < 0.6:
            corresponding = [0]
        elif x < 0.85:
            corresponding = [n - 1]
        else:
            corresponding = [1 + int(rng.random() * (n - 1))]
        if n > 2 and year >= 2012 and rng.random() < 0.08:
            second = int(rng.random() * n)
            if second not in corresponding:
                corresponding.append(second)
        marker = (
            "reprint author"
            if (year < 2010 or (year < 2018 and rng.random() < 0.6))
            else "corresponding author"
        )
        plan = PaperPlan(
            ut=ut,
            kind=kind,
            year=year,
            journal=journal,
            doc_type=doc_type,
            addresses=addresses,
            authors=authors,
            c1=c1,
            corresponding=corresponding,
            rp_marker=marker,
            rp_all_affiliations=rng.random() < 0.5,
            rp_named=not (c1 in (PLAIN, UPPER) and rng.random() < 0.08),
            n_refs=n_refs,
        )
        if year >= 2018 and doc_type in ("Article", "Review") and rng.random() < 0.25:
            plan.early_access = "ea_then_py"
        plan.funders = self.funders(plan)
        if rng.random() < 0.01:
            plan.group_author = rng.choice(_GROUPS)
        if rng.random() < 0.03:
            plan.extra_tags.append("SI")
        if rng.random() < 0.005:
            plan.extra_tags.append(rng.choice(("PN", "SU")))
        return plan

    def funders(self, plan: PaperPlan) -> list[tuple[str, int, int]]:
        rng = self.rng
        if plan.year < 2008 or plan.doc_type in ("Editorial Material", "Book Review"):
            return []
        countries = list(dict.fromkeys(plan.countries))
        chance = 0.6 if "CHN" in countries else 0.4 if "GBR" in countries else 0.3
        if rng.random() >= chance:
            return []
        out: list[tuple[str, int, int]] = []
        for cc in countries:
            key = cc if cc in vocab.FUNDERS else "EUR" if cc in _EUROPE else ""
            if not key or (out and rng.random() < 0.4):
                continue
            options = [i for i, f in enumerate(vocab.FUNDERS[key]) if f[2] <= plan.year]
            if not options:
                continue
            # The first funder of a country (NSFC, ESRC, NSF...) is the usual one.
            index = options[0] if rng.random() < 0.55 else rng.choice(options)
            variants = vocab.FUNDERS[key][index][0]
            out.append((key, index, int(rng.random() * len(variants))))
            if cc == "CHN" and rng.random() < 0.25:
                second = rng.choice(options)
                if second != index:
                    out.append(
                        (key, second, int(rng.random() * len(vocab.FUNDERS[key][second][0])))
                    )
        return out[:4]


def move_first_address(plan: PaperPlan) -> None:
    """Put the first author's first address second in C1 (WoS sometimes orders them so):
    the first C1 address is then not the first author's, and the two lead rules disagree."""
    n = len(plan.addresses)
    if n < 2:
        return
    order = [1, 0, *range(2, n)]
    remap = {old: new for new, old in enumerate(order)}
    plan.addresses = [plan.addresses[old] for old in order]
    for author in plan.authors:
        author.affiliations = [remap[a] for a in author.affiliations]
    if "c1_first_not_first_author" not in plan.quirks:
        plan.quirks.append("c1_first_not_first_author")


_EUROPE = frozenset(
    {"ESP", "DEU", "NLD", "FIN", "NOR", "SWE", "BEL", "ITA", "CHE", "DNK", "PRT", "AUT", "FRA"}
    | {"GRC", "CYP", "IRL"}
)
_GROUPS = (
    "TLRP Res Team",
    "China UK Teacher Exchange Res Grp",
    "PISA Res Consortium",
    "Int Assoc Evaluat Educ Achievement",
)
