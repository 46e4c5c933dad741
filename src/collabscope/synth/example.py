"""The bundled example study: China–UK education papers 2001–2020, as WoS exports + truth.

Five datasets, as a researcher would download them: ``world`` (a sample of world education
papers), ``china`` (every mainland-China-participated paper), ``uk`` (every UK-participated
paper), ``china_uk`` (both) and ``citing`` (the papers citing the China–UK papers). Every record
is generated once and written into each export it belongs to, so memberships are consistent
(a China–UK paper is in the china, uk and china_uk exports under the same UT). The tricky
cases a parser and the normalisation must survive are planted several times each and recorded
in ``truth/*.tsv``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from collabscope.synth import places
from collabscope.synth.corpus import export_name, times_cited
from collabscope.synth.plan import (
    BRACKET,
    CHINA,
    CITING,
    CU,
    NO_C1,
    PLAIN,
    UK,
    UPPER,
    WORLD,
    AddressPlan,
    AuthorPlan,
    PaperPlan,
    Planner,
    move_first_address,
)
from collabscope.synth.realise import EXAMPLE_PROFILE, Realiser, Record
from collabscope.synth.render import PLAIN as WOS_PLAIN
from collabscope.synth.render import TAB as WOS_TAB
from collabscope.synth.render import export_text, write_export

DATASETS = ("world", "china", "uk", "china_uk", "citing")
PERIODS = ((2001, 2005), (2006, 2010), (2011, 2015), (2016, 2020))
SCRIPT_TITLE = (
    "<script>alert(1)</script> Teacher agency in Sino-British partnership schools: "
    "a comparative case study"
)
IMG_TITLE = (
    "Student voice <img src=x onerror=alert(1)> in China-UK transnational education programmes"
)
WORLD_DOC_TYPES = ("Article", "Review", "Article; Proceedings Paper")
# Institutions made a little more frequent so that each trap appears several times.
_BOOST = {
    "dku": 3.0,
    "nyush": 3.0,
    "qub": 1.5,
    "ulster": 2.0,
    "cmu_tw": 3.0,
    "unsw": 1.5,
    "une": 2.0,
    "bgsu": 3.0,
    "bidmc": 4.0,
}


@dataclass
class ExampleParams:
    """How many records of each kind the example holds (before derived memberships)."""

    cu_per_period: tuple[int, int, int, int] = (24, 40, 76, 130)
    china_only: int = 270
    uk_only: int = 270
    world_other: int = 330
    world_from: dict[str, int] = field(default_factory=lambda: {CU: 12, CHINA: 28, UK: 34})
    citing: int = 150
    cu_cite_cu: float = 0.12  # share of China-UK papers citing an earlier China-UK paper
    focal_cite_cu: float = 0.03  # share of China-only / UK-only papers citing one


@dataclass
class ExportFile:
    path: str  # relative to the example folder
    dataset: str
    fmt: str  # wos_plain | wos_tab
    encoding: str  # utf-8 | utf-8-sig | utf-16le-bom
    eol: str  # LF | CRLF
    header: str  # plain: clarivate | thomson; tab: modern71 | classic68
    da: str | None
    entries: list[tuple[Record, bool]]  # (record, written broken)
    duplicates_planted: int = 0
    bytes: int = 0


@dataclass
class ExampleSummary:
    """What :func:`generate_example_study` wrote."""

    out_dir: Path
    files: list[ExportFile]
    records: dict[str, int]  # distinct records per dataset
    n_records: int  # distinct records (UTs) in all exports
    total_bytes: int

    def __str__(self) -> str:
        lines = [f"example study in {self.out_dir}: {self.n_records} distinct records"]
        lines += [f"  {name}: {self.records[name]} records" for name in DATASETS]
        lines += [
            f"  {f.path}: {len(f.entries)} records ({f.fmt}, {f.encoding}, {f.eol})"
            for f in self.files
        ]
        lines.append(f"  {self.total_bytes / 1e6:.2f} MB in all")
        return "\n".join(lines)


class _Builder:
    def __init__(self, seed: int, params: ExampleParams) -> None:
        self.rng = random.Random(f"collabscope-example/{seed}")
        self.params = params
        self.planner = Planner(self.rng, boost=_BOOST)
        self.realiser = Realiser(self.rng, EXAMPLE_PROFILE)
        self.uts: set[str] = set()
        self.plans: list[PaperPlan] = []
        self.records: dict[str, Record] = {}
        self.datasets: dict[str, list[str]] = {}

    # ------------------------------------------------------------------ planning

    def ut(self, year: int) -> str:
        rng = self.rng
        base = 170 + (min(year, 2023) - 2001) * 20
        while True:
            ut = f"WOS:000{base + int(rng.random() * 20):03d}{int(rng.random() * 10**9):09d}"
            if ut not in self.uts:
                self.uts.add(ut)
                return ut

    def years(self, n: int, first: int, last: int, growth: float) -> list[int]:
        years = list(range(first, last + 1))
        weights = [growth**i for i in range(len(years))]
        return sorted(self.rng.choices(years, weights, k=n))

    def new_plan(self, kind: str, year: int) -> PaperPlan:
        low, high = EXAMPLE_PROFILE.refs
        n_refs = low + int(self.rng.random() * (high - low + 1))
        plan = self.planner.plan(self.ut(year), kind, year, n_refs=n_refs)
        if plan.doc_type == "Book Review":
            plan.n_refs = int(self.rng.random() * 3)
        elif plan.doc_type == "Editorial Material":
            plan.n_refs = 2 + int(self.rng.random() * 6)
        self.plans.append(plan)
        return plan

    def plan_all(self) -> None:
        p = self.params
        for (first, last), n in zip(PERIODS, p.cu_per_period, strict=True):
            for year in self.years(n, first, last, 1.12):
                plan = self.new_plan(CU, year)
                if plan.c1 == NO_C1:  # a China-UK paper must show both countries
                    plan.c1 = BRACKET if year >= 2008 else PLAIN
        for year in self.years(p.china_only, 2001, 2020, 1.16):
            self.focal_visible(self.new_plan(CHINA, year), "CHN")
        for year in self.years(p.uk_only, 2001, 2020, 1.05):
            self.focal_visible(self.new_plan(UK, year), "GBR")
        for year in self.years(p.world_other, 2001, 2020, 1.06):
            plan = self.new_plan(WORLD, year)
            plan.in_world = True
        for year in self.years(p.citing, 2005, 2023, 1.12):
            self.new_plan(CITING, year)
        for kind, n in sorted(p.world_from.items()):
            pool = [q for q in self.plans if q.kind == kind and q.doc_type in WORLD_DOC_TYPES]
            for q in self.rng.sample(pool, n):
                q.in_world = True

    def focal_visible(self, plan: PaperPlan, focal: str) -> None:
        """A record without C1 is found by its RP address only: make that one focal."""
        if plan.c1 != NO_C1:
            return
        for k, author in enumerate(plan.authors):
            if plan.addresses[author.affiliations[0]].country == focal:
                plan.corresponding = [k]
                plan.rp_all_affiliations = False
                return
        plan.c1 = BRACKET if plan.year >= 2008 else PLAIN  # no way to show it without C1

    # ------------------------------------------------------------------ planted cases

    def choose(self, predicate: Callable[[PaperPlan], bool], k: int) -> list[PaperPlan]:
        """``k`` planned records (fewer if fewer qualify), drawn with the builder's stream."""
        pool = [q for q in self.plans if predicate(q)]
        return self.rng.sample(pool, min(k, len(pool)))

    def set_address(
        self, plan: PaperPlan, index: int, inst: str, style: str = "", form: str = ""
    ) -> None:
        institution = places.INSTITUTIONS[inst]
        style = style or places.address_style(institution, plan.year, self.rng, plan.c1 == UPPER)
        plan.addresses[index] = AddressPlan(inst, institution.country, style, form)

    def index_of(self, plan: PaperPlan, country: str) -> int:
        """An address of ``country``, preferably not the lead one."""
        for i, a in enumerate(plan.addresses):
            if a.country == country and i != plan.lead_address:
                return i
        for i, a in enumerate(plan.addresses):
            if a.country == country:
                return i
        raise ValueError(f"{plan.ut} has no address in {country}")

    def partner_index(self, plan: PaperPlan, focal: tuple[str, ...]) -> int | None:
        for i in range(len(plan.addresses) - 1, -1, -1):
            if plan.addresses[i].country not in focal:
                return i
        return None

    def plant(self) -> None:
        rng = self.rng
        modern = ("Article", "Review")

        # Lau China Institute at King's College London (a China-named UK institute).
        for plan in self.choose(lambda q: q.kind == CU and q.year >= 2011, 4):
            i = self.index_of(plan, "GBR")
            self.set_address(plan, i, "kcl", form="Lau China Inst, Kings Coll London")
        # Sino-foreign joint institutions.
        joint = [("unnc", 2006), ("xjtlu", 2008), ("dku", 2014), ("nyush", 2013)]
        for n, (inst, since) in enumerate(joint * 3):
            for plan in self.choose(lambda q, s=since: q.kind == CU and q.year >= s, 1):
                i = self.index_of(plan, "CHN")
                self.set_address(plan, i, inst)
                if n < 4 and plan.c1 == BRACKET:  # the joint campus leads
                    addresses = plan.addresses
                    addresses[0], addresses[i] = addresses[i], addresses[0]
        # UK nations.
        for inst, n in (
            ("qub", 4),
            ("ulster", 3),
            ("cardiff", 3),
            ("bangor", 2),
            ("edinburgh", 3),
            ("strathclyde", 2),
        ):
            for plan in self.choose(lambda q: q.kind in (UK, CU), n):
                self.set_address(plan, self.index_of(plan, "GBR"), inst)
        # Traps for country matching in other countries' addresses.
        for inst, n in (
            ("unsw", 4),
            ("une", 3),
            ("bgsu", 3),
            ("bidmc", 3),
            ("cmu_tw", 3),
            ("ntnu", 3),
        ):
            for plan in self.choose(lambda q: q.kind in (WORLD, UK) and len(q.addresses) > 1, n):
                i = self.partner_index(plan, ("CHN", "GBR"))
                if i is not None and i != plan.lead_address:
                    self.set_address(plan, i, inst)
        # Hong Kong and Macau written every way.
        hk_styles = (
            (places.HK_OLD, 2001, 2011),
            (places.HK_CITY, 2001, 2011),
            (places.HK_PRC, 2012, 2020),
            (places.HK_DOUBLE, 2019, 2020),
            (places.MO_OLD, 2001, 2015),
            (places.MO_PRC, 2016, 2020),
        )
        for style, first, last in hk_styles:
            inst_keys = ("hku", "cuhk", "eduhk") if style.startswith("hk") else ("umacau", "must")
            for n, plan in enumerate(
                self.choose(
                    lambda q, a=first, b=last: (
                        q.kind == WORLD and a <= q.year <= b and q.c1 != UPPER
                    ),
                    4,
                )
            ):
                self.set_address(plan, 0, inst_keys[n % len(inst_keys)], style)
        for plan in self.choose(lambda q: q.kind == CU and q.year >= 2019, 2):
            plan.addresses.append(AddressPlan("hku", "HKG", places.HK_DOUBLE))
            plan.authors.append(AuthorPlan("hk", [len(plan.addresses) - 1]))
        # Old upper-case records, and US addresses without 'USA'.
        for plan in self.choose(lambda q: q.kind in (CU, CHINA, UK) and q.year <= 2004, 8):
            if plan.c1 != UPPER:
                plan.c1 = UPPER
                for i, a in enumerate(plan.addresses):
                    self.set_address(plan, i, a.inst)
        for plan in self.choose(lambda q: q.kind == WORLD and q.year <= 2004, 3):
            plan.c1 = UPPER
            self.set_address(
                plan, 0, rng.choice(("stanford", "harvard", "umich")), places.US_NO_COUNTRY
            )
            for i in range(1, len(plan.addresses)):
                self.set_address(plan, i, plan.addresses[i].inst)
        # The first C1 address is not the first author's.
        for plan in self.choose(
            lambda q: (
                q.kind in (CU, CHINA, UK, WORLD)
                and q.c1 == BRACKET
                and len(q.addresses) > 1
                and q.addresses[0].country != q.addresses[1].country
                and len(q.authors[0].affiliations) == 1
            ),
            6,
        ):
            move_first_address(plan)
        # Early access without PY (and a few with PY as well).
        for kind, n in ((CU, 2), (CHINA, 2), (UK, 1), (WORLD, 1)):
            for plan in self.choose(
                lambda q, k=kind: q.kind == k and q.year == 2020 and q.doc_type == "Article", n
            ):
                plan.early_access = "ea_only"
        # Corresponding author in another country than the first author.
        for plan in self.choose(
            lambda q: q.kind == CU and len(q.authors) > 2 and q.c1 == BRACKET, 6
        ):
            lead = plan.addresses[plan.lead_address].country
            others = [
                k
                for k, a in enumerate(plan.authors)
                if plan.addresses[a.affiliations[0]].country != lead
            ]
            if others:
                plan.corresponding = [others[-1]]
        # RP with several addresses: one corresponding author with two affiliations.
        moved = "c1_first_not_first_author"
        for plan in self.choose(
            lambda q: q.kind in (CU, UK) and len(q.addresses) > 1 and moved not in q.quirks, 5
        ):
            k = plan.corresponding[0]
            author = plan.authors[k]
            other = next(i for i in range(len(plan.addresses)) if i != author.affiliations[0])
            if other not in author.affiliations:
                author.affiliations.append(other)
            plan.rp_all_affiliations = True
            plan.quirks.append("rp_multi_address")
        # One author with addresses in both China and the UK.
        for plan in self.choose(
            lambda q: q.kind == CU and q.year >= 2008 and moved not in q.quirks, 2
        ):
            plan.authors = [AuthorPlan(plan.authors[0].culture, list(range(len(plan.addresses))))]
            plan.corresponding = [0]
            plan.c1 = BRACKET
        # Funders written several ways.
        nsfc = [(("CHN", 0, v)) for v in range(6)]
        esrc = [(("GBR", 0, v)) for v in range(5)]
        for funders, kinds in ((nsfc, (CU, CHINA)), (esrc, (CU, UK))):
            for variant in funders * 2:
                for plan in self.choose(lambda q, ks=kinds: q.kind in ks and q.year >= 2010, 1):
                    plan.funders = [variant, *[f for f in plan.funders if f[:2] != variant[:2]]]
        for plan in self.choose(lambda q: q.kind == CU and q.year >= 2012 and q.funders == [], 3):
            plan.funders = [("CHN", 0, 2), ("GBR", 0, 2)]  # 'NSFC [..]; ESRC [..]'
        # Institutional (group) authors.
        for plan in self.choose(lambda q: q.kind in (CU, UK, WORLD) and q.year >= 2008, 3):
            plan.group_author = rng.choice(("TLRP Res Team", "China UK Teacher Exchange Res Grp"))
        # Titles that a report must escape.
        script, img = self.choose(
            lambda q: q.kind == CU and q.year >= 2015 and q.doc_type in modern, 2
        )
        script.title = SCRIPT_TITLE
        img.title = IMG_TITLE

    # ------------------------------------------------------------------ text, links, counts

    def realise_all(self) -> None:
        for plan in self.plans:
            self.records[plan.ut] = self.realiser.realise(plan)

    def derive(self, with_citing: bool) -> None:
        """Dataset memberships from content: what each WoS query would have returned."""
        member: dict[str, list[str]] = {name: [] for name in DATASETS}
        for plan in self.plans:
            record = self.records[plan.ut]
            visible = {a.country for a in record.addresses}  # what AD= searches: C1 and RP
            window = 2001 <= plan.year <= 2020
            names = []
            if plan.in_world:
                names.append("world")
            if plan.is_education and window:
                if "CHN" in visible:
                    names.append("china")
                if "GBR" in visible:
                    names.append("uk")
                if "CHN" in visible and "GBR" in visible:
                    names.append("china_uk")
            if with_citing and record.cited:
                names.append("citing")
            plan.datasets = names
            for name in names:
                member[name].append(plan.ut)
        self.datasets = member

    def link_citations(self) -> None:
        """Citing records cite China–UK papers, by DOI or by author-year-volume-page."""
        rng = self.rng
        # References that are not planted links must not point at a generated record.
        dois = {r.doi.lower() for r in self.records.values() if r.doi}
        keys = set()
        for r in self.records.values():
            surname, _, initials = (
                str(r.fields["AU"][0]).partition(", ") if r.fields.get("AU") else ("", "", "")
            )
            keys.add((surname.lower(), initials[:1].lower(), r.cite_year, r.volume, r.page))
        self.realiser.ensure_pool(dois, keys)
        targets = sorted(
            (self.records[ut] for ut in self.datasets["china_uk"]), key=lambda r: r.plan.year
        )
        p = self.params
        for plan in self.plans:
            if plan.kind == CITING:
                n = 1 + int(rng.random() * 3)
            elif (plan.kind == CU and rng.random() < p.cu_cite_cu) or (
                plan.kind in (CHINA, UK) and rng.random() < p.focal_cite_cu
            ):
                n = 1
            else:
                n = 0
            candidates = [t for t in targets if t.plan.year < plan.year and t.ut != plan.ut]
            chosen = rng.sample(candidates, min(n, len(candidates)))
            links = []
            for target in sorted(chosen, key=lambda r: r.ut):
                if target.doi and (not target.page or rng.random() < 0.7):
                    links.append((target, "doi"))
                elif target.page:
                    links.append((target, "aypv"))
            plan.n_refs = max(plan.n_refs, len(links))
            self.realiser.add_references(self.records[plan.ut], links)

    def citation_counts(self) -> None:
        rng = self.rng
        cited_by: dict[str, set[str]] = {}
        for record in self.records.values():
            for _, target, _ in record.cited:
                cited_by.setdefault(target, set()).add(record.ut)
        for plan in self.plans:
            plan.times_cited = max(
                times_cited(rng, plan.year), len(cited_by.get(plan.ut, ())) + int(rng.random() * 3)
            )
            if plan.early_access == "ea_only":
                plan.times_cited = min(plan.times_cited, 2 + len(cited_by.get(plan.ut, ())))
        # Highly cited: the top 2% by times cited per year (ESI looks at the last ten years).
        for year in range(2010, 2021):
            same = [q for q in self.plans if q.year == year and q.kind != CITING]
            same.sort(key=lambda q: (-q.times_cited, q.ut))
            for q in same[: max(1, round(0.02 * len(same)))]:
                q.highly_cited = True
        for plan in self.choose(
            lambda q: (
                q.kind == CU
                and 2012 <= q.year <= 2019
                and not q.highly_cited
                and q.doc_type in ("Article", "Review")
            ),
            4,
        ):
            plan.highly_cited = True
            plan.times_cited = plan.times_cited * 4 + 60
        for plan in self.plans:
            if plan.highly_cited and plan.year >= 2018 and rng.random() < 0.5:
                plan.hot_paper = True
            self.realiser.set_citation_counts(self.records[plan.ut])

    # ------------------------------------------------------------------ files

    def layout(self) -> list[ExportFile]:
        rng = self.rng
        files: list[ExportFile] = []

        def ordered(name: str) -> list[Record]:
            records = [self.records[ut] for ut in sorted(self.datasets[name])]
            rng.shuffle(records)  # WoS 'relevance' order: years mixed in every file
            return records

        def add(
            name: str,
            index: int,
            records: list[Record],
            fmt: str,
            encoding: str,
            eol: str,
            header: str,
            da: str | None,
            dup: int = 0,
        ) -> ExportFile:
            files.append(
                ExportFile(
                    f"exports/{name}/{export_name(index)}",
                    name,
                    fmt,
                    encoding,
                    eol,
                    header,
                    da,
                    [(r, False) for r in records],
                    dup,
                )
            )
            return files[-1]

        # world: three downloads; the second overlaps the first by one record (the user's
        # ranges 1-400 and 400-650); the third made years ago with the old header, no DA/HC.
        world = ordered("world")
        old = [r for r in world if not r.plan.highly_cited][-90:]
        old_uts = {r.ut for r in old}
        rest = [r for r in world if r.ut not in old_uts]
        first = add("world", 0, rest[:200], WOS_PLAIN, "utf-8-sig", "LF", "clarivate", "2021-03-20")
        add("world", 1, rest[199:], WOS_PLAIN, "utf-8", "LF", "clarivate", "2021-03-20", dup=1)
        add("world", 2, old, WOS_PLAIN, "utf-8", "LF", "thomson", None)
        # exactly one broken record: a world paper whose export lost its UT line
        broken_plan = self.new_plan(WORLD, 2016)
        broken_plan.in_world = True
        broken = self.realiser.realise(broken_plan)
        self.realiser.add_references(broken)
        first.entries.insert(1 + int(rng.random() * (len(first.entries) - 1)), (broken, True))
        self.plans.remove(broken_plan)

        china = ordered("china")
        add("china", 0, china[:500], WOS_PLAIN, "utf-8-sig", "LF", "clarivate", "2021-03-15")
        add("china", 1, china[500:], WOS_PLAIN, "utf-8", "CRLF", "clarivate", "2021-03-15")
        uk = ordered("uk")
        add("uk", 0, uk[:500], WOS_PLAIN, "utf-8", "LF", "clarivate", "2021-03-16")
        add("uk", 1, uk[500:], WOS_TAB, "utf-8-sig", "CRLF", "modern71", "2021-03-16")
        cu = ordered("china_uk")
        add("china_uk", 0, cu[:225], WOS_PLAIN, "utf-8", "LF", "clarivate", "2021-03-12")
        add("china_uk", 1, cu[225:], WOS_TAB, "utf-16le-bom", "CRLF", "classic68", "2021-03-12")
        citing = ordered("citing")
        for i in range(0, len(citing), 500):
            add(
                "citing",
                i // 500,
                citing[i : i + 500],
                WOS_PLAIN,
                "utf-8-sig",
                "LF",
                "clarivate",
                "2021-04-02",
            )
        return files


def generate_example_study(
    out_dir: Path, seed: int = 20011, params: ExampleParams | None = None
) -> ExampleSummary:
    """Write ``out_dir/exports/<dataset>/*.txt``, ``out_dir/truth/*.tsv`` and a README.

    Same seed, same bytes. Files this generator writes (``savedrecs*.txt`` in the dataset
    folders, ``truth/*.tsv``) are replaced; nothing else in ``out_dir`` is touched.
    """
    out_dir = Path(out_dir)
    builder = _Builder(seed, params or ExampleParams())
    builder.plan_all()
    builder.plant()
    builder.realise_all()
    builder.derive(with_citing=False)
    builder.link_citations()
    builder.citation_counts()
    builder.derive(with_citing=True)
    # A record no query finds is in no export (planting can, rarely, hide its countries).
    builder.plans = [q for q in builder.plans if q.datasets]
    files = builder.layout()

    for name in DATASETS:
        folder = out_dir / "exports" / name
        for stale in sorted(folder.glob("savedrecs*.txt")):
            stale.unlink()
    for stale in sorted((out_dir / "truth").glob("*.tsv")):
        stale.unlink()
    total = 0
    for f in files:
        text = export_text(
            f.entries,
            f.fmt,
            header=f.header if f.fmt == WOS_PLAIN else "clarivate",
            layout=f.header if f.fmt == WOS_TAB else "modern71",
            da=f.da,
            eol="\r\n" if f.eol == "CRLF" else "\n",
        )
        f.bytes = write_export(out_dir / f.path, text, f.encoding)
        if f.encoding == "utf-8" and text.isascii():
            f.encoding = "ascii"
        total += f.bytes
    from collabscope.synth import truth

    total += truth.write_truth(out_dir, builder.plans, builder.records, files)
    summary = ExampleSummary(
        out_dir=out_dir,
        files=files,
        records={name: len(builder.datasets[name]) for name in DATASETS},
        n_records=len(builder.plans),
        total_bytes=total,
    )
    total += truth.write_readme(out_dir, summary, builder.plans)
    from collabscope.qualitative.example import write_example

    # The fictional coded interviews of the qualitative strand (issue 9).
    total += sum(p.stat().st_size for p in write_example(out_dir / "qualitative"))
    summary.total_bytes = total
    return summary
