"""A corpus built to given marginals: exact counts of each collaboration class, as WoS exports.

Where :mod:`collabscope.synth.example` draws each record's countries at random, this generator
is told how many papers of each class to write — for a focal country X: internationally
collaborated and X-led, internationally collaborated and led elsewhere, single-affiliation,
domestic collaboration; for the pair (X, Y): X-led, Y-led and other-led papers with addresses in
both — plus papers without X (with Y only, or with neither) for a world corpus. Each record is
planned with its countries in lead-first order (:meth:`Planner.plan`), so its class is known
before any text is written, and written into the exports of every dataset it belongs to:

* ``world``: every record;
* ``x``: the records with an address in X (the explicitly exported subset);
* ``pair``: the records with addresses in X and Y.

The dataset names are configurable. ``truth/classes.tsv`` gives every record's class. Same spec
and seed, same bytes. ``python -m collabscope.synth marginals --out DIR --preset figure2``.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from collabscope.synth.corpus import export_name, times_cited
from collabscope.synth.plan import (
    BRACKET,
    CHINA,
    CU,
    PLAIN,
    UK,
    WORLD,
    PaperPlan,
    Planner,
    _Weighted,
)
from collabscope.synth.realise import EXAMPLE_PROFILE, Realiser, Record
from collabscope.synth.render import PLAIN as WOS_PLAIN
from collabscope.synth.render import export_text, write_export
from collabscope.synth.vocab import CHINA_PARTNERS, WORLD_WEIGHTS

# The classes, as paper_classes names them (the pair's classes are subsets of X's ICP classes).
X_ICP_LED_WITH_Y = "icp_x_led+x_led"
X_ICP_LED = "icp_x_led"
Y_LED = "icp_other_led+y_led"
OTHER_LED_WITH_Y = "icp_other_led+other_led"
X_ICP_OTHER_LED = "icp_other_led"
SINGLE = "single_affiliation"
DOMESTIC = "domestic_collaboration"
Y_ONLY = "y_only"
NEITHER = "neither"


@dataclass(frozen=True)
class Marginals:
    """How many papers of each class (X = focal, Y = partner of the pair)."""

    icp_x_led: int
    icp_other_led: int
    single_affiliation: int
    domestic_collaboration: int
    pair_x_led: int = 0
    pair_y_led: int = 0
    pair_other_led: int = 0
    y_only: int = 0
    neither: int = 0
    x: str = "CHN"
    y: str = "GBR"
    first_year: int = 2001
    last_year: int = 2020
    datasets: dict[str, str] = field(
        default_factory=lambda: {"world": "world", "x": "china", "pair": "china_uk"}
    )

    def __post_init__(self) -> None:
        if self.pair_x_led > self.icp_x_led:
            raise ValueError("pair X-led papers are X-led ICP papers: pair_x_led > icp_x_led")
        if self.pair_y_led + self.pair_other_led > self.icp_other_led:
            raise ValueError(
                "pair Y-led and other-led papers are other-led ICP papers of X: "
                "pair_y_led + pair_other_led > icp_other_led"
            )

    @property
    def x_papers(self) -> int:
        return (
            self.icp_x_led
            + self.icp_other_led
            + self.single_affiliation
            + self.domestic_collaboration
        )

    def counts(self) -> dict[str, int]:
        """Records to plan per class (the pair's classes taken out of X's ICP classes)."""
        return {
            X_ICP_LED_WITH_Y: self.pair_x_led,
            X_ICP_LED: self.icp_x_led - self.pair_x_led,
            Y_LED: self.pair_y_led,
            OTHER_LED_WITH_Y: self.pair_other_led,
            X_ICP_OTHER_LED: self.icp_other_led - self.pair_y_led - self.pair_other_led,
            SINGLE: self.single_affiliation,
            DOMESTIC: self.domestic_collaboration,
            Y_ONLY: self.y_only,
            NEITHER: self.neither,
        }


# The seed study's Figure 2: mainland-China education papers and China–UK papers.
FIGURE2 = Marginals(
    icp_x_led=1311,
    icp_other_led=1004,
    single_affiliation=958,
    domestic_collaboration=1713,
    pair_x_led=169,
    pair_y_led=108,
    pair_other_led=35,
)


class _MarginalsBuilder:
    def __init__(self, spec: Marginals, seed: int) -> None:
        self.spec = spec
        self.rng = random.Random(f"collabscope-marginals/{seed}")
        self.planner = Planner(self.rng)
        self.realiser = Realiser(self.rng, EXAMPLE_PROFILE)
        focal = (spec.x, spec.y)
        self.partners = _Weighted({k: v for k, v in CHINA_PARTNERS.items() if k not in focal})
        self.world = _Weighted({k: v for k, v in WORLD_WEIGHTS.items() if k not in focal})
        self.uts: set[str] = set()

    def ut(self) -> str:
        while True:
            ut = f"WOS:000{int(self.rng.random() * 10**12):012d}"
            if ut not in self.uts:
                self.uts.add(ut)
                return ut

    def year(self) -> int:
        years = list(range(self.spec.first_year, self.spec.last_year + 1))
        return self.rng.choices(years, [1.12**i for i in range(len(years))])[0]

    def partner(self, avoid: tuple[str, ...] = ()) -> str:
        return self.partners.pick(self.rng, avoid)

    def countries(self, cls: str) -> list[str]:
        """Address countries, lead first."""
        x, y, rng = self.spec.x, self.spec.y, self.rng
        extra = [self.partner()] if rng.random() < 0.15 else []
        if cls == X_ICP_LED_WITH_Y:
            return [x, y, *extra]
        if cls == X_ICP_LED:
            return [x, self.partner(), *([x] if rng.random() < 0.2 else [])]
        if cls == Y_LED:
            return [y, x, *extra]
        if cls == OTHER_LED_WITH_Y:
            return [self.partner(), x, y]
        if cls == X_ICP_OTHER_LED:
            return [self.partner(), x, *([x] if rng.random() < 0.2 else [])]
        if cls == SINGLE:
            return [x]
        if cls == DOMESTIC:
            return [x] * (2 if rng.random() < 0.75 else 3)
        if cls == Y_ONLY:
            return [y, *([self.partner()] if rng.random() < 0.3 else [])]
        lead = self.world.pick(rng)
        return [lead, *([self.world.pick(rng, (lead,))] if rng.random() < 0.25 else [])]

    def plan(self, cls: str) -> PaperPlan:
        kind = {X_ICP_LED_WITH_Y: CU, Y_LED: CU, OTHER_LED_WITH_Y: CU, Y_ONLY: UK, NEITHER: WORLD}
        year = self.year()
        # C1 always written (a record without C1 is found by its reprint address only); author
        # links from 2008 as in WoS, so older records exercise the lead-rule fallback.
        plan = self.planner.plan(
            self.ut(),
            kind.get(cls, CHINA),
            year,
            countries=self.countries(cls),
            doc_type="Article",
            n_refs=2 + int(self.rng.random() * 5),
            c1=BRACKET if year >= 2008 else PLAIN,
        )
        plan.times_cited = times_cited(self.rng, year)
        return plan

    def build(self) -> list[tuple[str, Record]]:
        classes = [cls for cls, n in self.spec.counts().items() for _ in range(n)]
        self.rng.shuffle(classes)
        out = []
        for cls in classes:
            record = self.realiser.realise(self.plan(cls))
            self.realiser.add_references(record)
            self.realiser.set_citation_counts(record)
            out.append((cls, record))
        return out


def _member(cls: str) -> tuple[bool, bool]:
    """(in the X dataset, in the pair dataset)."""
    pair = cls in (X_ICP_LED_WITH_Y, Y_LED, OTHER_LED_WITH_Y)
    return cls not in (Y_ONLY, NEITHER), pair


def generate_marginals_corpus(
    out_dir: Path, spec: Marginals = FIGURE2, seed: int = 2, per_file: int = 500
) -> dict[str, int]:
    """Write ``out_dir/exports/<dataset>/savedrecs*.txt`` and ``out_dir/truth/classes.tsv``;
    return the records written per dataset. The world dataset is written only when the spec
    has papers without X."""
    out_dir = Path(out_dir)
    built = _MarginalsBuilder(spec, seed).build()
    members: dict[str, list[Record]] = {name: [] for name in spec.datasets.values()}
    for cls, record in built:
        in_x, in_pair = _member(cls)
        if spec.y_only or spec.neither:
            members[spec.datasets["world"]].append(record)
        if in_x:
            members[spec.datasets["x"]].append(record)
        if in_pair:
            members[spec.datasets["pair"]].append(record)
    written = {}
    for name, records in members.items():
        if not records:
            continue
        folder = out_dir / "exports" / name
        for stale in sorted(folder.glob("savedrecs*.txt")):
            stale.unlink()
        for index, first in enumerate(range(0, len(records), per_file)):
            chunk = [(r, False) for r in records[first : first + per_file]]
            text = export_text(chunk, WOS_PLAIN, da="2021-03-15")
            write_export(folder / export_name(index), text, "utf-8")
        written[name] = len(records)
    truth = out_dir / "truth" / "classes.tsv"
    truth.parent.mkdir(parents=True, exist_ok=True)
    with open(truth, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["ut", "year", "class", "countries", "lead_country"])
        for cls, record in sorted(built, key=lambda item: item[1].ut):
            plan = record.plan
            lead = plan.addresses[plan.lead_address].country
            writer.writerow([record.ut, plan.year, cls, ",".join(plan.countries), lead])
    return written
