"""Invitations: the user's Jinja template rendered for each person drawn, and a mail-merge CSV.

The template sees one :class:`Invitation` as ``invitee`` and the study as ``study``:

- ``invitee.code``, ``.stratum``, ``.role`` (invitee or reserve), ``.name`` (AU), ``.full_name``
  (AF), ``.surname``, ``.given_names`` (from the full name; initials when only those are
  known), ``.email``, ``.institution``, ``.affiliation``, ``.country`` (code),
  ``.country_name``, ``.partner`` (the other focal country's name), ``.n_papers``,
  ``.first_year``, ``.last_year``;
- ``invitee.papers``: the person's pool papers (with the partner country), most recent first,
  each with ``title``, ``year``, ``journal``, ``doi``;
- ``study.title``, ``study.focal_countries`` (codes), ``study.focal_country_names``.

The environment has StrictUndefined, so a misspelt variable stops the run naming it instead of
leaving a blank in a letter, and no autoescaping for text templates (an ``.html`` template is
escaped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import polars as pl

from collabscope.errors import UserInputError


@dataclass(frozen=True)
class Paper:
    title: str
    year: int | None
    journal: str
    doi: str


@dataclass(frozen=True)
class Invitation:
    code: str
    stratum: str
    role: str
    name: str
    full_name: str
    surname: str
    given_names: str
    email: str
    institution: str
    affiliation: str
    country: str
    country_name: str
    partner: str
    n_papers: int
    first_year: int | None
    last_year: int | None
    papers: tuple[Paper, ...]


@dataclass(frozen=True)
class Study:
    title: str
    focal_countries: tuple[str, ...]
    focal_country_names: tuple[str, ...]


def template_environment(template: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template.parent)),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"], default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def load_template(path: str | Path) -> jinja2.Template:
    """The user's template; a missing file or a syntax error names the file and line."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(str(path), "invitation template not found")
    try:
        return template_environment(path).get_template(path.name)
    except jinja2.TemplateSyntaxError as error:
        raise UserInputError(
            str(path), f"template syntax error: {error.message}", error.lineno
        ) from error


def invitations(
    sample: pl.DataFrame,
    pool: pl.DataFrame,
    records: pl.DataFrame,
    country_names: Mapping[str, str],
    focal_countries: Sequence[str],
) -> list[Invitation]:
    """One invitation per sample row, in sample order. ``partner`` names the other focal
    country (or countries), or the person's own country in a single-country study."""
    papers = (
        pool.select("person_id", "record_ids")
        .explode("record_ids")
        .rename({"record_ids": "record_id"})
        .join(records.select("record_id", "title", "year", "journal", "doi"), on="record_id")
        .sort("person_id", "year", "record_id", descending=[False, True, False], nulls_last=True)
        .group_by("person_id", maintain_order=True)
        .agg(pl.struct("title", "year", "journal", "doi").alias("papers"))
    )
    rows = sample.join(papers, on="person_id", how="left", maintain_order="left")
    found = []
    for row in rows.iter_rows(named=True):
        full = row["full_name"] or row["name"] or ""
        surname, _, given = full.partition(",")
        country = row["country"] or ""
        partners = [c for c in focal_countries if c != country] or [country]
        found.append(
            Invitation(
                code=row["code"],
                stratum=row["stratum"],
                role=row["role"],
                name=row["name"] or "",
                full_name=full,
                surname=surname.strip(),
                given_names=given.strip(),
                email=row["email"] or "",
                institution=row["institution_name"] or "",
                affiliation=row["affiliation"] or "",
                country=country,
                country_name=country_names.get(country, country),
                partner=" and ".join(country_names.get(c, c) for c in partners),
                n_papers=row["n_pair_papers"],
                first_year=row["first_year"],
                last_year=row["last_year"],
                papers=tuple(
                    Paper(p["title"] or "", p["year"], p["journal"] or "", p["doi"] or "")
                    for p in row["papers"] or []
                ),
            )
        )
    return found


def render(template: jinja2.Template, invitation: Invitation, study: Study, source: str) -> str:
    """The letter for one person; an undefined variable names the template and the code."""
    try:
        return template.render(invitee=invitation, study=study)
    except jinja2.UndefinedError as error:
        raise UserInputError(source, f"rendering {invitation.code}: {error.message}") from error


def mail_merge(invites: Sequence[Invitation], files: Sequence[str]) -> pl.DataFrame:
    """The mail-merge table: one row per invitee (reserves are left out until needed)."""
    rows = [
        {
            "code": inv.code,
            "stratum": inv.stratum,
            "email": inv.email,
            "full_name": inv.full_name,
            "surname": inv.surname,
            "given_names": inv.given_names,
            "institution": inv.institution,
            "n_papers": inv.n_papers,
            "latest_title": inv.papers[0].title if inv.papers else "",
            "invitation_file": file,
        }
        for inv, file in zip(invites, files, strict=True)
        if inv.role == "invitee"
    ]
    schema = {
        "code": pl.String,
        "stratum": pl.String,
        "email": pl.String,
        "full_name": pl.String,
        "surname": pl.String,
        "given_names": pl.String,
        "institution": pl.String,
        "n_papers": pl.Int64,
        "latest_title": pl.String,
        "invitation_file": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)
