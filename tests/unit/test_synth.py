"""The synthetic WoS generator: determinism, the committed example, and truth against the parser.

The example study in ``resources/example`` is generated; these tests regenerate it and compare
bytes (so it can never go stale), parse it with the project's parser and check every truth
file against the parsed tables.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from collabscope.parse.cited_references import reference_link_key
from collabscope.parse.shard import ShardTables, parse_files
from collabscope.synth import generate_corpus, generate_example_study, main
from collabscope.synth.render import wrap

PROJECT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT / "resources" / "example"
DATASETS = ("world", "china", "uk", "china_uk", "citing")

# Quirks the example must contain, each at least this often.
REQUIRED_QUIRKS = {
    "hk_old": 3,
    "hk_city_country": 3,
    "hk_prc": 3,
    "hk_double": 3,
    "macau_old": 3,
    "macau_prc": 3,
    "taiwan": 3,
    "uk_england": 3,
    "uk_scotland": 3,
    "uk_wales": 3,
    "uk_north_ireland": 3,
    "trap_new_south_wales": 3,
    "trap_new_england": 2,
    "trap_scotland_street": 2,
    "trap_beth_israel": 2,
    "trap_china_med_univ_taiwan": 2,
    "trap_lau_china_inst": 3,
    "joint_institution": 8,
    "c1_upper": 5,
    "us_no_country": 2,
    "c1_unlinked": 10,
    "c1_missing": 5,
    "multi_address": 10,
    "domestic_multi_institution": 5,
    "c1_first_not_first_author": 3,
    "rp_reprint_style": 5,
    "rp_corresponding_style": 5,
    "rp_multi_address": 3,
    "rp_not_first_author": 5,
    "rp_other_country_than_lead": 3,
    "early_access_no_py": 3,
    "early_access_with_py": 3,
    "funding": 10,
    "funder_variant": 5,
    "highly_cited": 5,
    "hot_paper": 1,
    "emails_multi": 5,
    "single_author": 5,
    "single_author_international": 2,
    "institutional_author": 2,
    "unknown_tag": 3,
    "script_title": 1,
    "img_title": 1,
    "duplicate_in_world": 1,
    "cites_china_uk": 50,
    "accented_name": 3,
    "af_equals_au": 5,
}
# Country as written (last address element) -> ISO3 under the default policy, where the text
# alone decides it ('Peoples R China' is decided by the Hong Kong / Macau check below).
WRITTEN_COUNTRY = {
    "england": "GBR",
    "scotland": "GBR",
    "wales": "GBR",
    "north ireland": "GBR",
    "hong kong": "HKG",
    "macau": "MAC",
    "taiwan": "TWN",
    "usa": "USA",
    "australia": "AUS",
    "canada": "CAN",
    "spain": "ESP",
    "germany": "DEU",
    "netherlands": "NLD",
    "singapore": "SGP",
}


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _tsv(name: str) -> pl.DataFrame:
    return pl.read_csv(EXAMPLE / "truth" / name, separator="\t", infer_schema=False)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("example")
    generate_example_study(out)
    return out


@pytest.fixture(scope="module")
def parsed() -> ShardTables:
    files = {
        str(path): [dataset]
        for dataset in DATASETS
        for path in sorted((EXAMPLE / "exports" / dataset).glob("*.txt"))
    }
    return parse_files(files)


# ------------------------------------------------------------------------------ determinism


def test_committed_example_equals_a_fresh_regeneration(regenerated: Path) -> None:
    committed = _tree(EXAMPLE)
    fresh = _tree(regenerated)
    assert sorted(committed) == sorted(fresh), (
        "files differ: run python -m collabscope.synth example"
    )
    stale = [name for name in fresh if committed[name] != fresh[name]]
    assert not stale, f"resources/example is stale ({stale[:3]}): regenerate it"


def test_example_is_deterministic_and_small(regenerated: Path, tmp_path: Path) -> None:
    generate_example_study(tmp_path / "again")
    assert _tree(tmp_path / "again") == _tree(regenerated)
    size = sum(p.stat().st_size for p in EXAMPLE.rglob("*") if p.is_file())
    assert size < 5_000_000


def test_other_seed_gives_other_records(tmp_path: Path) -> None:
    summary = generate_example_study(tmp_path, seed=7)
    assert summary.n_records > 1000
    assert _tree(tmp_path) != _tree(EXAMPLE)


@pytest.mark.parametrize("fmt", ["plain", "tab"])
def test_corpus_is_deterministic(tmp_path: Path, fmt: str) -> None:
    a = generate_corpus(tmp_path / "a", 230, records_per_file=100, seed=3, fmt=fmt)
    b = generate_corpus(tmp_path / "b", 230, records_per_file=100, seed=3, fmt=fmt, workers=1)
    assert [p.name for p in a] == ["savedrecs.txt", "savedrecs (1).txt", "savedrecs (2).txt"]
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    c = generate_corpus(tmp_path / "c", 230, records_per_file=100, seed=4, fmt=fmt)
    assert a[0].read_bytes() != c[0].read_bytes()


# ------------------------------------------------------------------------------ corpus


@pytest.mark.parametrize("fmt", ["plain", "tab"])
def test_corpus_has_the_requested_records_and_parses_cleanly(tmp_path: Path, fmt: str) -> None:
    n = 1100
    files = generate_corpus(tmp_path, n, records_per_file=500, seed=11, fmt=fmt)
    assert len(files) == 3
    tables = parse_files({str(f): ["bench"] for f in files})
    accounting = tables["accounting"]
    assert accounting["records_seen"].sum() == n
    assert accounting["parsed"].sum() == n
    assert accounting["duplicates"].sum() == 0
    assert tables["quarantine"].height == 0
    records = tables["records"]
    assert records["record_id"].n_unique() == n
    assert records["doi"].drop_nulls().n_unique() == records["doi"].drop_nulls().len()
    assert set(accounting["format"]) == {"wos_plain" if fmt == "plain" else "wos_tab"}
    # realistic size: ~5-6 KB and ~30-75 cited references per article in plain text
    if fmt == "plain":
        size = sum(f.stat().st_size for f in files) / n
        assert 4500 < size < 7000
    refs = tables["references"].group_by("record_id").len()["len"]
    assert 35 < refs.mean() < 60  # type: ignore[operator]


def test_corpus_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["corpus", "--out", str(tmp_path), "--records", "120", "--per-file", "50"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "savedrecs (1).txt",
        "savedrecs (2).txt",
        "savedrecs.txt",
    ]
    assert "120 records in 3 files" in capsys.readouterr().out


def test_wrap_keeps_the_text() -> None:
    text = "word " * 40 + "Christian/0000-0002-8050-123X; " + "x" * 90
    lines = wrap(text.strip())
    assert " ".join(lines) == text.strip()
    assert all(len(line) <= 67 for line in lines if " " in line)


# ------------------------------------------------------------------------------ truth vs parser


def test_files_truth_matches_the_parsers_accounting(parsed: ShardTables) -> None:
    files = _tsv("files.tsv")
    accounting = parsed["accounting"].with_columns(
        pl.col("file").str.replace(f"{EXAMPLE}/", "", literal=True)
    )
    joined = files.join(accounting, on="file", how="full", coalesce=True)
    assert joined.height == files.height == accounting.height
    for truth_col, parsed_col in (
        ("records_written", "records_seen"),
        ("expected_parsed", "parsed"),
        ("expected_duplicates", "duplicates"),
        ("expected_quarantined", "quarantined"),
        ("format", "format"),
        ("encoding", "encoding"),
        ("line_endings", "line_endings"),
    ):
        bad = joined.filter(pl.col(truth_col) != pl.col(parsed_col).cast(pl.String))
        assert bad.height == 0, (truth_col, bad.select("file", truth_col, parsed_col).rows())
    # the export oddities the example promises
    assert files.filter(pl.col("broken_planted") == "1").height == 1
    assert files["duplicates_planted"].cast(pl.Int64).sum() == 1
    assert parsed["quarantine"].height == 1
    kinds = set(zip(files["format"], files["encoding"], files["line_endings"], strict=True))
    assert ("wos_plain", "utf-8", "CRLF") in kinds
    assert ("wos_plain", "utf-8-sig", "LF") in kinds
    assert ("wos_tab", "utf-16le-bom", "CRLF") in kinds
    tab_utf8 = files.filter(
        (pl.col("format") == "wos_tab")
        & (pl.col("encoding") == "utf-8-sig")
        & pl.col("dataset").is_in(["uk", "china_uk"])
    )
    assert tab_utf8.height >= 1
    assert "thomson" in set(files["header"])
    assert (
        (EXAMPLE / "exports/world/savedrecs (2).txt")
        .read_text("utf-8")
        .startswith("FN Thomson Reuters Web of Science™\n")
    )
    assert all(int(n) <= 500 for n in files["records_written"])


def test_records_truth_matches_the_parsed_records(parsed: ShardTables) -> None:
    truth = _tsv("records.tsv")
    records = parsed["records"]
    assert sorted(records["record_id"]) == sorted(truth["ut"])
    members = parsed["dataset_records"]
    expected = truth.select("ut", dataset=pl.col("datasets").str.split(",")).explode("dataset")
    for name in DATASETS:
        got = set(members.filter(pl.col("dataset") == name)["record_id"])
        want = set(expected.filter(pl.col("dataset") == name)["ut"])
        assert got == want, name
    # memberships are consistent: every China-UK paper is also a China paper and a UK paper
    by_ut = dict(zip(truth["ut"], truth["datasets"], strict=True))
    for ut in expected.filter(pl.col("dataset") == "china_uk")["ut"]:
        assert {"china", "uk"} <= set(by_ut[ut].split(","))
    joined = records.join(
        truth.rename(lambda name: f"truth_{name}"), left_on="record_id", right_on="truth_ut"
    )
    for column in ("year", "year_source", "doc_type", "n_authors", "n_addresses", "times_cited"):
        bad = joined.filter(pl.col(f"truth_{column}") != pl.col(column).cast(pl.String))
        assert bad.height == 0, (column, bad.select("record_id", f"truth_{column}", column).head())
    doi = joined.filter(
        pl.col("doi").fill_null("") != pl.col("truth_doi").fill_null("").str.to_lowercase()
    )
    assert doi.height == 0
    flags = joined.filter(pl.col("highly_cited").is_not_null()).with_columns(
        hc=pl.when(pl.col("highly_cited")).then(pl.lit("Y")).otherwise(pl.lit("N"))
    )
    assert flags.filter(pl.col("hc") != pl.col("truth_highly_cited")).height == 0
    assert flags.filter(pl.col("hc") == "Y").height >= 5
    early = joined.filter(pl.col("year_source") == "EA")
    assert early.height >= 3 and early["early_access"].null_count() == 0


def test_quirks_are_planted_several_times() -> None:
    truth = _tsv("records.tsv")
    counts = Counter(q for quirks in truth["quirks"].fill_null("") for q in quirks.split(",") if q)
    missing = {q: (counts[q], n) for q, n in REQUIRED_QUIRKS.items() if counts[q] < n}
    assert not missing, missing
    addresses = _tsv("addresses.tsv")
    for text in ("North Ireland", "Univ New S Wales", "Scotland Dr", "Lau China Inst, Kings Coll"):
        assert addresses.filter(pl.col("raw").str.contains(text, literal=True)).height >= 2, text
    assert addresses.filter(pl.col("raw").str.contains(r"^[A-Z0-9 ,&.-]+$")).height >= 5
    funders = _tsv("funders.tsv")
    written = set(funders["raw"])
    for variant in (
        "NSFC",
        "National Natural Science Foundation of China",
        "National Natural Science Foundation of China (NSFC)",
        "ESRC",
        "Economic and Social Research Council",
    ):
        assert variant in written, variant
    assert set(funders.filter(pl.col("raw") == "NSFC")["canonical"]) == {
        "National Natural Science Foundation of China"
    }


def test_addresses_truth_matches_the_parsed_addresses(parsed: ShardTables) -> None:
    truth = _tsv("addresses.tsv")
    got = parsed["addresses"].with_columns(position=pl.col("address_pos").cast(pl.String))
    joined = truth.join(
        got, left_on=["ut", "position"], right_on=["record_id", "position"], how="full"
    )
    assert joined.height == truth.height == got.height
    assert joined.filter(pl.col("raw_right").str.strip_chars_end(".") != pl.col("raw")).height == 0
    assert joined.filter(pl.col("kind") != pl.col("kind_right")).height == 0
    written = joined.filter(
        pl.col("country_text").fill_null("") != pl.col("country_as_written").fill_null("")
    )
    assert written.height == 0, written.select("ut", "raw", "country_text").head()
    # where the last element decides the country, the truth agrees with it
    rows = truth.with_columns(written=pl.col("country_as_written").str.to_lowercase())
    for written_text, raw, country in rows.select("written", "raw", "country").iter_rows():
        if written_text == "peoples r china":
            upper = raw.upper()
            expected = "HKG" if "HONG KONG" in upper else "MAC" if "MACA" in upper else "CHN"
            assert country == expected, raw
        elif written_text in WRITTEN_COUNTRY:
            assert country == WRITTEN_COUNTRY[written_text], raw
    joint = truth.filter(pl.col("is_joint_institution") == "Y")
    assert set(joint["country"]) == {"CHN"} and joint.height >= 8


def test_lead_and_corresponding_truth_matches_the_parsed_links(parsed: ShardTables) -> None:
    truth = _tsv("records.tsv")
    truth_addresses = _tsv("addresses.tsv")
    c1 = parsed["addresses"].filter(pl.col("kind") == "affiliation")
    first_author = (
        parsed["author_address"]
        .filter(pl.col("position") == 1)
        .join(c1.select("record_id", "address_pos"), on=["record_id", "address_pos"])
        .group_by("record_id")
        .agg(author_pos=pl.col("address_pos").min())
    )
    lead = (
        c1.group_by("record_id")
        .agg(first_pos=pl.col("address_pos").min())
        .join(first_author, on="record_id", how="left")
        .select("record_id", position=pl.coalesce("author_pos", "first_pos").cast(pl.String))
        .join(truth_addresses, left_on=["record_id", "position"], right_on=["ut", "position"])
        .select("record_id", parsed_lead="country")
    )
    joined = truth.join(lead, left_on="ut", right_on="record_id", how="left")
    bad = joined.filter(pl.col("lead_country").fill_null("") != pl.col("parsed_lead").fill_null(""))
    assert bad.height == 0, bad.select("ut", "lead_country", "parsed_lead").head()
    # the first-author != corresponding-author trap is there and readable
    corresponding = (
        parsed["authorships"]
        .filter("is_corresponding")
        .group_by("record_id")
        .agg(pl.col("position"))
    )
    joined = truth.filter(pl.col("first_author_is_corresponding").is_not_null()).join(
        corresponding, left_on="ut", right_on="record_id", how="left"
    )
    got = joined.with_columns(
        first=pl.col("position")
        .list.contains(1)
        .fill_null(False)
        .replace_strict({True: "Y", False: "N"}, return_dtype=pl.String)
    )
    assert got.filter(pl.col("first") != pl.col("first_author_is_corresponding")).height == 0
    assert got.filter(pl.col("first") == "N").height >= 20


def test_funders_truth_matches_the_parsed_funding(parsed: ShardTables) -> None:
    truth = _tsv("funders.tsv")
    got = parsed["funding"].with_columns(
        position=pl.col("funder_pos").cast(pl.String),
        grants=pl.col("grant_numbers").list.join(","),
    )
    joined = truth.join(
        got, left_on=["ut", "position"], right_on=["record_id", "position"], how="full"
    )
    assert joined.height == truth.height == got.height
    assert joined.filter(pl.col("raw") != pl.col("funder_raw")).height == 0
    assert (
        joined.filter(pl.col("grants").fill_null("") != pl.col("grants_right").fill_null("")).height
        == 0
    )


def test_citations_truth_resolves_to_the_cited_records(parsed: ShardTables) -> None:
    truth = _tsv("citations.tsv").with_columns(pl.col("ref_pos").cast(pl.Int64))
    assert set(truth["how"]) == {"doi", "aypv"}
    cited = set(truth["cited_ut"])
    china_uk = set(parsed["dataset_records"].filter(pl.col("dataset") == "china_uk")["record_id"])
    assert cited <= china_uk
    citing = set(parsed["dataset_records"].filter(pl.col("dataset") == "citing")["record_id"])
    assert set(truth["citing_ut"]) == citing
    first_authors = (
        parsed["authorships"]
        .filter(pl.col("position") == 1)
        .select("record_id", first_author="name")
    )
    keys = (
        parsed["records"]
        .join(first_authors, on="record_id")
        .select(
            target="record_id",
            doi="doi",
            link_key=reference_link_key("first_author", "year", "volume", "start_page"),
        )
    )
    refs = parsed["references"]
    by_doi = refs.join(keys.select("doi", "target"), on="doi")
    by_key = refs.join(keys.select("link_key", "target"), on="link_key")
    links = pl.concat([by_doi, by_key]).select("record_id", "ref_pos", "target").unique()
    planted = truth.select(record_id="citing_ut", ref_pos="ref_pos", target="cited_ut")
    # every planted link resolves, and no reference points at a generated record by accident
    assert links.sort(pl.all()).equals(planted.sort(pl.all()))
    resolved_by = refs.join(
        truth, left_on=["record_id", "ref_pos"], right_on=["citing_ut", "ref_pos"]
    )
    assert resolved_by.filter(pl.col("how") == "doi")["doi"].null_count() == 0
    assert (
        resolved_by.filter(pl.col("how") == "aypv")["doi"].null_count()
        == resolved_by.filter(pl.col("how") == "aypv").height
    )
