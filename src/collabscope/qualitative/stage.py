"""Stage function of the qualitative strand: coded data and indicators -> results/qualitative/."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from collabscope import schemas
from collabscope.qualitative import analysis, joint
from collabscope.qualitative.refi import SEGMENT_SCHEMA, read_qdpx
from collabscope.qualitative.sheets import read_participants, read_segment_sheet
from collabscope.tableio import scan_table, write_table, write_table_csv

log = logging.getLogger("collabscope.qualitative")


def read_coded(paths: Sequence[str | Path]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Segments (SEGMENT_SCHEMA), the code pairs (code, parent, file, location) and the QDA
    projects' case variables of every coded-data file: .qdpx as REFI-QDA, others as sheets."""
    segments, pairs, variables = [], [], []
    for path in paths:
        if str(path).lower().endswith(".qdpx"):
            project = read_qdpx(path)
            segments.append(project.segments)
            pairs.append(
                project.codes.with_columns(
                    pl.lit(str(path)).alias("file"), pl.lit("CodeBook").alias("location")
                )
            )
            variables.append(project.variables)
        else:
            sheet = read_segment_sheet(path)
            segments.append(sheet.select(list(SEGMENT_SCHEMA)))
            pairs.append(sheet.select("code", "parent", "file", "location"))
        log.info("%s: %d segments", path, segments[-1].height)
    empty_vars = pl.DataFrame(
        schema={"participant": pl.String, "variable": pl.String, "value": pl.String}
    )
    return (
        pl.concat(segments) if segments else pl.DataFrame(schema=SEGMENT_SCHEMA),
        pl.concat(pairs),
        pl.concat(variables) if variables else empty_vars,
    )


def qualitative_tables(
    participants_path: str | Path,
    segment_paths: Sequence[str | Path],
    summary: pl.DataFrame,
    indicators: Mapping[str, pl.DataFrame],
    focal: Sequence[str],
    dataset: str,
    quotes_per_theme: int,
    names: Mapping[str, str],
) -> dict[str, pl.DataFrame]:
    """Every table of :data:`schemas.QUALITATIVE_TABLES`, by name."""
    segments, pairs, variables = read_coded(segment_paths)
    sheet = analysis.apply_case_variables(read_participants(participants_path), variables)
    tree = analysis.hierarchy(pairs)
    people = analysis.participants_table(sheet, summary, segments)
    coded = analysis.coded_segments(segments, people, tree)
    codebook = analysis.codebook(tree, coded)
    themes = codebook.filter(pl.col("is_theme"))["theme"].to_list()
    matrix = analysis.theme_matrix(people, coded, themes)
    named = coded.with_columns(pl.col("country").replace(dict(names)).alias("country_name"))
    quotes = analysis.quotes(
        named.drop("country").rename({"country_name": "country"}), quotes_per_theme
    )
    quotes = quotes.drop("country").join(
        coded.select("segment_id", "country"), on="segment_id", how="left"
    )
    figures = joint.country_figures(
        indicators["collaboration"], indicators["pair_leads"], indicators["funders"], focal, dataset
    )
    respondents = int(people["respondent"].sum())
    return {
        "participants": people,
        "segments": coded,
        "codebook": codebook,
        "theme_matrix": matrix,
        "respondents": analysis.respondents_by_role_country(people),
        "response_times": analysis.response_times(people),
        "quotes": quotes,
        "joint_display": joint.joint_display(people, matrix, summary, figures),
        "findings_quantitative": joint.findings_quantitative(
            indicators["collaboration"],
            indicators["pair_leads"],
            indicators["funders"],
            focal,
            dataset,
            names,
        ),
        "findings_qualitative": joint.findings_qualitative(codebook, matrix, quotes, respondents),
    }


def analyse_qualitative(
    inputs: Mapping[str, object],
    outputs: Mapping[str, str | Path],
    focal: Sequence[str],
    dataset: str,
    quotes_per_theme: int,
) -> dict[str, pl.DataFrame]:
    """Read the participants sheet, the coded data, the draw's summary and the indicators;
    write each table as Parquet (``outputs[name]``) and CSV (``outputs[name + '_csv']``)."""
    summary = pl.read_csv(str(inputs["summary"]), infer_schema=False)
    indicators = {
        name: scan_table(str(inputs[name]), schemas.INDICATOR_BY_NAME[name]).collect()
        for name in ("collaboration", "pair_leads", "funders")
    }
    names = dict(
        pl.read_csv(
            str(inputs["countries"]), columns=["code", "name"], infer_schema=False
        ).iter_rows()
    )
    segment_paths = inputs["segments"]
    assert isinstance(segment_paths, Sequence)
    tables = qualitative_tables(
        str(inputs["participants"]),
        [str(p) for p in segment_paths],
        summary,
        indicators,
        focal,
        dataset,
        quotes_per_theme,
        names,
    )
    for table in schemas.QUALITATIVE_TABLES:
        write_table(tables[table.name], table, outputs[table.name])
        write_table_csv(tables[table.name], table, outputs[f"{table.name}_csv"])
        log.info("%s: %d rows", table.name, tables[table.name].height)
    return tables
