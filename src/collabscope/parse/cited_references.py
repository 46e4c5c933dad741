"""Parse WoS cited references (CR) into DOI, first author, year, source, volume and page.

Vectorised over a whole shard with polars string expressions: a shard holds hundreds of
thousands of references, and a Python loop over them would dominate the parse stage.

Forms handled: ``Smith J, 2010, J EDUC PSYCHOL, V102, P123, DOI 10.1037/a0012345``,
``[Anonymous], 2005, …``, ``DOI [10.x/a, DOI 10.X/A]`` (first DOI wins), books without volume,
article numbers written ``ARTN e123``, and references without an author or a year (the source
is then the second element, unless that is a volume, page, DOI or UNPUB).
"""

from __future__ import annotations

import polars as pl

_DOI = r"(?i)\bDOI:?\s*\[?\s*(10\.\d{3,9}/[^\s,\]]+)"
_YEAR_ELEMENT = r"^(?:[^,]*,\s*)?((?:1[5-9]|20|21)\d\d)(?:,|$)"
_SOURCE = r"^(?:[^,]*,\s*)?(?:1[5-9]|20|21)\d\d,\s*([^,]+)"
# Without a year the source is the second element, unless that is already a volume, page or DOI.
_SOURCE_WITHOUT_YEAR = r"^[^,]*,\s*([^,]+)"
_NOT_A_SOURCE = r"^(?:V[A-Za-z]{0,3}\d|P[A-Za-z]{0,2}\d|DOI\b|ARTN\b|UNPUB$|IN PRESS$)"
_VOLUME = r",\s*V([A-Za-z]{0,3}\d[^,]*?)\s*(?:,|$)"
_PAGE = r",\s*P([A-Za-z]{0,2}\d[^,\s]*)\s*(?:,|$)"
_ARTICLE_NUMBER = r",\s*ARTN\s+([^,]+)"


def parse_cited_references(refs: pl.LazyFrame) -> pl.LazyFrame:
    """Add the parsed columns to a frame with a ``raw`` column."""
    raw = pl.col("raw")
    first = raw.str.extract(r"^([^,]*)", 1).str.strip_chars()
    first_is_name = first.str.contains(r"[A-Za-z]") & ~first.str.to_lowercase().str.contains(
        "anonymous", literal=True
    )
    frame = refs.with_columns(
        first_author=pl.when(first_is_name).then(first).otherwise(None),
        year=raw.str.extract(_YEAR_ELEMENT, 1).cast(pl.Int64, strict=False),
        source=pl.coalesce(
            raw.str.extract(_SOURCE, 1),
            pl.when(
                raw.str.extract(_YEAR_ELEMENT, 1).is_null()
                & ~raw.str.extract(_SOURCE_WITHOUT_YEAR, 1)
                .str.strip_chars()
                .str.contains(_NOT_A_SOURCE)
            ).then(raw.str.extract(_SOURCE_WITHOUT_YEAR, 1)),
        ).str.strip_chars(),
        volume=raw.str.extract(_VOLUME, 1).str.strip_chars(),
        page=pl.coalesce(
            raw.str.extract(_PAGE, 1).str.strip_chars(),
            raw.str.extract(_ARTICLE_NUMBER, 1).str.strip_chars(),
        ),
        doi=raw.str.extract(_DOI, 1).str.to_lowercase().str.strip_chars_end(".;"),
    )
    return frame.with_columns(link_key=reference_link_key())


def reference_link_key(
    author: str = "first_author",
    year: str = "year",
    volume: str = "volume",
    page: str = "page",
) -> pl.Expr:
    """surname|initial|year|volume|page, for linking a citation to a record without a DOI.

    Records use the same key built from their own first author, year, volume and first page,
    so both sides must call this function.
    """
    name = pl.col(author).str.to_lowercase().str.replace_all(r"[^a-z ,]", "")
    surname = name.str.extract(r"^([a-z]+(?: [a-z]+)*?)(?:,| [a-z]{1,3}$)", 1)
    initial = name.str.extract(r"(?:,\s*| )([a-z])[a-z]*$", 1)
    parts = [
        surname.str.replace_all(" ", ""),
        initial,
        pl.col(year).cast(pl.String),
        pl.col(volume).str.to_lowercase(),
        pl.col(page).str.to_lowercase(),
    ]
    return pl.concat_str(parts, separator="|")
