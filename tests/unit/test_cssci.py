"""CSSCI exports: fields, institutions and their countries, encodings, duplicates."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from collabscope.normalise.countries import (
    CountryPolicy,
    load_country_table,
    load_region_table,
    resolve_countries,
)
from collabscope.parse.shard import parse_files
from tests.conftest import PROJECT

BANNER = (
    "南京大学中国社会科学研究评价中心\n数字文献处理系统 版本：2.1\n"
    "版权所有 (C) 2000 - 2001 CSSCI Corp.\n\n\n"
)
RECORD_1 = """【来源篇名】中英教育合作研究
【英文篇名】China-UK Cooperation in Education
【来源作者】李强/刘文斌/王芳
【基    金】国家自然科学基金面上项目(71373253)/教育部人文社会科学研究项目
【期    刊】比较教育研究
【第一机构】北京师范大学
【机构名称】[李强]北京师范大学.教育学部/[刘文斌]英国肯特大学.商学院/[王芳]北京师范大学.教育学部/[王芳]香港大学.教育学院
【第一作者】李强
【中图类号】G40
【年代卷期】2019,40(010):3-19
【关 键 词】中英合作/高等教育
【基金类别】
【参考文献】
1.陈德棉.科技优先领域的概念、评价方法及应用.科研管理.1996.(1)
2.吴文晓.基于本体的突发事件网络舆情案例推理研究:学位论文.绵阳:西南科技大学,2017

"""
RECORD_2 = """【来源篇名】基础研究政策体系研究
【英文篇名】
【来源作者】张璐
【基    金】
【期    刊】科学学研究
【机构名称】[张璐]中国人民大学.商学院
【年代卷期】2012,(5):10-15
【参考文献】
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8", crlf: bool = False):
    path = tmp_path / name
    data = text.replace("\n", "\r\n") if crlf else text
    path.write_bytes(data.encode(encoding))
    return str(path)


def test_fields_and_links(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", BANNER + RECORD_1 + RECORD_2)
    t = parse_files({path: ["d"]}).tables
    records = t["records"].sort("source_line")
    assert records["source_line"].to_list() == [6, 22]
    first = records.row(0, named=True)
    assert first["record_id"].startswith("CSSCI:") and len(first["record_id"]) == 22
    assert (first["source"], first["database"], first["source_format"]) == (
        "cssci",
        "CSSCI",
        "cssci",
    )
    assert (first["year"], first["volume"], first["issue"], first["start_page"]) == (
        2019,
        "40",
        "10",
        "3",
    )
    assert first["journal"] == "比较教育研究"
    assert first["author_keywords"] == ["中英合作", "高等教育"]
    assert {"tag": "ET", "value": "China-UK Cooperation in Education"} in first["extra_fields"]
    assert records["issue"][1] == "5" and records["volume"][1] is None

    rid = first["record_id"]
    addresses = t["addresses"].filter(pl.col("record_id") == rid).sort("address_pos")
    assert addresses.select("raw", "organisation", "sub_organisations").rows() == [
        ("北京师范大学.教育学部", "北京师范大学", ["教育学部"]),
        ("英国肯特大学.商学院", "英国肯特大学", ["商学院"]),
        ("香港大学.教育学院", "香港大学", ["教育学院"]),
    ]
    links = t["author_address"].filter(pl.col("record_id") == rid).sort("position", "address_pos")
    assert links.select("position", "address_pos").rows() == [(1, 1), (2, 2), (3, 1), (3, 3)]
    assert t["funding"].filter(pl.col("record_id") == rid).select(
        "funder_raw", "grant_numbers"
    ).rows() == [("国家自然科学基金面上项目", ["71373253"]), ("教育部人文社会科学研究项目", [])]
    refs = t["references"].filter(pl.col("record_id") == rid).sort("ref_pos")
    assert refs.select("first_author", "year", "source").rows() == [
        ("陈德棉", 1996, "科研管理"),
        ("吴文晓", 2017, None),
    ]

    table = load_country_table(PROJECT / "resources/countries/countries.csv")
    regions = load_region_table(PROJECT / "resources/countries")
    located = resolve_countries(
        t["addresses"].lazy(), table, CountryPolicy(), regions=regions
    ).collect()
    assert located.sort("record_id", "address_pos").filter(pl.col("record_id") == rid).select(
        "country_recorded", "country_method"
    ).rows() == [("CHN", "cjk_domestic"), ("GBR", "cjk_prefix"), ("HKG", "cjk_prefix")]


def test_same_records_in_gb18030_with_crlf_are_duplicates(tmp_path: Path) -> None:
    utf8 = write(tmp_path, "a.txt", BANNER + RECORD_1 + RECORD_2)
    gbk = write(tmp_path, "b.txt", BANNER + RECORD_1 + RECORD_2, "gb18030", crlf=True)
    t = parse_files({utf8: ["d"], gbk: ["d"]}).tables
    accounting = t["accounting"].sort("file")
    assert accounting.select("encoding", "line_endings", "parsed", "duplicates").rows() == [
        ("utf-8", "LF", 2, 0),
        ("gb18030", "CRLF", 0, 2),
    ]
    assert t["records"].height == 2


def test_record_with_empty_title_is_quarantined(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", BANNER + RECORD_1 + "【来源篇名】\n【来源作者】张璐\n")
    t = parse_files({path: ["d"]}).tables
    assert t["quarantine"].select("line", "reason").rows() == [
        (22, "empty 【来源篇名】 (title): not a record")
    ]
    assert t["accounting"].select("records_seen", "parsed", "quarantined").row(0) == (2, 1, 1)


def test_chinese_institution_names_match_the_registry(tmp_path: Path) -> None:
    from collabscope.normalise.institutions import load_registry, match_institutions

    path = write(tmp_path, "a.txt", BANNER + RECORD_1)
    addresses = parse_files({path: ["d"]})["addresses"]
    table = load_country_table(PROJECT / "resources/countries/countries.csv")
    regions = load_region_table(PROJECT / "resources/countries")
    located = resolve_countries(addresses.lazy(), table, CountryPolicy(), regions=regions)
    registry = load_registry(
        [PROJECT / "resources/institutions/institutions.csv"],
        [PROJECT / "resources/institutions/tiers.csv"],
    )
    matched = match_institutions(located, registry).collect().sort("address_pos")
    assert matched.select("institution_id", "institution_method").rows() == [
        ("chn-beijing-normal", "alias"),
        ("gbr-kent", "alias"),
        ("hkg-hku", "alias"),
    ]
