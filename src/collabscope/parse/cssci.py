"""CSSCI exports (the Chinese field-marker text format) as field items for the shared builder.

A CSSCI export is a banner (南京大学中国社会科学研究评价中心, version, copyright) and then
records, each beginning with 【来源篇名】 (title), one 【field】 per line; 【参考文献】 is
followed by one numbered cited reference per line. Field names are padded with full-width or
ASCII spaces (【基    金】, 【关 键 词】), which are dropped.

The export carries no record id. The id is ``CSSCI:`` and the first 16 hex digits of the SHA-1
of the title, journal, 年代卷期 and author list, so the same record exported twice (or in
another encoding or line-ending style) is a duplicate, as with WoS UTs.

Fields (tags for the builder): 来源篇名 TI, 英文篇名 ET (kept in extra_fields; used to match
a CSSCI record to its WoS/Scopus version), 来源作者 AU ('/'-separated), 机构名称 C1
('[李强]中国科学院科技战略咨询研究院./[刘文斌]英国肯特大学.商学院': authors in brackets, then the
institution and its units, full stops between), 基金 FU ('国家自然科学基金(71373253)/…'), 期刊
SO, 年代卷期 PY, VL, IS, BP, EP ('2019,40(010):3-19'), 关键词 DE, 参考文献 CR. Other fields keep
their Chinese name as tag in extra_fields.
"""

from __future__ import annotations

import hashlib

import polars as pl

from collabscope.parse.decode import CSSCI_FIRST_FIELD
from collabscope.parse.text import split_list
from collabscope.parse.wos_items import _EXCERPT, ITEMS_SCHEMA, META_SCHEMA, FileItems

_FIELD = r"^【([^】]*)】(.*)$"
_TAGS = {
    "来源篇名": "TI",
    "英文篇名": "ET",
    "期刊": "SO",
    "关键词": "DE",
}
# '2019,40(010):3-19', '2012,(5):10-15', '2019,40(Z1):3-19'
_VOLUME_ISSUE = (
    r"^\s*(\d{4})\s*[,，]\s*([^(（:]*)\s*(?:[(（]([^)）]*)[)）])?\s*(?::\s*(\w+)(?:\s*-\s*(\w+))?)?"
)
_EMPTY_TITLE = "empty 【来源篇名】 (title): not a record"


def cssci_items(lines: list[str], first_rec: int = 0) -> FileItems:
    """Items of a CSSCI export; records are numbered from ``first_rec``."""
    text = pl.col("text")
    frame = (
        pl.DataFrame({"text": lines}, schema={"text": pl.String})
        .with_row_index("line", offset=1)
        .with_columns(text.str.strip_chars_end())
        .with_columns(
            start=text.str.strip_chars_start("\ufeff \t").str.starts_with(CSSCI_FIRST_FIELD),
            field=text.str.extract(_FIELD, 1).str.replace_all(r"[\s\u3000]+", ""),
            value=pl.coalesce(text.str.extract(_FIELD, 2), text).str.strip_chars(),
        )
        .with_columns(record=pl.col("start").cum_sum())
        .filter(pl.col("record") > 0)  # the banner before the first record
        .with_columns(
            rec=pl.col("record").cast(pl.Int64) - 1 + first_rec,
            field=pl.col("field").forward_fill().over("record"),
        )
    )
    meta = frame.filter("start").select(
        "rec",
        line=pl.col("line").cast(pl.Int64),
        problem=pl.when(pl.col("value").str.len_bytes() == 0).then(pl.lit(_EMPTY_TITLE)),
        excerpt=text.str.slice(0, _EXCERPT),
        is_record=pl.lit(True),
    )
    is_marker = text.str.contains(_FIELD)
    markers = (
        frame.filter(is_marker)
        .group_by("rec", "field", maintain_order=True)
        .agg(pl.col("value").first())
    )
    fields = (
        markers.pivot(on="field", index="rec", values="value")
        if markers.height
        else pl.DataFrame(schema={"rec": pl.Int64})
    )
    for name in ("来源篇名", "来源作者", "期刊", "年代卷期", "机构名称", "基金"):
        if name not in fields.columns:
            fields = fields.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    references = frame.filter(
        ~is_marker & (pl.col("field") == "参考文献") & (pl.col("value").str.len_bytes() > 0)
    ).select("rec", tag=pl.lit("CR"), value=pl.col("value").str.replace(r"^\d+\.\s*", ""))
    references = references.filter(pl.col("value").str.len_bytes() > 0)

    parts = [references]
    for field, tag in _TAGS.items():
        if field in fields.columns:
            value = pl.col(field)
            if tag == "DE":
                value = value.str.replace_all("/", "; ", literal=True)
            parts.append(fields.select("rec", tag=pl.lit(tag), value=value))
    modelled = {*_TAGS, "来源作者", "年代卷期", "机构名称", "基金", "参考文献"}
    for field in fields.columns:
        if field not in modelled and field != "rec":
            parts.append(fields.select("rec", tag=pl.lit(field), value=pl.col(field)))
    parts.append(
        fields.select("rec", tag=pl.lit("AU"), value=split_list(pl.col("来源作者"), "/")).explode(
            "value"
        )
    )
    issue = pl.col("年代卷期").str.extract_groups(_VOLUME_ISSUE)
    for i, tag in enumerate(("PY", "VL", "IS", "BP", "EP")):
        parts.append(
            fields.select(
                "rec",
                tag=pl.lit(tag),
                value=issue.struct[i].str.strip_chars().str.replace(r"^0+(\w)", "$1"),
            )
        )
    parts.append(_institutions(fields))
    parts.append(_funding(fields))
    parts.append(fields.select("rec", tag=pl.lit("UT"), value=_record_ids(fields)))
    items = (
        pl.concat([p.select("rec", "tag", "value").cast(dict(ITEMS_SCHEMA)) for p in parts])
        .drop_nulls("value")
        .filter(pl.col("value").str.len_bytes() > 0)
        .sort("rec", maintain_order=True)
    )
    return FileItems(meta.cast(dict(META_SCHEMA)), items)


def _record_ids(fields: pl.DataFrame) -> pl.Series:
    keys = fields.select(
        key=pl.concat_str(
            [
                pl.col(c).fill_null("").str.replace_all(r"\s+", "")
                for c in ("来源篇名", "期刊", "年代卷期", "来源作者")
            ],
            separator="|",
        )
    )["key"]
    # The export has no id: a digest of the fields that identify the record (see module doc).
    return pl.Series(
        [f"CSSCI:{hashlib.sha1(k.encode()).hexdigest()[:16]}" for k in keys], dtype=pl.String
    )


def _institutions(fields: pl.DataFrame) -> pl.DataFrame:
    """C1 '[李强; 赵一方] 中国科学院科技战略咨询研究院', one item per distinct institution."""
    text = pl.col("机构名称").str.strip_chars()
    # '[A]inst./[B]inst.' is split before each '['; an export without brackets at '/'.
    entries = (
        pl.when(text.str.contains("[", literal=True))
        .then(text.str.replace_all(r"/\s*\[", "\uffff["))
        .otherwise(text.str.replace_all("/", "\uffff", literal=True))
        .str.split("\uffff")
    )
    parsed = pl.col("entry").str.extract_groups(r"(?s)^\[([^\]]*)\](.*)$")
    rows = (
        fields.select("rec", entry=entries)
        .explode("entry")
        .drop_nulls("entry")
        .with_columns(parsed=parsed)
        .select(
            "rec",
            name=parsed.struct[0].str.strip_chars(),
            institution=pl.coalesce(parsed.struct[1], pl.col("entry"))
            .str.strip_chars()
            .str.strip_chars_end(".")
            .str.strip_chars(),
        )
        .filter(pl.col("institution").str.len_bytes() > 0)
        .group_by("rec", "institution", maintain_order=True)
        .agg(pl.col("name").drop_nulls().unique(maintain_order=True))
    )
    return rows.select(
        "rec",
        tag=pl.lit("C1"),
        value=pl.when(pl.col("name").list.len() > 0)
        .then(pl.concat_str([pl.lit("["), pl.col("name").list.join("; "), pl.lit("] ")]))
        .otherwise(pl.lit(""))
        + pl.col("institution"),
    )


def _funding(fields: pl.DataFrame) -> pl.DataFrame:
    """FU 'Funder [grant]; …' from '国家自然科学基金面上项目(71373253)/创新方法工作专项项目'."""
    parts = pl.col("entry").str.extract_groups(
        r"(?s)^(.*?)\s*[(（]([^()（）]*\d[^()（）]*)[)）]\s*$"
    )
    return (
        fields.select("rec", entry=split_list(pl.col("基金"), "/"))
        .explode("entry")
        .drop_nulls("entry")
        .with_columns(parts=parts)
        .select(
            "rec",
            value=pl.when(pl.col("parts").struct[0].is_not_null())
            .then(
                pl.concat_str(
                    [
                        pl.col("parts").struct[0],
                        pl.lit(" ["),
                        pl.col("parts").struct[1],
                        pl.lit("]"),
                    ]
                )
            )
            .otherwise(pl.col("entry").str.replace_all(";", ",", literal=True)),
        )
        .group_by("rec", maintain_order=True)
        .agg(pl.col("value"))
        .select("rec", tag=pl.lit("FU"), value=pl.col("value").list.join("; "))
    )


def parse_cssci_references(refs: pl.LazyFrame) -> pl.LazyFrame:
    """Add the parsed reference columns to a frame with ``raw``.

    '陈德棉.科技优先领域的概念.科研管理.1996.(1)' and '李宏伟.题名.绵阳:西南科技大学,2017':
    author, title, source and year separated by full stops. The link key is null: Chinese
    names have no initials to build it from.
    """
    raw = pl.col("raw")
    parts = raw.str.split(".")
    year = raw.str.extract(r"(?:^|[.,])\s*((?:1[5-9]|20)\d\d)(?:\s*[.,(]|$)", 1)
    return refs.with_columns(
        first_author=pl.when(parts.list.len() > 2).then(parts.list.first().str.strip_chars()),
        year=year.cast(pl.Int64, strict=False),
        source=pl.when(parts.list.len() > 3).then(parts.list.get(2, null_on_oob=True)),
        volume=raw.str.extract(r"\.\s*(?:1[5-9]|20)\d\d\.\s*(\d+)\s*\(", 1),
        page=pl.lit(None, pl.String),
        doi=pl.lit(None, pl.String),
        link_key=pl.lit(None, pl.String),
    )
