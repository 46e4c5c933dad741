"""Report sections from the classification, the indicators and the sampling summary.

The indicator tables are small aggregates: :func:`load` collects them once into an
:class:`Indicators` bundle, together with the choices the report makes and states:

- each focal country's (and the pair's) *principal dataset*: the corpus dataset holding the
  most of its papers in the study's years, the smallest such dataset on a tie (the most
  specific corpus: China–UK papers come from the China–UK export, not the world sample);
- the *world dataset* for world shares: the corpus dataset in which the first focal country's
  share of records is lowest (the least country-restricted corpus).

The builders return :class:`~collabscope.report.model.Section` objects like those of
:mod:`collabscope.report.sections`; numbers stay numbers (``pct`` columns hold fractions).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.classify import indicators as ind
from collabscope.classify import papers
from collabscope.classify.papers import (
    classify_papers,
    lead_addresses,
    record_profile,
)
from collabscope.normalise.countries import CountryPolicy
from collabscope.parts import PartStore, library_code, settings_digest, tally_shards
from collabscope.report import figures, findings
from collabscope.report.model import (
    Column,
    ColumnKind,
    FigureBlock,
    Section,
    Study,
    TableBlock,
    TreeBlock,
    TreeNode,
    table_block,
)
from collabscope.report.tallies import POLICIES
from collabscope.sampling.draw import SUMMARY_SCHEMA
from collabscope.tableio import parts_of, scan_parts, scan_table

INDICATOR_NAMES = tuple(t.name for t in schemas.INDICATORS)
SAMPLING_CSV = dict(SUMMARY_SCHEMA)  # results/sampling/summary.csv, as draw_sample writes it
LEAD_RULE_WORDS = {
    "first_author": "the first C1 address linked to the first author (the first C1 address "
    "when a record has no author links)",
    "first_address": "the first C1 address",
    "reprint": "the reprint (corresponding) address (the first C1 address when there is none)",
}
CITED_TOP = 3  # countries named per group in the compact citing-by-cited table


@dataclass(frozen=True)
class Indicators:
    """The indicator tables (collected) and the report's stated choices."""

    frames: Mapping[str, pl.DataFrame]
    study: Study
    names: Mapping[str, str]
    principal: Mapping[str, str]  # focal country or pair -> dataset
    world: str | None

    @property
    def focal(self) -> list[str]:
        return [code for code, _ in self.study.focal_countries]

    @property
    def pair(self) -> str | None:
        return "+".join(self.focal) if len(self.focal) == 2 else None

    @property
    def years(self) -> list[int]:
        if not self.study.periods:
            return []
        first = min(p.first for p in self.study.periods)
        last = max(p.last for p in self.study.periods)
        return list(range(first, last + 1))

    @property
    def period_labels(self) -> list[str]:
        return [p.label for p in self.study.periods]

    def name(self, code: str) -> str:
        if "+" in code:
            return "–".join(self.names.get(c, c) for c in code.split("+"))
        return self.names.get(code, code)

    def by_period(self, table: str, **where: str) -> pl.DataFrame:
        """Rows of the period slices in config order (``where``: column equals value)."""
        frame = self.frames[table].filter(pl.col("granularity") == "period")
        for column, value in where.items():
            frame = frame.filter(pl.col(column) == value)
        order = pl.DataFrame(
            {"period": self.period_labels, "_order": list(range(len(self.period_labels)))},
            schema={"period": pl.String, "_order": pl.Int64},
        )
        return order.join(frame, on="period", how="left").drop("_order")

    def by_year(self, table: str, **where: str) -> pl.DataFrame:
        """Rows of the yearly slices for every study year (missing years as nulls)."""
        frame = self.frames[table].filter(pl.col("granularity") == "year")
        for column, value in where.items():
            frame = frame.filter(pl.col(column) == value)
        years = pl.DataFrame({"year": self.years}, schema={"year": pl.Int64})
        return years.join(
            frame.with_columns(year=pl.col("first_year")), on="year", how="left"
        ).sort("year")

    def in_study(self, table: str, **where: str) -> pl.DataFrame:
        """Yearly rows within the study's periods (each year once, whatever the periods)."""
        covered = sorted({y for p in self.study.periods for y in range(p.first, p.last + 1)})
        frame = self.frames[table].filter(
            pl.col("granularity") == "year", pl.col("first_year").is_in(covered)
        )
        for column, value in where.items():
            frame = frame.filter(pl.col(column) == value)
        return frame


def _principal(
    frame: pl.DataFrame, focal: str, sizes: Mapping[str, int], years: Sequence[int]
) -> str | None:
    counts = (
        frame.filter(
            pl.col("focal") == focal,
            pl.col("granularity") == "year",
            pl.col("first_year").is_in(list(years)),
        )
        .group_by("dataset")
        .agg(pl.col("papers").sum())
        .filter(pl.col("papers") > 0)
        .iter_rows()
    )
    ranked = sorted(counts, key=lambda r: (-r[1], sizes.get(r[0], 0), r[0]))
    return ranked[0][0] if ranked else None


def _world(outputs: pl.DataFrame, focal: str, years: Sequence[int]) -> str | None:
    shares = (
        outputs.filter(
            pl.col("focal") == focal,
            pl.col("granularity") == "year",
            pl.col("first_year").is_in(list(years)),
        )
        .group_by("dataset")
        .agg(pl.col("records").sum(), pl.col("focal_records").sum())
        .filter(pl.col("records") > 0)
        .with_columns(share=pl.col("focal_records") / pl.col("records"))
        .filter(pl.col("share") < 1.0)
        .iter_rows(named=True)
    )
    ranked = sorted(shares, key=lambda r: (r["share"], -r["records"], r["dataset"]))
    return ranked[0]["dataset"] if ranked else None


def from_frames(
    frames: Mapping[str, pl.DataFrame],
    study: Study,
    names: Mapping[str, str],
    sizes: Mapping[str, int],
) -> Indicators:
    """The bundle from collected indicator frames (``sizes``: records per dataset)."""
    bare = Indicators(frames, study, names, {}, None)
    principal: dict[str, str] = {}
    for code in bare.focal:
        found = _principal(frames["collaboration"], code, sizes, bare.years)
        if found:
            principal[code] = found
    if bare.pair:
        found = _principal(frames["pair_leads"], bare.pair, sizes, bare.years)
        if found:
            principal[bare.pair] = found
    world = _world(frames["outputs"], bare.focal[0], bare.years) if bare.focal else None
    return Indicators(frames, study, names, principal, world)


def load(tables: Mapping[str, str | Path], study: Study, names: Mapping[str, str]) -> Indicators:
    frames = {
        name: scan_table(tables[name], schemas.INDICATOR_BY_NAME[name]).collect()
        for name in INDICATOR_NAMES
    }
    sizes = dict(
        scan_table(tables["datasets"], schemas.DATASETS)
        .select("dataset", "records")
        .collect()
        .iter_rows()
    )
    return from_frames(frames, study, names, sizes)


def _share(part: float | None, whole: float | None) -> float | None:
    return part / whole if part is not None and whole else None


def _legend(codes: Sequence[str], names: Mapping[str, str]) -> str:
    shown = sorted({c for c in codes if c})
    return "Codes: " + "; ".join(f"{c} {names.get(c, c)}" for c in shown) + "." if shown else ""


# ------------------------------------------------------------------------------- findings


def findings_paragraphs(data: Indicators) -> tuple[str, ...]:
    """Sentences from the numbers, in a fixed order; see :mod:`collabscope.report.findings`."""
    sentences: list[str] = []
    for code in data.focal:
        dataset = data.principal.get(code)
        name = data.name(code)
        if dataset is None:
            sentences.append(f"No {name}-participated paper is in any corpus dataset.")
            continue
        rows = data.by_period("collaboration", dataset=dataset, focal=code)
        periods = rows["period"].to_list()
        papers = [None if v is None else float(v) for v in rows["papers"].to_list()]
        sentences.append(
            findings.trend_sentence(
                f"The number of {name}-participated papers (dataset {dataset})",
                list(zip(periods, papers, strict=True)),
                "count",
                "papers",
            )
        )
        if data.world:
            out = data.by_period("outputs", dataset=data.world, focal=code)
            shares = [_share(f, r) for f, r in out.select("focal_records", "records").iter_rows()]
            sentences.append(
                findings.trend_sentence(
                    f"{name}'s share of the records of dataset {data.world}",
                    list(zip(out["period"].to_list(), shares, strict=True)),
                    "share",
                )
            )
        icp = [_share(i, p) for i, p in rows.select("icp", "papers").iter_rows()]
        sentences.append(
            findings.trend_sentence(
                f"The share of internationally collaborated papers among {name}'s papers",
                list(zip(periods, icp, strict=True)),
                "share",
            )
        )
        led = [_share(x, i) for x, i in rows.select("icp_x_led", "icp").iter_rows()]
        sentences.append(
            findings.trend_sentence(
                f"The share of {name}-led papers among {name}'s internationally collaborated "
                "papers",
                list(zip(periods, led, strict=True)),
                "share",
            )
        )
        top = data.by_period("partners", dataset=dataset, focal=code).filter(pl.col("rank") == 1)
        if top.height:
            last = top.tail(1).row(0, named=True)
            sentences.append(
                f"{name}'s most frequent partner country in {last['period']} was "
                f"{data.name(last['partner'])}, on {last['records']:,} of its "
                f"{last['icp']:,} internationally collaborated papers "
                f"({100 * (last['share_of_icp'] or 0):.1f}%)."
            )
    pair = data.pair
    if pair and pair in data.principal:
        dataset = data.principal[pair]
        x, y = (data.name(c) for c in data.focal)
        both = data.name(pair)
        rows = data.by_period("pair_leads", dataset=dataset, focal=pair)
        periods = rows["period"].to_list()
        papers = [None if v is None else float(v) for v in rows["papers"].to_list()]
        sentences.append(
            findings.trend_sentence(
                f"The number of {both} papers (dataset {dataset})",
                list(zip(periods, papers, strict=True)),
                "count",
                "papers",
            )
        )
        for column, lead in (("x_led", x), ("y_led", y)):
            values = [_share(n, p) for n, p in rows.select(column, "papers").iter_rows()]
            sentences.append(
                findings.trend_sentence(
                    f"The share of {lead}-led papers among {both} papers",
                    list(zip(periods, values, strict=True)),
                    "share",
                )
            )
        funding = data.by_period("funding_sources", dataset=dataset)
        if funding.height:
            jointly = [_share(b, r) for b, r in funding.select("by_both", "records").iter_rows()]
            sentences.append(
                findings.trend_sentence(
                    f"The share of the records of dataset {dataset} funded by agencies of both "
                    "countries",
                    list(zip(funding["period"].to_list(), jointly, strict=True)),
                    "share",
                )
            )
        hcp = data.in_study("highly_cited", dataset=dataset, focal=pair)
        n_papers, n_hcp = int(hcp["papers"].sum()), int(hcp["hcp"].sum())
        if n_papers:
            sentences.append(
                f"{n_hcp:,} of the {n_papers:,} {both} papers "
                f"({100 * n_hcp / n_papers:.1f}%) {'is' if n_hcp == 1 else 'are'} highly cited."
            )
    elif pair:
        sentences.append(f"No {data.name(pair)} paper is in any corpus dataset.")
    return tuple(sentences)


def findings_section(data: Indicators) -> Section:
    return Section(
        "findings",
        "Summary of quantitative findings",
        (*findings_paragraphs(data), findings.threshold_note()),
    )


# ----------------------------------------------------------------------- category trees


def _sum(frame: pl.DataFrame, column: str) -> int:
    return int(frame[column].sum()) if frame.height else 0


def _country_tree(data: Indicators, code: str) -> TreeBlock | None:
    dataset = data.principal.get(code)
    if dataset is None:
        return None
    rows = data.in_study("collaboration", dataset=dataset, focal=code)
    n = {
        c: _sum(rows, c)
        for c in schemas.INDICATOR_BY_NAME["collaboration"].schema.names()
        if c
        in (
            "papers",
            "icp",
            "icp_x_led",
            "icp_other_led",
            "non_icp",
            "single_affiliation",
            "domestic_collaboration",
            "single_author",
        )
    }
    name = data.name(code)

    def node(label: str, key: str, parent: str | None, children: tuple[TreeNode, ...] = ()):
        return TreeNode(label, n[key], _share(n[key], n[parent]) if parent else None, "", children)

    root = node(
        f"{name}-participated papers",
        "papers",
        None,
        (
            node(
                "Internationally collaborated (ICP)",
                "icp",
                "papers",
                (
                    node(f"{name}-led", "icp_x_led", "icp"),
                    node("Led by another country", "icp_other_led", "icp"),
                ),
            ),
            node(
                "Not internationally collaborated",
                "non_icp",
                "papers",
                (
                    node("Single affiliation", "single_affiliation", "non_icp"),
                    node("Domestic collaboration", "domestic_collaboration", "non_icp"),
                ),
            ),
        ),
    )
    single = TreeNode(
        "Single-author papers (any class above)",
        n["single_author"],
        _share(n["single_author"], n["papers"]),
    )
    return _tree_block(
        f"tree_{code}", f"{name}-participated papers by category", dataset, data, (root, single)
    )


def _pair_tree(data: Indicators, joint: int) -> TreeBlock | None:
    pair = data.pair
    if pair is None or pair not in data.principal:
        return None
    dataset = data.principal[pair]
    rows = data.in_study("pair_leads", dataset=dataset, focal=pair)
    total = _sum(rows, "papers")
    x, y = data.focal
    children = tuple(
        TreeNode(label, _sum(rows, key), _share(_sum(rows, key), total))
        for label, key in (
            (f"{data.name(x)}-led", "x_led"),
            (f"{data.name(y)}-led", "y_led"),
            ("Led by another country", "other_led"),
        )
    )
    note = f"{joint:,} of them only through a transnational joint institution" if joint else ""
    root = TreeNode(f"{data.name(pair)} papers", total, None, note, children)
    return _tree_block(f"tree_{x}_{y}", f"{data.name(pair)} papers by lead", dataset, data, (root,))


def _tree_block(
    id: str, title: str, dataset: str, data: Indicators, roots: tuple[TreeNode, ...]
) -> TreeBlock:
    flat: list[tuple[str, str, int, float | None]] = []

    def walk(node: TreeNode, depth: int, parent: str) -> None:
        flat.append(("  " * depth + node.label, parent, node.count, node.share))
        for child in node.children:
            walk(child, depth + 1, node.label)

    for root in roots:
        walk(root, 0, "")
    years = data.years
    span = f"{years[0]}–{years[-1]}" if years else "no years"
    table = TableBlock(
        id,
        f"{title} (tree data)",
        (
            Column("category", "Category"),
            Column("parent", "Share of"),
            Column("papers", "Papers", "int"),
            Column("share", "Share of parent", "pct"),
        ),
        tuple(flat),
    )
    return TreeBlock(
        id,
        title,
        f"Dataset {dataset}, papers of {span} (full counting); each percentage is of the box "
        "above it.",
        roots,
        table,
    )


def _period_rows(data: Indicators, code: str) -> TableBlock | None:
    dataset = data.principal.get(code)
    if dataset is None:
        return None
    rows = data.by_period("collaboration", dataset=dataset, focal=code)
    name = data.name(code)
    return table_block(
        f"collaboration_{code}",
        f"{name}-participated papers by period (dataset {dataset})",
        rows,
        [
            Column("period", "Period"),
            Column("papers", "Papers", "int"),
            Column("icp", "ICP", "int"),
            Column("icp_share", "ICP share", "pct"),
            Column("icp_x_led", f"{name}-led ICP", "int"),
            Column("icp_other_led", "Other-led ICP", "int"),
            Column("lead_share", "Led share of ICP", "pct"),
            Column("single_affiliation", "Single affiliation", "int"),
            Column("domestic_collaboration", "Domestic collaboration", "int"),
            Column("single_author", "Single author", "int"),
            Column("papers_fractional", "Papers, fractional", "float"),
            Column("icp_share_fractional", "ICP share, fractional", "pct"),
            Column("lead_share_fractional", "Led share, fractional", "pct"),
        ],
        caption="Full counting unless marked fractional (the country's address share of each "
        "paper). A period without papers shows empty cells.",
    )


def _pair_period_rows(data: Indicators) -> TableBlock | None:
    pair = data.pair
    if pair is None or pair not in data.principal:
        return None
    dataset = data.principal[pair]
    x, y = (data.name(c) for c in data.focal)
    rows = data.by_period("pair_leads", dataset=dataset, focal=pair)
    return table_block(
        f"pair_leads_{pair.replace('+', '_')}",
        f"{data.name(pair)} papers by period and lead (dataset {dataset})",
        rows,
        [
            Column("period", "Period"),
            Column("papers", "Papers", "int"),
            Column("x_led", f"{x}-led", "int"),
            Column("x_led_share", f"{x}-led share", "pct"),
            Column("y_led", f"{y}-led", "int"),
            Column("y_led_share", f"{y}-led share", "pct"),
            Column("other_led", "Other-led", "int"),
            Column("other_led_share", "Other-led share", "pct"),
            Column("lead_fallback", "Lead by fallback", "int"),
        ],
    )


def categories_section(data: Indicators, tables: Mapping[str, str | Path]) -> Section:
    pair = data.pair
    joint = (
        _joint_institution_count(tables, data.principal[pair], data)
        if pair and pair in data.principal
        else 0
    )
    trees = [_country_tree(data, code) for code in data.focal] + [_pair_tree(data, joint)]
    period_tables = [_period_rows(data, code) for code in data.focal] + [_pair_period_rows(data)]
    paragraphs = [
        "The categories of the seed study's Figure 2: a focal country's papers are "
        "internationally collaborated (ICP: an address outside the country) or not; ICP papers "
        "are led by the country or by another; the others have a single affiliation or are a "
        "domestic collaboration. Single-author papers are counted apart (a single-author paper "
        "can still list two institutions).",
        "Principal datasets (the corpus dataset holding the most of each one's papers): "
        + "; ".join(f"{data.name(k)}: {v}" for k, v in data.principal.items())
        + ".",
    ]
    if pair and pair in data.principal:
        paragraphs.append(
            f"{joint:,} of the {data.name(pair)} papers of dataset {data.principal[pair]} have "
            "addresses in both countries only through a transnational joint institution (e.g. "
            "the Sino-foreign UNNC or XJTLU); without it they would not be pair papers "
            "(paper_classes.rests_on_joint_institution)."
        )
    types = [_collaboration_types(data, code) for code in data.focal]
    blocks = tuple(b for b in (*trees, *period_tables, *types) if b is not None)
    return Section("categories", "Collaboration categories", tuple(paragraphs), blocks)


COLLAB_TYPES = (*papers.COLLAB_TYPES, "unknown")


def _collaboration_types(data: Indicators, code: str) -> TableBlock | None:
    """Papers by number of countries (collaboration_types), per period, side by side."""
    dataset = data.principal.get(code)
    if dataset is None:
        return None
    rows = data.frames["collaboration_types"].filter(
        pl.col("granularity") == "period", pl.col("dataset") == dataset, pl.col("focal") == code
    )
    wide = pl.DataFrame({"collab_type": list(COLLAB_TYPES)})
    columns = [Column("collab_type", "Collaboration type", "code")]
    for i, label in enumerate(data.period_labels):
        part = rows.filter(pl.col("period") == label).select(
            "collab_type", pl.col("papers").alias(f"n{i}"), pl.col("share").alias(f"s{i}")
        )
        wide = wide.join(part, on="collab_type", how="left")
        columns += [Column(f"n{i}", f"{label}: papers", "int"), Column(f"s{i}", "share", "pct")]
    present = [f"n{i}" for i in range(len(data.period_labels))]
    if present:
        wide = wide.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in present))
    return table_block(
        f"collaboration_types_{code}",
        f"{data.name(code)}-participated papers by number of countries (dataset {dataset})",
        wide,
        columns,
        caption="domestic-single: one institution in one country; domestic-multiple: several "
        "institutions, one country; bilateral, trilateral, quadrilateral+: two, three, four or "
        "more countries; unknown: no address with a known country.",
    )


def _joint_institution_count(
    tables: Mapping[str, str | Path], dataset: str, data: Indicators
) -> int:
    members = scan_table(tables["dataset_records"], schemas.DATASET_RECORDS).filter(
        pl.col("dataset") == dataset
    )
    covered = sorted({y for p in data.study.periods for y in range(p.first, p.last + 1)})
    return int(
        scan_table(tables["paper_classes"], schemas.PAPER_CLASSES)
        .filter(
            pl.col("focal") == data.pair,
            pl.col("rests_on_joint_institution").fill_null(False),
            pl.col("year").is_in(covered),
        )
        .join(members, on="record_id", how="semi")
        .select(pl.len())
        .collect()
        .item()
    )


# ------------------------------------------------------------------------------- trends


def _trend_figure(
    data: Indicators,
    figure_writer: figures.FigureWriter,
    name: str,
    title: str,
    ylabel: str,
    series: list[tuple[str, list[float | None], int, bool]],
    percent: bool,
    caption: str,
) -> FigureBlock:
    years = data.years
    periods = [(p.label, p.first, p.last) for p in data.study.periods]
    png, svg = figure_writer.draw(
        name, figures.trend_chart, title, years, series, ylabel, periods, percent
    )
    frame = pl.DataFrame(
        {"year": years, **{f"s{i}": s[1] for i, s in enumerate(series)}},
        schema={"year": pl.Int64, **{f"s{i}": pl.Float64 for i in range(len(series))}},
    )

    def kind(dashed: bool) -> ColumnKind:
        return "pct" if percent else "float" if dashed else "int"

    table = table_block(
        name,
        f"{title} (figure data)",
        frame,
        [
            Column("year", "Year", "year"),
            *(Column(f"s{i}", s[0], kind(s[3])) for i, s in enumerate(series)),
        ],
        caption="The numbers of the figure above; an empty cell has nothing to divide by (or "
        "no record of the dataset that year).",
    )
    described = []
    for label, values, _, _ in series:
        known = [(y, v) for y, v in zip(years, values, strict=True) if v is not None]
        if known:
            fmt = (lambda v: f"{100 * v:.1f}%") if percent else (lambda v: f"{v:,.1f}")
            described.append(
                f"{label} from {fmt(known[0][1])} in {known[0][0]} to {fmt(known[-1][1])} in "
                f"{known[-1][0]}"
            )
        else:
            described.append(f"{label} has no value")
    span = f"{years[0]} to {years[-1]}" if years else "no years"
    alt = (
        f"Line chart: {title}, per publication year from {span}, periods shaded; "
        + ("; ".join(described) if described else "no series")
        + "."
    )
    return FigureBlock(
        f"fig-{name.replace('_', '-')}",
        title,
        alt,
        caption,
        svg,
        (f"figures/{png.name}", f"figures/{svg.name}"),
        table,
    )


def _values(frame: pl.DataFrame, column: str) -> list[float | None]:
    return [None if v is None else float(v) for v in frame[column].to_list()]


def _ratio(frame: pl.DataFrame, part: str, whole: str) -> list[float | None]:
    return [_share(p, w) for p, w in frame.select(part, whole).iter_rows()]


def _fractional(data: Indicators, out: pl.DataFrame, code: str) -> list[float | None]:
    """Fractional papers per year of a country, or of the pair from pair_leads: the pair rows
    of ``outputs`` sum the address share of X or Y over every paper, not only the pair's."""
    if code != data.pair:
        return _values(out, "focal_records_fractional")
    dataset = out["dataset"].drop_nulls()
    if dataset.is_empty():
        return [None] * out.height
    pair = data.by_year("pair_leads", dataset=dataset[0], focal=code)
    return [
        None if records is None else float(value or 0.0)
        for value, records in zip(pair["papers_fractional"], out["records"], strict=True)
    ]


def trends_section(data: Indicators, figure_writer: figures.FigureWriter) -> Section:
    codes = [*data.focal, *([data.pair] if data.pair else [])]
    outputs_series: list[tuple[str, list[float | None], int, bool]] = []
    world_series: list[tuple[str, list[float | None], int, bool]] = []
    icp_series: list[tuple[str, list[float | None], int, bool]] = []
    lead_series: list[tuple[str, list[float | None], int, bool]] = []
    pair_series: list[tuple[str, list[float | None], int, bool]] = []
    for colour, code in enumerate(codes):
        name = data.name(code)
        dataset = data.principal.get(code)
        if dataset:
            out = data.by_year("outputs", dataset=dataset, focal=code)
            outputs_series += [
                (f"{name} ({dataset}), full", _values(out, "focal_records"), colour, False),
                (f"{name} ({dataset}), fractional", _fractional(data, out, code), colour, True),
            ]
        if data.world:
            out = data.by_year("outputs", dataset=data.world, focal=code)
            fractional = _fractional(data, out, code)
            world_series += [
                (f"{name}, full", _ratio(out, "focal_records", "records"), colour, False),
                (
                    f"{name}, fractional",
                    [_share(f, r) for f, r in zip(fractional, out["records"], strict=True)],
                    colour,
                    True,
                ),
            ]
        if code == data.pair and dataset:
            rows = data.by_year("pair_leads", dataset=dataset, focal=code)
            for i, (column, frac) in enumerate(
                (("x_led", "x_led_fractional"), ("y_led", "y_led_fractional"))
            ):
                lead = data.name(data.focal[i])
                pair_series += [
                    (f"{lead}-led, full", _ratio(rows, column, "papers"), i, False),
                    (f"{lead}-led, fractional", _ratio(rows, frac, "papers_fractional"), i, True),
                ]
        elif dataset:
            rows = data.by_year("collaboration", dataset=dataset, focal=code)
            icp_series += [
                (f"{name}, full", _ratio(rows, "icp", "papers"), colour, False),
                (
                    f"{name}, fractional",
                    _ratio(rows, "icp_fractional", "papers_fractional"),
                    colour,
                    True,
                ),
            ]
            lead_series += [
                (f"{name}, full", _ratio(rows, "icp_x_led", "icp"), colour, False),
                (
                    f"{name}, fractional",
                    _ratio(rows, "icp_x_led_fractional", "icp_fractional"),
                    colour,
                    True,
                ),
            ]
    full_frac = (
        "Solid lines: full counting (one per paper); dashed: fractional counting "
        "(the country's share of the paper's addresses). Shaded bands mark the periods."
    )
    blocks = (
        _trend_figure(
            data,
            figure_writer,
            "outputs_trend",
            "Papers per year",
            "Papers",
            outputs_series,
            False,
            f"Each country's papers in its principal dataset. {full_frac}",
        ),
        _trend_figure(
            data,
            figure_writer,
            "world_share_trend",
            f"Share of the records of dataset {data.world}"
            if data.world
            else "World share (no world dataset)",
            "Share of records (%)",
            world_series,
            True,
            (
                f"Papers of each country over all records of dataset {data.world}, the corpus "
                "dataset in which the first focal country's share is lowest. "
                if data.world
                else "No corpus dataset holds papers without the first focal country. "
            )
            + full_frac,
        ),
        _trend_figure(
            data,
            figure_writer,
            "icp_share_trend",
            "Share of internationally collaborated papers",
            "ICP share (%)",
            icp_series,
            True,
            "ICP papers over all papers of each country (fractional: address shares summed "
            f"over ICP papers over all papers). {full_frac}",
        ),
        _trend_figure(
            data,
            figure_writer,
            "lead_share_trend",
            "Share of internationally collaborated papers led by the country",
            "Led share of ICP (%)",
            lead_series,
            True,
            "ICP papers whose lead affiliation is in the country over all its ICP papers "
            f"(fractional: the same over address shares). {full_frac}",
        ),
        _trend_figure(
            data,
            figure_writer,
            "pair_lead_trend",
            f"Who leads the {data.name(data.pair)} papers"
            if data.pair
            else "Pair leads (one focal country: no pair)",
            "Share of the pair's papers (%)",
            pair_series,
            True,
            "Papers of the pair led by each country over all the pair's papers (fractional: "
            f"the same over the pair's address shares). {full_frac}",
        ),
    )
    return Section(
        "trends",
        "Trends",
        (
            "Per publication year; each figure's numbers follow it as a table (and a sheet of "
            "tables.xlsx); per period they are in the category tables above.",
        ),
        tuple(b for figure in blocks for b in (figure, figure.data)),
    )


# ------------------------------------------------------------------ ranked lists by period


def _wide(
    data: Indicators,
    frame: pl.DataFrame,
    key: str,
    value: str,
    share: str,
    key_label: str,
    share_label: str,
) -> tuple[pl.DataFrame, list[Column]]:
    """Ranked rows of each period side by side: rank, then (key, value, share) per period."""
    top = int(frame["rank"].max() or 0) if frame.height else 0
    wide = pl.DataFrame({"rank": list(range(1, top + 1))}, schema={"rank": pl.Int64})
    columns = [Column("rank", "Rank", "int")]
    for i, label in enumerate(data.period_labels):
        part = frame.filter(pl.col("period") == label).select(
            "rank",
            pl.col(key).alias(f"k{i}"),
            pl.col(value).alias(f"v{i}"),
            pl.col(share).alias(f"s{i}"),
        )
        wide = wide.join(part, on="rank", how="left")
        columns += [
            Column(f"k{i}", f"{label}: {key_label}", "code"),
            Column(f"v{i}", "Records", "int"),
            Column(f"s{i}", share_label, "pct"),
        ]
    return wide, columns


def partners_section(data: Indicators) -> Section:
    blocks = []
    codes: list[str] = []
    for code in data.focal:
        dataset = data.principal.get(code)
        if dataset is None:
            continue
        rows = data.by_period("partners", dataset=dataset, focal=code).drop_nulls("rank")
        codes += rows["partner"].to_list()
        wide, columns = _wide(
            data, rows, "partner", "records", "share_of_icp", "partner", "% of ICP"
        )
        blocks.append(
            table_block(
                f"partners_{code}",
                f"{data.name(code)}'s top partner countries by period (dataset {dataset})",
                wide,
                columns,
                caption="Records: the focal country's ICP papers with the partner; % of its ICP "
                "papers of the period (a paper with two partners counts for each).",
            )
        )
    return Section(
        "partners",
        "Partner countries",
        (_legend(codes, data.names),) if codes else ("No internationally collaborated paper.",),
        tuple(blocks),
    )


def _span_period(data: Indicators) -> list[dict[str, object]]:
    years = data.years
    return (
        [{"label": f"{years[0]}–{years[-1]}", "first": years[0], "last": years[-1]}]
        if years
        else []
    )


def citing_section(
    data: Indicators, tables: Mapping[str, str | Path], config: Mapping[str, object]
) -> Section:
    classify = config["classify"]
    assert isinstance(classify, Mapping)
    citing = dict(classify["citing"])
    top_n, counting = int(classify["top_n"]), str(classify["counting"])
    # Overall: every year of the citing records (citing papers run past the study's years).
    years = (
        scan_table(tables["dataset_records"], schemas.DATASET_RECORDS)
        .filter(pl.col("dataset").is_in(sorted(citing)))
        .join(scan_table(tables["records"], schemas.RECORDS), on="record_id")
        .select(first=pl.col("year").min(), last=pl.col("year").max())
        .collect()
        .row(0)
    )
    span = (
        [{"label": f"{years[0]}–{years[1]}", "first": years[0], "last": years[1]}]
        if years[0] is not None
        else []
    )
    overall = pl.DataFrame()
    if citing and span:
        overall = (
            ind.citing_countries(
                ind.citing_countries_counts(
                    scan_table(tables["country_credit"], schemas.COUNTRY_CREDIT),
                    scan_table(tables["records"], schemas.RECORDS),
                    scan_table(tables["dataset_records"], schemas.DATASET_RECORDS),
                    sorted(citing),
                ),
                span,
                top_n,
                counting,
                yearly=False,
            )
            .filter(pl.col("granularity") == "period")
            .sort("dataset", "rank")
            .collect()
        )
    per_period = data.by_period("citing_countries").drop_nulls("rank")
    by_cited = (
        data.frames["citing_countries_by_cited"]
        .filter(pl.col("granularity") == "period")
        .join(
            pl.DataFrame({"period": data.period_labels, "_o": range(len(data.period_labels))}),
            on="period",
        )
        .with_columns(
            _lead=pl.col("cited_lead").replace_strict(
                {c: i for i, c in enumerate([*data.focal, "other", "all"])}, default=99
            )
        )
        .sort("citing_dataset", "cited_dataset", "_o", "_lead", "rank")
    )
    codes = [
        *(overall["country"].to_list() if overall.height else []),
        *per_period["country"].to_list(),
        *by_cited["country"].to_list(),
    ]
    blocks: list[TableBlock] = []
    span_label = span[0]["label"] if span else ""
    for dataset in sorted(citing):
        part = overall.filter(pl.col("dataset") == dataset) if overall.height else overall
        blocks.append(
            table_block(
                f"citing_{dataset}_overall",
                f"Countries of the records of {dataset}, {span_label} (top {top_n})",
                part if part.height else _empty_ranked(),
                [
                    Column("rank", "Rank", "int"),
                    Column("country", "Country", "code"),
                    Column("records", "Records", "int"),
                    Column("records_fractional", "Records, fractional", "float"),
                    Column("share", "Share of citing records", "pct"),
                    Column("citing_records", "Citing records", "int"),
                ],
                caption=f"All citing records with a publication year; ranked by {counting} "
                "counting; a record with addresses in two countries counts for each.",
            )
        )
        wide, columns = _wide(
            data,
            per_period.filter(pl.col("dataset") == dataset),
            "country",
            "records",
            "share",
            "country",
            "share",
        )
        blocks.append(
            table_block(
                f"citing_{dataset}_periods",
                f"Countries of the records of {dataset} by the citing record's period",
                wide,
                columns,
                caption="Citing records published outside the configured periods are in the "
                "overall table only.",
            )
        )
    if by_cited.height:
        compact = (
            by_cited.group_by(
                "citing_dataset",
                "cited_dataset",
                "_o",
                "period",
                "_lead",
                "cited_lead",
                maintain_order=True,
            )
            .agg(
                pl.col("citing_records").first(),
                pl.concat_str(
                    pl.col("country"),
                    pl.lit(" "),
                    (100 * pl.col("share")).round(1).cast(pl.String),
                    pl.lit("%"),
                )
                .head(CITED_TOP)
                .str.join(", ")
                .alias("top"),
            )
            .with_columns(
                cited_lead=pl.col("cited_lead").replace({"all": "any", "other": "another country"})
            )
        )
        blocks.append(
            table_block(
                "citing_by_cited",
                "Countries of the citing records by the cited paper's period and lead",
                compact,
                [
                    Column("citing_dataset", "Citing", "code"),
                    Column("cited_dataset", "Cited", "code"),
                    Column("period", "Cited paper's period"),
                    Column("cited_lead", "Cited paper led by", "code"),
                    Column("citing_records", "Citing records", "int"),
                    Column("top", f"Top {CITED_TOP} citing countries (share)"),
                ],
                caption="Citing records linked to the papers they cite by DOI, else by first "
                "author, year, volume and page; a citing record counts once per group.",
            )
        )
        blocks.append(
            table_block(
                "citing_by_cited_ranked",
                f"Citing countries by the cited paper's period and lead (top {top_n})",
                by_cited,
                [
                    Column("cited_dataset", "Cited", "code"),
                    Column("period", "Cited paper's period"),
                    Column("cited_lead", "Cited paper led by", "code"),
                    Column("rank", "Rank", "int"),
                    Column("country", "Country", "code"),
                    Column("records", "Records", "int"),
                    Column("share", "Share", "pct"),
                    Column("citing_records", "Citing records", "int"),
                ],
                shown=2 * top_n,
            )
        )
    paragraphs = [
        "Citing datasets (config classify.citing): "
        + (", ".join(f"{k} cites {v}" for k, v in sorted(citing.items())) or "none")
        + ".",
    ]
    if codes:
        paragraphs.append(_legend(codes, data.names))
    return Section("citing", "Citing countries", tuple(paragraphs), tuple(blocks))


def _empty_ranked() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "rank": pl.Int64,
            "country": pl.String,
            "records": pl.Int64,
            "records_fractional": pl.Float64,
            "share": pl.Float64,
            "citing_records": pl.Int64,
        }
    )


def _highly_cited_papers(data: Indicators, tables: Mapping[str, str | Path]) -> TableBlock | None:
    """The highly cited papers of the pair (else the first focal country), most cited first:
    the works compute_indicators judged highly cited (table highly_cited_works)."""
    key = data.pair or (data.focal[0] if data.focal else None)
    dataset = data.principal.get(key) if key else None
    if key is None or dataset is None:
        return None
    members = scan_table(tables["dataset_records"], schemas.DATASET_RECORDS)
    records = scan_table(tables["records"], schemas.RECORDS)
    flags = scan_table(tables["highly_cited_works"], schemas.HIGHLY_CITED_WORKS).collect()
    # A filter on the few flagged ids, not a join: the titles of the others are not decoded.
    flagged = pl.col("record_id").is_in(flags["record_id"].implode())
    covered = sorted({y for p in data.study.periods for y in range(p.first, p.last + 1)})
    x = data.focal[0]
    y = data.focal[1] if len(data.focal) == 2 else None
    lead = {"x_led": x, "y_led": y or "", "other_led": "other", "icp_x_led": x}
    frame = (
        scan_table(tables["paper_classes"], schemas.PAPER_CLASSES)
        .filter(
            pl.col("focal") == key, pl.col("participated"), pl.col("year").is_in(covered), flagged
        )
        .join(members.filter(pl.col("dataset") == dataset, flagged), on="record_id", how="semi")
        .join(flags.lazy(), on="record_id")
        .join(
            records.select("record_id", "title", "journal", "times_cited").filter(flagged),
            on="record_id",
        )
        .with_columns(
            lead=pl.col("category").replace_strict(lead, default=pl.col("led_by")),
        )
        .sort(["times_cited", "record_id"], descending=[True, False], nulls_last=True)
        .collect()
    )
    return table_block(
        f"highly_cited_papers_{key.replace('+', '_')}",
        f"Highly cited {data.name(key)} papers (dataset {dataset}), most cited first",
        frame,
        [
            Column("record_id", "Record", "code"),
            Column("year", "Year", "year"),
            Column("title", "Title"),
            Column("journal", "Journal"),
            Column("times_cited", "Times cited", "int"),
            Column("lead", "Led by", "code"),
            Column("hcp_basis", "Basis", "code"),
        ],
        caption="Basis esi: the exported ESI highly cited flag; top_percent: within the top "
        "per cent by times cited of its publication year and subject category.",
        shown=25,
    )


def highly_cited_section(
    data: Indicators, tables: Mapping[str, str | Path], config: Mapping[str, object]
) -> Section:
    blocks = []
    bases: set[str] = set()
    for code in [*data.focal, *([data.pair] if data.pair else [])]:
        dataset = data.principal.get(code)
        if dataset is None:
            continue
        rows = data.by_period("highly_cited", dataset=dataset, focal=code)
        bases |= {b for b in rows["basis"].to_list() if b}
        led = f"{data.name(data.focal[0])}-led" if code == data.pair else f"{data.name(code)}-led"
        blocks.append(
            table_block(
                f"highly_cited_{code.replace('+', '_')}",
                f"Highly cited {data.name(code)} papers (dataset {dataset})",
                rows,
                [
                    Column("period", "Period"),
                    Column("papers", "Papers", "int"),
                    Column("hcp", "Highly cited", "int"),
                    Column("hcp_rate", "Share highly cited", "pct"),
                    Column("hcp_led", f"Highly cited, {led}", "int"),
                    Column("hcp_led_share", f"{led} share of highly cited", "pct"),
                    Column("basis_esi", "Judged by ESI flag", "int"),
                    Column("basis_top_percent", "Judged by top per cent", "int"),
                ],
            )
        )
    definition = (
        "Definition used: " + "; ".join(sorted(bases)) + "." if bases else "No paper to judge."
    )
    papers = _highly_cited_papers(data, tables)
    if papers is not None:
        blocks.append(papers)
    return Section("highly-cited", "Highly cited papers", (definition,), tuple(blocks))


def funding_section(
    data: Indicators, funders: pl.LazyFrame, config: Mapping[str, object]
) -> Section:
    """``funders``: the funders' partial counts of the corpus by year (report.tallies)."""
    classify = config["classify"]
    assert isinstance(classify, Mapping)
    top_n = int(classify["top_n"])
    span = _span_period(data)
    x = data.name(data.focal[0]) if data.focal else "X"
    y = data.name(data.focal[1]) if len(data.focal) == 2 else None
    sources = data.frames["funding_sources"].filter(pl.col("granularity") == "period")
    order = pl.DataFrame({"period": data.period_labels, "_o": range(len(data.period_labels))})
    sources = sources.join(order, on="period").sort("dataset", "_o")
    columns = [
        Column("dataset", "Dataset", "code"),
        Column("period", "Period"),
        Column("records", "Records", "int"),
        Column("funded_share", "Funded", "pct"),
        Column("by_x_share", f"By {x}'s funders", "pct"),
    ]
    if y:
        columns += [
            Column("by_y_share", f"By {y}'s funders", "pct"),
            Column("by_both_share", "By both", "pct"),
        ]
    columns += [
        Column("by_others_only_share", "By others only", "pct"),
        Column("unfunded_share", "None acknowledged", "pct"),
        Column("with_unmatched_funder", "With an unmatched funder", "int"),
    ]
    blocks = [
        table_block(
            "funding_sources",
            "Share of records by the countries of their funders",
            sources,
            columns,
            caption="Shares of the dataset's records of the period. A record can be funded by "
            "both countries' agencies, so the first columns overlap; 'others only' and 'none' "
            "do not. An unmatched funder counts as 'other'.",
        )
    ]
    if span:
        top = ind.funders(funders, span, top_n, yearly=False).sort("dataset", "rank").collect()
        blocks.append(
            table_block(
                "funders_top",
                f"Top {top_n} funders of each dataset, {span[0]['label']}",
                top,
                [
                    Column("dataset", "Dataset", "code"),
                    Column("rank", "Rank", "int"),
                    Column("funder_name", "Funder"),
                    Column("funder_country", "Country", "code"),
                    Column("records", "Records", "int"),
                    Column("share", "Share of the dataset's records", "pct"),
                ],
                caption="Funders matched to the registry (the unmatched are in the "
                "normalisation audit).",
            )
        )
    return Section("funding", "Funders", (), tuple(blocks))


def lead_section(data: Indicators, tables: Mapping[str, str | Path]) -> Section:
    rules = data.frames["lead_rules"].filter(pl.col("granularity") == "period")
    order = pl.DataFrame({"period": data.period_labels, "_o": range(len(data.period_labels))})
    rules = rules.join(order, on="period").sort("dataset", "_o")
    disagreements = scan_table(tables["lead_disagreements"], schemas.LEAD_DISAGREEMENTS).collect()
    counts = {
        flag: int(disagreements[flag].sum())
        for flag in (
            "first_author_vs_reprint",
            "first_author_vs_first_address",
            "first_address_vs_reprint",
        )
    }
    block = table_block(
        "lead_rules",
        "Lead rules: fallbacks and disagreements by dataset and period",
        rules,
        [
            Column("dataset", "Dataset", "code"),
            Column("period", "Period"),
            Column("records", "Records", "int"),
            Column("with_author_links", "With author links", "int"),
            Column("lead_fallback", "Lead by fallback", "int"),
            Column("lead_fallback_share", "Fallback share", "pct"),
            Column("first_author_vs_reprint", "First author ≠ reprint", "int"),
            Column("first_author_vs_first_address", "First author ≠ first address", "int"),
            Column("first_address_vs_reprint", "First address ≠ reprint", "int"),
            Column("no_address", "No address", "int"),
            Column("reprint_only", "Reprint address only", "int"),
        ],
        caption="Disagreement: the two rules both give an address and the countries differ.",
    )
    paragraphs = (
        f"{disagreements.height:,} records have lead countries that differ between two lead "
        "rules (results/tables/lead_disagreements.parts.json): "
        f"{counts['first_author_vs_reprint']:,} "
        "between the first author's address and the reprint (corresponding) address, "
        f"{counts['first_author_vs_first_address']:,} between the first author's and the first "
        f"address, {counts['first_address_vs_reprint']:,} between the first address and the "
        "reprint address.",
    )
    return Section("lead-rules", "Lead-rule disagreements", paragraphs, (block,))


def sampling_section(tables: Mapping[str, str | Path]) -> Section:
    """The public sampling summary only: strata, counts and codes (never results/private/)."""
    summary = pl.read_csv(
        tables["sampling_summary"], schema_overrides=SAMPLING_CSV, columns=list(SAMPLING_CSV)
    )
    columns = [
        Column("stratum", "Stratum", "code"),
        Column("country", "Country", "code"),
        Column("tier", "Tier"),
        Column("tier_not", "Not tier"),
        Column("in_pool", "In pool", "int"),
        Column("excluded", "Excluded", "int"),
        Column("filtered_out", "Filtered out", "int"),
        Column("eligible", "Eligible", "int"),
        Column("size", "Asked", "int"),
        Column("invitees", "Invited", "int"),
        Column("reserves_drawn", "Reserves", "int"),
        Column("invitee_codes", "Invitee codes"),
        Column("reserve_codes", "Reserve codes"),
        Column("note", "Note"),
    ]
    totals = tuple(
        "total" if c.key == "stratum" else (int(summary[c.key].sum()) if c.kind == "int" else None)
        for c in columns
    )
    invited = int(summary["invitees"].sum())
    return Section(
        "sampling",
        "Participant sampling",
        (
            f"{invited:,} invitees and {int(summary['reserves_drawn'].sum()):,} reserves drawn "
            f"from {summary.height} strata (results/sampling/summary.csv). Participants appear "
            "by code only; names and addresses stay in results/private/.",
        ),
        (
            table_block(
                "sampling", "Strata of the interview sample", summary, columns, footer=totals
            ),
        ),
    )


# ---------------------------------------------------------------------- methods appendix


def definitions_section(data: Indicators, config: Mapping[str, object]) -> Section:
    classify = config["classify"]
    assert isinstance(classify, Mapping)
    rule = str(classify["lead_rule"])
    hcp = classify["highly_cited"]
    assert isinstance(hcp, Mapping)
    bases = sorted({b for b in data.frames["highly_cited"]["basis"].drop_nulls().to_list()})
    rows = (
        ("Lead affiliation", f"classify.lead_rule = {rule}: {LEAD_RULE_WORDS.get(rule, rule)}."),
        (
            "Counting",
            "Full counting: a paper counts once for each country it has an address in. "
            "Fractional counting: the country's share of the paper's addresses with a known "
            "country. Both are shown; top-N lists are ranked by "
            f"classify.counting = {classify['counting']}.",
        ),
        (
            "Highly cited",
            f"classify.highly_cited.method = {hcp['method']} (top per cent "
            f"{float(hcp['top_percent']):g}). Basis actually used: "
            + ("; ".join(bases) if bases else "no paper judged")
            + ".",
        ),
        (
            "ICP",
            "Internationally collaborated: the country's paper has an address outside the "
            "country (under the country policy).",
        ),
        (
            "Principal dataset",
            "For the trees, trends and tables of a country or pair: the corpus dataset holding "
            "the most of its papers in the study's years (the smallest on a tie): "
            + "; ".join(f"{data.name(k)}: {v}" for k, v in data.principal.items())
            + ".",
        ),
        (
            "World dataset",
            (
                f"{data.world}: the corpus dataset in which the first focal country's share of "
                "records is lowest; world shares are over its records."
            )
            if data.world
            else "None: every corpus dataset is restricted to the first focal country.",
        ),
        ("Findings", findings.threshold_note()),
    )
    block = TableBlock(
        "definitions",
        "Definitions used",
        (Column("term", "Term"), Column("definition", "Definition")),
        rows,
    )
    return Section("definitions", "Definitions", (), (block,), appendix=True)


_POLICY_CODE = library_code("report/indicator_sections.py", "classify/*.py")


def _other_policy_classes(
    records: Path,
    author_address: Path,
    addresses: Path,
    folds: pl.DataFrame,
    used: CountryPolicy,
    focal: Sequence[str],
    lead_rule: str,
) -> pl.DataFrame:
    """One shard's records classified under each policy but ``used``: those with an address
    in a country the two policies fold differently (a UK nation, or Hong Kong, Macau,
    Taiwan), the only ones that can change class (at 2,000,000 records, classifying all of
    them four times took 55 of the report's 83 s)."""
    located_all = (
        scan_table(addresses, schemas.ADDRESSES_NORMALISED)
        .select(
            "record_id",
            "address_pos",
            "kind",
            "raw",
            "organisation",
            "country_recorded",
            "institution_id",
            "is_transnational",
        )
        .join(folds.lazy(), left_on="country_recorded", right_on="code", how="left")
    )
    foldable = (
        located_all.filter(pl.col("folds_into").is_not_null())
        .select("record_id")
        .unique()
        .collect()
    )
    located_all = located_all.join(foldable.lazy(), on="record_id", how="semi").collect()
    records_all = (
        scan_table(records, schemas.RECORDS)
        .select("record_id", "year", "n_authors")
        .join(foldable.lazy(), on="record_id", how="semi")
        .collect()
    )
    links = (
        scan_table(author_address, schemas.AUTHOR_ADDRESS)
        .join(foldable.lazy(), on="record_id", how="semi")
        .collect()
    )
    frames = [schemas.POLICY_CLASSES.empty()]
    for uk, hmt in POLICIES:
        policy = CountryPolicy(uk_nations=uk, hong_kong_macau_taiwan=hmt)  # type: ignore[arg-type]
        differing = sorted(policy.fold_targets() ^ used.fold_targets())
        if not differing:
            continue  # the policy in use: nothing can change
        affected = (
            located_all.filter(pl.col("folds_into").is_in(differing)).select("record_id").unique()
        )
        located = (
            located_all.join(affected, on="record_id", how="semi")
            .lazy()
            .with_columns(
                country=pl.when(pl.col("folds_into").is_in(sorted(policy.fold_targets())))
                .then(pl.col("folds_into"))
                .otherwise(pl.col("country_recorded"))
            )
        )
        leads = lead_addresses(
            located, links.join(affected, on="record_id", how="semi").lazy(), lead_rule
        )
        classes = classify_papers(
            record_profile(
                records_all.join(affected, on="record_id", how="semi").lazy(), located, leads
            ),
            focal,
        )
        frames.append(
            classes.select(
                pl.lit(uk).alias("uk_nations"),
                pl.lit(hmt).alias("hong_kong_macau_taiwan"),
                "record_id",
                "focal",
                "participated",
                "category",
            ).collect()
        )
    return pl.concat(frames, how="vertical")


def _policy_changes(other: pl.LazyFrame, classes: pl.LazyFrame) -> pl.DataFrame:
    """schemas.POLICY_CHANGES of the records classified under other policies (``other``, a
    POLICY_CLASSES table) against their ``classes`` under the policy in use."""
    other = other.select(
        "uk_nations", "hong_kong_macau_taiwan", "record_id", "focal", "participated", "category"
    ).collect()
    current_all = (
        classes.select("record_id", "focal", "participated", "category")
        .join(other.lazy().select("record_id").unique(), on="record_id", how="semi")
        .collect()
    )
    frames = [schemas.POLICY_CHANGES.empty()]
    for (uk, hmt), policy_classes in other.partition_by(
        "uk_nations", "hong_kong_macau_taiwan", as_dict=True, maintain_order=True
    ).items():
        # The records classified under this policy: those it could change.
        classes_now = policy_classes.lazy()
        current = current_all.lazy().join(
            classes_now.select("record_id").unique(), on="record_id", how="semi"
        )
        changed = (
            classes_now.select("record_id", "focal", "participated", "category")
            .join(current, on=["record_id", "focal"], how="full", coalesce=True, suffix="_used")
            .filter(
                pl.col("category").ne_missing(pl.col("category_used"))
                | pl.col("participated")
                .fill_null(False)
                .ne(pl.col("participated_used").fill_null(False))
            )
            .group_by("focal")
            .agg(
                changed=pl.len().cast(pl.Int64),
                joined=(
                    pl.col("participated").fill_null(False)
                    & ~pl.col("participated_used").fill_null(False)
                )
                .sum()
                .cast(pl.Int64),
                left=(
                    ~pl.col("participated").fill_null(False)
                    & pl.col("participated_used").fill_null(False)
                )
                .sum()
                .cast(pl.Int64),
            )
            .collect()
        )
        frames.append(
            changed.select(
                pl.lit(uk).alias("uk_nations"),
                pl.lit(hmt).alias("hong_kong_macau_taiwan"),
                "focal",
                "changed",
                "joined",
                "left",
            )
        )
    return pl.concat(frames, how="vertical")


def policy_classes_section(
    tables: Mapping[str, str | Path],
    config: Mapping[str, object],
    data: Indicators,
    store: str | Path | None = None,
) -> Section:
    """Papers whose class (participated, ICP, lead category) changes under each other country
    policy: classification rerun on the recorded countries folded the other way.

    ``store``: where each shard's classes under the other policies are kept, under the digest
    of the shard's records, author links and normalised addresses and of the settings (see
    collabscope.parts), so that a new export file classifies its shard's records only; None:
    computed in a temporary store, not kept."""
    normalise, classify = config["normalise"], config["classify"]
    assert isinstance(normalise, Mapping) and isinstance(classify, Mapping)
    used = CountryPolicy(**dict(normalise["country_policy"]))
    focal = data.focal
    folds = pl.read_csv(
        tables["countries"], columns=["code", "folds_into"], schema_overrides={"code": pl.String}
    ).filter(pl.col("folds_into").is_not_null())
    sources = [
        parts_of(tables[name], table)
        for name, table in (
            ("records", schemas.RECORDS),
            ("author_address", schemas.AUTHOR_ADDRESS),
            ("addresses", schemas.ADDRESSES_NORMALISED),
        )
    ]
    lead_rule = str(classify["lead_rule"])

    def classes(missing: list[list[Path]]) -> Iterator[pl.DataFrame]:
        for files in missing:
            yield _other_policy_classes(*files, folds, used, focal, lead_rule)

    settings = settings_digest(
        {
            "used": [used.uk_nations, used.hong_kong_macau_taiwan],
            "focal": list(focal),
            "lead_rule": lead_rule,
            "folds": sorted(folds.iter_rows()),
            "code": _POLICY_CODE,
        }
    )
    with tempfile.TemporaryDirectory(prefix="collabscope-policy-classes-") as scratch:
        folder = Path(store if store is not None else scratch)
        results = PartStore(folder, schemas.POLICY_CLASSES)
        parts, _ = results.fill(sources, settings, classes)
        current = parts_of(tables["paper_classes"], schemas.PAPER_CLASSES)
        if [shard for shard, _ in current.files] == [shard for shard, _ in parts.files]:
            # Classes per shard (one source): the changes add up over shards.
            (tallied,), _ = tally_shards(
                [PartStore(folder / "changes", schemas.POLICY_CHANGES)],
                [(parts, schemas.POLICY_CLASSES), (current, schemas.PAPER_CLASSES)],
                settings,
                lambda kept: [_policy_changes(*kept)],
            )
        else:  # works merged across sources are classified together: one part
            tallied = _policy_changes(
                scan_parts(parts, schemas.POLICY_CLASSES),
                scan_parts(current, schemas.PAPER_CLASSES),
            ).lazy()
        summed = (
            tallied.group_by("uk_nations", "hong_kong_macau_taiwan", "focal")
            .agg(pl.col("changed", "joined", "left").sum())
            .collect()
        )
    keys = [*focal, *([data.pair] if data.pair else [])]
    rows: list[tuple[object, ...]] = []
    for uk, hmt in POLICIES:
        policy = CountryPolicy(uk_nations=uk, hong_kong_macau_taiwan=hmt)  # type: ignore[arg-type]
        changed = summed.filter(pl.col("uk_nations") == uk, pl.col("hong_kong_macau_taiwan") == hmt)
        found = {r["focal"]: r for r in changed.iter_rows(named=True)}
        for key in keys:
            hit = found.get(key, {"changed": 0, "joined": 0, "left": 0})
            rows.append(
                (
                    uk,
                    hmt,
                    "yes" if policy == used else "",
                    key.replace("+", "–"),
                    hit["changed"],
                    hit["joined"],
                    hit["left"],
                )
            )
    block = TableBlock(
        "country_policy_classes",
        "Papers changing class under each country policy",
        (
            Column("uk_nations", "uk_nations", "code"),
            Column("hong_kong_macau_taiwan", "hong_kong_macau_taiwan", "code"),
            Column("in_use", "In use"),
            Column("focal", "Focal", "code"),
            Column("changed", "Papers changing class", "int"),
            Column("joined", "of which newly participated", "int"),
            Column("left", "of which no longer participated", "int"),
        ),
        tuple(rows),
        caption="All records, classification rerun from the recorded countries with the "
        "configured lead rule. A change: the paper's category (ICP led by the country or "
        "another, single affiliation, domestic collaboration; for the pair: who leads) or its "
        "participation differs from the policy in use (which changes nothing, a check).",
    )
    sentences = []
    for uk, hmt in POLICIES:
        mine = [r for r in rows if (r[0], r[1]) == (uk, hmt)]
        if not mine or mine[0][2] == "yes":
            continue
        counts = ", ".join(f"{r[4]:,} {r[3]}" for r in mine)
        sentences.append(
            f"Under uk_nations = {uk} and hong_kong_macau_taiwan = {hmt}, papers change "
            f"class: {counts}."
        )
    return Section(
        "country-policy-classes",
        "Country policy: effect on paper classes",
        tuple(sentences),
        (block,),
        appendix=True,
    )
