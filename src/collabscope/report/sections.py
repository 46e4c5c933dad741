"""Section builders: tables in, :class:`Section` objects out (pure apart from the figure files).

Each builder reads only what it shows and returns plain context objects. Sections that depend
on later stages (classification and indicators, sampling) are added the same way: a builder
returning a :class:`Section`, listed in :func:`collabscope.report.render.build_context`.
"""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Mapping
from pathlib import Path

import polars as pl
import yaml

from collabscope import __version__, schemas
from collabscope.normalise.countries import CountryPolicy
from collabscope.report import figures
from collabscope.report.model import (
    Column,
    FigureBlock,
    Period,
    Section,
    Study,
    TableBlock,
    TextBlock,
    table_block,
)
from collabscope.report.tallies import POLICIES, Tallies
from collabscope.tableio import scan_table

TOP_UNMATCHED = 20
TOP_COUNTRIES = 15
SOFTWARE = (
    "collabscope",
    "polars",
    "pyarrow",
    "snakemake",
    "rapidfuzz",
    "numpy",
    "jinja2",
    "matplotlib",
    "xlsxwriter",
    "pyyaml",
)
UNMATCHED_CSV = {
    "organisation": pl.String,
    "country_recorded": pl.String,
    "n_records": pl.Int64,
    "n_addresses": pl.Int64,
}
LOW_CONFIDENCE_CSV = {
    "organisation": pl.String,
    "country_recorded": pl.String,
    "institution_name": pl.String,
    "score": pl.Float64,
    "n_records": pl.Int64,
    "n_addresses": pl.Int64,
}
FUNDER_REVIEW_CSV = {
    "funder_text": pl.String,
    "methods": pl.String,
    "n_records": pl.Int64,
    "n_rows": pl.Int64,
}


def _tally(unit: str) -> tuple[pl.Expr, pl.Expr]:
    """Rows (named ``unit``) and distinct records of a group."""
    return (
        pl.len().cast(pl.Int64).alias(unit),
        pl.col("record_id").n_unique().cast(pl.Int64).alias("records"),
    )


def country_names(path: str | Path) -> dict[str, str]:
    frame = pl.read_csv(path, columns=["code", "name"], schema_overrides={"code": pl.String})
    return dict(frame.iter_rows())


def study(config: Mapping[str, object], names: Mapping[str, str]) -> Study:
    spec = config["study"]
    assert isinstance(spec, Mapping)
    return Study(
        title=str(spec["title"]),
        focal_countries=tuple((c, names.get(c, c)) for c in spec["focal_countries"]),
        periods=tuple(
            Period(str(p["label"]), int(p["first"]), int(p["last"])) for p in spec["periods"]
        ),
    )


def study_section(info: Study) -> Section:
    focal = " and ".join(f"{name} ({code})" for code, name in info.focal_countries)
    periods = TableBlock(
        "periods",
        "Periods",
        (
            Column("label", "Period"),
            Column("first", "First year", "year"),
            Column("last", "Last year", "year"),
        ),
        tuple((p.label, p.first, p.last) for p in info.periods),
    )
    return Section(
        "study",
        "The study",
        (f"Focal countries: {focal}.", f"{len(info.periods)} periods, and yearly series."),
        (periods,),
    )


def datasets_section(tables: Mapping[str, str | Path]) -> Section:
    datasets = scan_table(tables["datasets"], schemas.DATASETS).sort("dataset").collect()
    n_records = scan_table(tables["records"], schemas.RECORDS).select(pl.len()).collect().item()
    block = table_block(
        "datasets",
        "Datasets",
        datasets,
        [
            Column("dataset", "Dataset", "code"),
            Column("description", "Description"),
            Column("query", "Query", "code"),
            Column("n_files", "Files", "int"),
            Column("records", "Records", "int"),
        ],
        caption="Records are distinct records; a record is in every dataset whose export holds it.",
    )
    paragraphs = [f"{n_records:,} distinct records in {datasets.height} datasets."]
    if "works" in tables:
        paragraphs += _works_paragraph(tables["works"], n_records)
    return Section("datasets", "Datasets", tuple(paragraphs), (block,))


def _works_paragraph(path: str | Path, n_records: int) -> list[str]:
    """Where several sources hold one paper: how many works the records are (nothing when
    each record is its own work, so a single-source report is unchanged)."""
    works = scan_table(path, schemas.WORKS).select("n_records", "sources").collect()
    if works.height == n_records:
        return []
    cross = works.filter(pl.col("sources").list.len() > 1).height
    return [
        f"Several sources hold the same papers: the {n_records:,} records are {works.height:,} "
        f"works ({cross:,} held by more than one source). Classification and indicators count "
        "each work once; the figures below count records."
    ]


def records_per_year(
    record_years: pl.DataFrame, figure_writer: figures.FigureWriter
) -> FigureBlock:
    """Figure: distinct records per publication year in each dataset (``record_years``: the
    records per dataset and year, report.tallies.record_tallies)."""
    counts = record_years.filter(pl.col("year").is_not_null()).select("dataset", "year", "records")
    names = sorted(counts["dataset"].unique())
    span = (
        list(range(int(counts["year"].min()), int(counts["year"].max()) + 1))
        if counts.height
        else []
    )
    wide = (
        pl.DataFrame({"year": span}, schema={"year": pl.Int64})
        .join(counts.pivot("dataset", index="year", values="records"), on="year", how="left")
        .select("year", *names)
    )
    # Zero inside a dataset's own years, a gap outside them (a corpus ending in 2020 has no
    # 2021 papers to count: it was not searched, which is not the same as none found).
    spans = counts.group_by("dataset").agg(first=pl.col("year").min(), last=pl.col("year").max())
    wide = wide.with_columns(
        pl.when(pl.col("year").is_between(first, last)).then(pl.col(name).fill_null(0))
        for name, first, last in spans.select("dataset", "first", "last").iter_rows()
    )
    no_year = int(record_years.filter(pl.col("year").is_null())["records"].sum())
    series = [(name, wide[name].to_list()) for name in names]
    title = "Records per publication year, by dataset"
    png, svg = figure_writer.draw(
        "records_per_year", figures.line_chart, title, span, series, "Publication year", "Records"
    )
    data = table_block(
        "records_per_year",
        "Records per year (figure data)",
        wide,
        [Column("year", "Year", "year"), *(Column(n, n, "int") for n in names)],
        caption=f"{no_year} dataset memberships have no publication year and are not plotted.",
    )
    peak = {
        name: span[max(range(len(span)), key=lambda i, v=values: v[i] or 0)]
        for name, values in series
    }
    alt = (
        f"Line chart of records per publication year from {span[0]} to {span[-1]} for the "
        f"datasets {', '.join(names)}; "
        + "; ".join(f"{n} peaks in {peak[n]} with {max(x or 0 for x in v):,}" for n, v in series)
        + "."
        if span
        else "Empty chart: no record has a publication year."
    )
    return FigureBlock(
        "fig-records-per-year",
        title,
        alt,
        "Distinct records per publication year in each dataset (a record in several datasets "
        "counts in each).",
        svg,
        (f"figures/{png.name}", f"figures/{svg.name}"),
        data,
    )


def address_countries(
    tallies: Tallies,
    info: Study,
    names: Mapping[str, str],
    figure_writer: figures.FigureWriter,
) -> FigureBlock:
    """Figure: addresses and records per country under the policy, the most frequent first."""
    counts = (
        tallies.of("affiliation_country")
        .select(country="a", addresses="rows", records="records")
        .sort(["records", "country"], descending=[True, False])
    )
    focal = [code for code, _ in info.focal_countries]
    top = counts.head(TOP_COUNTRIES)
    top = pl.concat(
        [
            top,
            counts.filter(
                pl.col("country").is_in(focal), ~pl.col("country").is_in(top["country"].to_list())
            ),
        ]
    )
    top = top.with_columns(name=pl.col("country").replace_strict(names, default=pl.col("country")))
    title = f"Records with an affiliation in each country (top {TOP_COUNTRIES})"
    png, svg = figure_writer.draw(
        "address_countries",
        figures.bar_chart,
        title,
        [f"{n} ({c})" for c, n in top.select("country", "name").iter_rows()],
        top["records"].to_list(),
        [c in focal for c in top["country"]],
        "Records (distinct) with at least one C1 address in the country",
        "focal country",
        "other country",
    )
    data = table_block(
        "address_countries",
        "Countries of affiliations (figure data)",
        counts.with_columns(
            name=pl.col("country").replace_strict(names, default=pl.col("country"))
        ),
        [
            Column("country", "Code", "code"),
            Column("name", "Country"),
            Column("records", "Records", "int"),
            Column("addresses", "Addresses", "int"),
        ],
        caption="All countries; C1 affiliation addresses only (reprint addresses repeat them).",
        shown=TOP_COUNTRIES,
    )
    alt = (
        "Horizontal bar chart of records per country of affiliation: "
        + "; ".join(f"{n} {r:,}" for n, r in top.select("name", "records").iter_rows())
        + "."
    )
    return FigureBlock(
        "fig-address-countries",
        title,
        alt,
        "Distinct records with at least one C1 affiliation in the country, under the country "
        "policy; focal countries highlighted.",
        svg,
        (f"figures/{png.name}", f"figures/{svg.name}"),
        data,
    )


def overview_section(blocks: tuple[FigureBlock, ...]) -> Section:
    return Section("overview", "Records and countries", (), blocks)


# ---------------------------------------------------------------------- methods appendix


def country_policy_section(
    tallies: Tallies,
    config: Mapping[str, object],
    info: Study,
    names: Mapping[str, str],
) -> Section:
    normalise = config["normalise"]
    assert isinstance(normalise, Mapping)
    policy = dict(normalise["country_policy"])
    folded = (
        tallies.of("folded")
        .select(country_recorded="a", country="b", addresses="rows", records="records")
        .sort("country", "country_recorded")
    )
    focal = [code for code, _ in info.focal_countries]
    effect = (
        pl.DataFrame({"country": focal})
        .join(
            tallies.of("affiliation_country").select(
                country="a", policy_addresses="rows", policy_records="records"
            ),
            on="country",
            how="left",
        )
        .join(
            tallies.of("recorded_as_counted").select(
                country="a", recorded_addresses="rows", recorded_records="records"
            ),
            on="country",
            how="left",
        )
        .select(
            "country",
            "policy_addresses",
            "policy_records",
            "recorded_addresses",
            "recorded_records",
        )
        .fill_null(0)
        .with_columns(name=pl.col("country").replace_strict(names, default=pl.col("country")))
    )
    policy_rows = tuple(sorted(policy.items()))
    alternatives = _policy_alternatives(tallies, CountryPolicy(**policy), focal)
    blocks: tuple[TableBlock, ...] = (
        TableBlock(
            "country_policy",
            "Country policy",
            (Column("setting", "Setting", "code"), Column("value", "Value", "code")),
            policy_rows,
        ),
        table_block(
            "country_policy_effect",
            "Effect of the policy on the focal countries",
            effect,
            [
                Column("country", "Code", "code"),
                Column("name", "Country"),
                Column("recorded_addresses", "Addresses recorded as the code", "int"),
                Column("policy_addresses", "Addresses under the policy", "int"),
                Column("recorded_records", "Records, recorded", "int"),
                Column("policy_records", "Records, under the policy", "int"),
            ],
            caption="C1 affiliation addresses. 'Recorded' counts addresses whose written country "
            "is the code itself (e.g. 'UK' for GBR, not 'England').",
        ),
        alternatives,
        table_block(
            "country_policy_folded",
            "Recorded countries counted as another country",
            folded,
            [
                Column("country_recorded", "Recorded", "code"),
                Column("country", "Counted as", "code"),
                Column("addresses", "Addresses", "int"),
                Column("records", "Records", "int"),
            ],
        ),
    )
    n_folded = int(folded["addresses"].sum()) if folded.height else 0
    return Section(
        "country-policy",
        "Country policy",
        (
            "How UK nations, Hong Kong, Macau and Taiwan map to the countries counted "
            "(config normalise.country_policy).",
            f"{n_folded:,} affiliation addresses are counted under another code than the one "
            "recorded.",
        ),
        blocks,
        appendix=True,
    )


def _policy_alternatives(tallies: Tallies, used: CountryPolicy, focal: list[str]) -> TableBlock:
    """Records with an affiliation in each focal country under each of the four policies,
    recounted from the recorded codes and countries.csv's folds_into column."""
    rows = []
    for uk, hmt in POLICIES:
        policy = CountryPolicy(uk_nations=uk, hong_kong_macau_taiwan=hmt)  # type: ignore[arg-type]
        counted = dict(tallies.of(f"policy {uk} {hmt}").select("a", "records").iter_rows())
        counts = [counted.get(code, 0) for code in focal]
        rows.append((uk, hmt, "yes" if policy == used else "", *counts))
    return TableBlock(
        "country_policy_alternatives",
        "Records with an affiliation in each focal country under each policy",
        (
            Column("uk_nations", "uk_nations", "code"),
            Column("hong_kong_macau_taiwan", "hong_kong_macau_taiwan", "code"),
            Column("in_use", "In use"),
            *(Column(f"records_{code}", f"Records, {code}", "int") for code in focal),
        ),
        tuple(rows),
        caption="Recounted from the recorded countries; how papers change class (led, "
        "collaborated) under another policy: see 'Country policy: effect on paper classes'.",
    )


def _method_counts(tally: pl.DataFrame) -> pl.DataFrame:
    return (
        tally.select(method="a", rows="rows", records="records")
        .with_columns(share=pl.col("rows") / pl.col("rows").sum())
        .sort(["rows", "method"], descending=[True, False])
    )


def _method_block(id: str, title: str, frame: pl.DataFrame, unit: str) -> TableBlock:
    return table_block(
        id,
        title,
        frame,
        [
            Column("method", "Method", "code"),
            Column("rows", unit, "int"),
            Column("share", "Share", "pct"),
            Column("records", "Records", "int"),
        ],
        footer=("total", int(frame["rows"].sum()), 1.0 if frame.height else 0.0, None),
    )


def audit_section(tables: Mapping[str, str | Path], tallies: Tallies) -> Section:
    unmatched = pl.read_csv(
        tables["unmatched"], columns=list(UNMATCHED_CSV), schema_overrides=UNMATCHED_CSV
    ).sort(["n_records", "n_addresses", "organisation"], descending=[True, True, False])
    low = pl.read_csv(
        tables["low_confidence"],
        columns=list(LOW_CONFIDENCE_CSV),
        schema_overrides=LOW_CONFIDENCE_CSV,
    )
    funders = pl.read_csv(
        tables["funder_review"], columns=list(FUNDER_REVIEW_CSV), schema_overrides=FUNDER_REVIEW_CSV
    ).sort(["n_records", "n_rows", "funder_text"], descending=[True, True, False])
    countries_unmatched = (
        tallies.of("country_unmatched")
        .select(text="a", addresses="rows", records="records")
        .sort(["records", "addresses", "text"], descending=[True, True, False])
    )
    unmatched_institutions = tallies.of("institution_unmatched")["records"]
    inst_unmatched_records = int(unmatched_institutions.sum())
    blocks = (
        _method_block(
            "match_countries",
            "Countries: match methods",
            _method_counts(tallies.of("country_method")),
            "Addresses",
        ),
        _method_block(
            "match_institutions",
            "Institutions: match methods",
            _method_counts(tallies.of("institution_method")),
            "Addresses",
        ),
        _method_block(
            "match_funders",
            "Funders: match methods",
            _method_counts(tallies.of("funder_method")),
            "Funding entries",
        ),
        table_block(
            "unmatched_countries",
            "Country elements not matched",
            countries_unmatched,
            [
                Column("text", "Country as written", "code"),
                Column("addresses", "Addresses", "int"),
                Column("records", "Records", "int"),
            ],
            shown=TOP_UNMATCHED,
        ),
        table_block(
            "unmatched_institutions",
            f"Organisations not matched (most records first; first {TOP_UNMATCHED} shown)",
            unmatched,
            [
                Column("organisation", "Organisation as written", "code"),
                Column("country_recorded", "Country", "code"),
                Column("n_records", "Records", "int"),
                Column("n_addresses", "Addresses", "int"),
            ],
            caption="From results/review/affiliations_unmatched.csv; add aliases or overrides to "
            "match them.",
            shown=TOP_UNMATCHED,
        ),
        table_block(
            "low_confidence_institutions",
            f"Institution matches of low confidence (first {TOP_UNMATCHED} shown)",
            low.sort(["n_records", "score", "organisation"], descending=[True, False, False]),
            [
                Column("organisation", "Organisation as written", "code"),
                Column("country_recorded", "Country", "code"),
                Column("institution_name", "Matched to"),
                Column("score", "Score", "float"),
                Column("n_records", "Records", "int"),
            ],
            caption="From results/review/affiliations_low_confidence.csv.",
            shown=TOP_UNMATCHED,
        ),
        table_block(
            "unmatched_funders",
            f"Funders for review (most records first; first {TOP_UNMATCHED} shown)",
            funders,
            [
                Column("funder_text", "Funder as written", "code"),
                Column("methods", "Methods", "code"),
                Column("n_records", "Records", "int"),
                Column("n_rows", "Entries", "int"),
            ],
            caption="From results/review/funders.csv.",
            shown=TOP_UNMATCHED,
        ),
    )
    paragraphs = (
        "Countries are matched per address, institutions per address (exact, then alias, prefix "
        "and fuzzy within the country), funders per funding entry; each keeps its method.",
        f"{unmatched.height:,} distinct organisation strings are unmatched; they touch "
        f"{inst_unmatched_records:,} records. {low.height:,} matches are of low confidence "
        f"(results/review/affiliations_low_confidence.csv). {funders.height:,} funder strings "
        "await review.",
    )
    return Section("normalisation", "Normalisation audit", paragraphs, blocks, appendix=True)


def accounting_section(tables: Mapping[str, str | Path]) -> Section:
    accounting = scan_table(tables["accounting"], schemas.ACCOUNTING).sort("file").collect()
    quarantine = scan_table(tables["quarantine"], schemas.QUARANTINE).collect()
    counted = ["records_seen", "parsed", "duplicates", "quarantined", "stray_text"]
    per_dataset = (
        accounting.explode("datasets")
        .group_by(dataset="datasets")
        .agg(pl.len().cast(pl.Int64).alias("files"), *(pl.col(c).sum() for c in counted))
        .sort("dataset")
    )
    totals = {c: int(accounting[c].sum()) for c in counted}
    counts = [
        Column(c, label, "int")
        for c, label in zip(
            counted, ("Seen", "Parsed", "Duplicates", "Quarantined", "Stray text"), strict=True
        )
    ]
    # Excerpts can hold author names: the report shows where and why, never what.
    reasons = (
        quarantine.with_columns(reason=pl.col("reason").str.replace(r"^lines? [\d-]+: ", ""))
        .group_by("kind", "reason")
        .agg(count=pl.len().cast(pl.Int64))
        .sort(["count", "kind", "reason"], descending=[True, False, False])
    )
    adds_up = (
        totals["records_seen"] == totals["parsed"] + totals["duplicates"] + totals["quarantined"]
    )
    blocks = (
        table_block(
            "accounting_datasets",
            "Accounting per dataset",
            per_dataset,
            [Column("dataset", "Dataset", "code"), Column("files", "Files", "int"), *counts],
            caption="Per dataset, over its export files (a file shared by two datasets counts in "
            "both).",
        ),
        table_block(
            "accounting_files",
            "Accounting per export file",
            accounting.with_columns(datasets=pl.col("datasets").list.join(", ")),
            [
                Column("file", "File", "code"),
                Column("datasets", "Datasets"),
                Column("format", "Format", "code"),
                Column("encoding", "Encoding", "code"),
                *counts,
            ],
            footer=("total", None, None, None, *(totals[c] for c in counted)),
        ),
        table_block(
            "quarantine_reasons",
            "Quarantine: reasons",
            reasons,
            [
                Column("kind", "Kind", "code"),
                Column("reason", "Reason"),
                Column("count", "Count", "int"),
            ],
            caption="Where and why only; the excerpts (which can hold names) stay in "
            "results/tables/quarantine.parquet.",
        ),
    )
    return Section(
        "accounting",
        "Accounting",
        (
            "Every record that began in an export file is accounted for: records seen = parsed "
            "+ duplicates + quarantined. "
            + ("The totals add up." if adds_up else "The totals do NOT add up."),
            f"{totals['records_seen']:,} records seen in {accounting.height} files: "
            f"{totals['parsed']:,} parsed, {totals['duplicates']:,} duplicates, "
            f"{totals['quarantined']:,} quarantined; {totals['stray_text']:,} blocks of stray "
            "text.",
        ),
        blocks,
        appendix=True,
    )


def inputs_section(tables: Mapping[str, str | Path], config: Mapping[str, object]) -> Section:
    accounting = scan_table(tables["accounting"], schemas.ACCOUNTING).sort("file").collect()
    hashes = table_block(
        "input_files",
        "Input files",
        accounting,
        [
            Column("file", "File", "code"),
            Column("bytes", "Bytes", "int"),
            Column("sha256", "SHA-256", "code"),
        ],
    )
    shown = yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True, width=10**6)
    return Section(
        "inputs",
        "Inputs and configuration",
        (
            "SHA-256 of every export file read, and the configuration of the results shown "
            "(study, datasets, normalisation; parse settings change no result).",
        ),
        (hashes, TextBlock("config", "Configuration", shown)),
        appendix=True,
    )


def software_versions() -> list[tuple[str, str]]:
    found = [("python", platform.python_version())]
    for name in SOFTWARE:
        try:
            version = __version__ if name == "collabscope" else importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        found.append((name, version))
    return found


def software_section() -> Section:
    block = TableBlock(
        "software",
        "Software versions",
        (Column("package", "Package", "code"), Column("version", "Version", "code")),
        tuple(software_versions()),
    )
    return Section("software", "Software", (), (block,), appendix=True)
