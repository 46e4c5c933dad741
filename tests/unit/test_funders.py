"""Funder normalisation: registry loading, cleaning, glued WoS names, methods, review queue.

The registry is resources/funders/funders.csv; the rules are in its README and in the module
docstring of collabscope.normalise.funders. The example study's truth and the real exports in
../shared/realdata (skipped when absent) hold the stage to measured figures.
"""

from __future__ import annotations

import csv
import glob
import random
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest
from rapidfuzz import fuzz

from collabscope.normalise.countries import (
    CountryPolicy,
    load_country_table,
    load_region_table,
    resolve_countries,
)
from collabscope.normalise.funders import (
    FUNDER_METHODS,
    OUTPUT_COLUMNS,
    REGISTRY_COLUMNS,
    FunderRegistryError,
    clean_funder_text,
    funder_review_queue,
    load_funder_registry,
    normalise_funder_name,
    normalise_funders,
)
from collabscope.parse.shard import parse_files
from tests.conftest import PROJECT
from tests.unit.test_funder_registry import AMBIGUOUS, FU_NAMES, normalise

REGISTRY = PROJECT / "resources" / "funders" / "funders.csv"
COUNTRY_DIR = PROJECT / "resources" / "countries"
EXAMPLE = PROJECT / "resources" / "example"


@pytest.fixture(scope="module")
def registry() -> pl.DataFrame:
    return load_funder_registry([REGISTRY])


def run(
    raws: Sequence[str | None],
    registry: pl.DataFrame,
    countries: dict[str, Sequence[str]] | None = None,
    record_ids: Sequence[str] | None = None,
    **options: float,
) -> pl.DataFrame:
    """normalise_funders on one funding row per raw string (record r0, r1, ... by default)."""
    ids = list(record_ids) if record_ids is not None else [f"r{i}" for i in range(len(raws))]
    funding = pl.DataFrame(
        {"record_id": ids, "funder_pos": [1] * len(raws), "funder_raw": list(raws)},
        schema={"record_id": pl.String, "funder_pos": pl.Int64, "funder_raw": pl.String},
    )
    record_countries = None
    if countries is not None:
        record_countries = pl.DataFrame(
            [(rec, c) for rec, cs in countries.items() for c in cs],
            schema={"record_id": pl.String, "country": pl.String},
            orient="row",
        ).lazy()
    return normalise_funders(
        funding.lazy(), registry, record_countries=record_countries, **options
    ).collect()


def one(raw: str, registry: pl.DataFrame, **kwargs) -> dict:
    return run([raw], registry, **kwargs).row(0, named=True)


# ------------------------------------------------------------------ text
def test_normalisation_is_the_registry_contract(registry: pl.DataFrame) -> None:
    spellings = [
        s
        for row in registry.iter_rows(named=True)
        for s in [row["name"], *row["acronyms"], *row["aliases"]]
    ]
    spellings += ["Marie Skłodowska-Curie Actions", "Erasmus+", "Fundação Macau", "ŁÓDŹ ß Æ"]
    assert [normalise_funder_name(s) for s in spellings] == [normalise(s) for s in spellings]


def test_clean_funder_text() -> None:
    vocabulary = {"foundation", "national", "china", "development"}
    assert clean_funder_text("EPSRC Funding Source: UKRI") == ("EPSRC", ("UKRI",))
    assert clean_funder_text("Economic &amp; Social Research Council") == (
        "Economic & Social Research Council",
        (),
    )
    assert clean_funder_text("Natural Science Founda-tion of China", vocabulary)[0] == (
        "Natural Science Foundation of China"
    )
    assert clean_funder_text("Start-up Fund of Devel- opment", vocabulary)[0] == (
        "Start-up Fund of Development"
    )
    assert clean_funder_text("国家社会科学基金项目(14BTQ028)")[0] == "国家社会科学基金项目"
    assert clean_funder_text("National Basic Research Program (973 Program) [2014CB340500]") == (
        "National Basic Research Program (973 Program)",
        (),
    )


# ------------------------------------------------------------------ output contract
def test_one_row_out_per_row_in_with_order_and_columns_kept(registry: pl.DataFrame) -> None:
    raws = ["NSFC", None, "Leverhulme Trust", "Unknown Local Charity", "NSFC"]
    out = run(raws, registry)
    assert out.columns == ["record_id", "funder_pos", "funder_raw", *OUTPUT_COLUMNS.names()]
    assert out.schema == pl.Schema(
        {"record_id": pl.String, "funder_pos": pl.Int64, "funder_raw": pl.String, **OUTPUT_COLUMNS}
    )
    assert out["record_id"].to_list() == ["r0", "r1", "r2", "r3", "r4"]
    assert out["funder_id"].to_list() == ["chn-nsfc", None, "gbr-leverhulme", None, "chn-nsfc"]
    assert out["funder_method"].to_list() == ["acronym", "none", "exact", "none", "acronym"]
    assert set(out["funder_method"]) <= set(FUNDER_METHODS)
    assert out["funder_name"][2] == "Leverhulme Trust" and out["funder_country"][2] == "GBR"
    assert out["funder_score"].to_list() == [100.0, None, 100.0, None, 100.0]
    assert out["funder_text"][3] == "unknown local charity"


def test_missing_or_clashing_columns_are_refused(registry: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="lacks columns"):
        normalise_funders(pl.LazyFrame({"funder_raw": ["NSFC"]}), registry)
    clash = pl.LazyFrame({"record_id": ["r"], "funder_raw": ["NSFC"], "funder_id": ["x"]})
    with pytest.raises(ValueError, match="already has columns"):
        normalise_funders(clash, registry)


# ------------------------------------------------------------------ NSFC, glued names, tags
NSFC_SPELLINGS = [
    ("National Natural Science Foundation of China", "exact"),
    ("NSFC", "acronym"),
    ("National Natural Science Foundation of China (NSFC)", "alias"),
    ("National Nature Science Foundation of China", "alias"),
    ("Natural Science Foundation of China", "alias"),
    (
        "National Natural Science Foundation of ChinaNational Natural Science Foundation of China "
        "(NSFC)",
        "exact",
    ),
    (
        "National Natural Science Foundation of China (NSFC)National Natural Science Foundation of "
        "China (NSFC)",
        "alias",
    ),
    ("NSFCNational Natural Science Foundation of China (NSFC)", "alias"),
    (
        "National Science Foundation of ChinaNational Natural Science Foundation of China (NSFC)",
        "alias",
    ),
    ("National Natural Science Founda-tion of China", "exact"),
    ("Young Scientists Fund of the National Natural Science Foundation of China", "alias"),
]


@pytest.mark.parametrize(("raw", "method"), NSFC_SPELLINGS)
def test_nsfc_in_all_its_spellings(raw: str, method: str, registry: pl.DataFrame) -> None:
    row = one(raw, registry)
    assert (row["funder_id"], row["funder_method"], row["funder_also"]) == ("chn-nsfc", method, [])


GLUED = [
    # WoS's own UKRI hierarchy appended to the author's wording: the council, never UKRI
    (
        "ESRCUK Research & Innovation (UKRI)Economic & Social Research Council (ESRC)",
        "gbr-esrc",
        [],
    ),
    (
        "Economic and Social Research CouncilUK Research & Innovation (UKRI)Economic & Social "
        "Research Council (ESRC) Funding Source: researchfish",
        "gbr-esrc",
        [],
    ),
    (
        "Natural Environment Research CouncilUK Research & Innovation (UKRI)Natural Environment "
        "Research Council (NERC) Funding Source: researchfish",
        "gbr-nerc",
        [],
    ),
    (
        "EPSRCUK Research & Innovation (UKRI)Engineering & Physical Sciences Research Council "
        "(EPSRC)",
        "gbr-epsrc",
        [],
    ),
    (
        "Biotechnology and Biological Sciences Research CouncilUK Research & Innovation (UKRI)"
        "Biotechnology and Biological Sciences Research Council (BBSRC)",
        "gbr-bbsrc",
        [],
    ),
    (
        "AHRCUK Research & Innovation (UKRI)Arts & Humanities Research Council (AHRC)",
        "gbr-ahrc",
        [],
    ),
    ("UK Research & Innovation (UKRI)", "gbr-ukri", []),
    # other funders glued the same way
    ("NSFNational Science Foundation (NSF)", "usa-nsf", []),
    ("CNPqNational Council for Scientific and Technological Development (CNPq)", "bra-cnpq", []),
    ("CAPESCAPES", "bra-capes", []),
    ("EUEuropean Commission", "eur-ec", []),
    ("Academy of FinlandAcademy of FinlandEuropean Commission", "fin-aka", ["eur-ec"]),
    ("NCI NIH HHS Funding Source: Medline", "usa-nih", []),
    (
        "National Institutes of HealthUnited States Department of Health & Human Services"
        "National Institutes of Health (NIH) - USA",
        "usa-nih",
        [],
    ),
]


@pytest.mark.parametrize(("raw", "expected", "also"), GLUED)
def test_glued_agency_names_keep_the_most_specific(
    raw: str, expected: str, also: list[str], registry: pl.DataFrame
) -> None:
    row = one(raw, registry)
    assert (row["funder_id"], row["funder_also"]) == (expected, also)
    assert row["funder_method"] in ("exact", "alias", "acronym")


def test_unknown_glued_duplicates_are_reviewed_once(registry: pl.DataFrame) -> None:
    row = one("Gordon and Betty Moore FoundationGordon and Betty Moore Foundation", registry)
    assert row["funder_method"] == "none"
    assert row["funder_text"] == "gordon and betty moore foundation"


@pytest.mark.parametrize(
    ("raw", "expected", "text"),
    [
        ("EPSRC Funding Source: UKRI", "gbr-epsrc", "epsrc"),
        ("Medical Research Council Funding Source: Medline", "gbr-mrc", "medical research council"),
        (
            "Div Of Information & Intelligent Systems Funding Source: National Science Foundation",
            "usa-nsf",
            "national science foundation",
        ),
        ("Some Local Trust Funding Source: researchfish", None, "some local trust"),
        ("Economic &amp; Social Research Council (ESRC)", "gbr-esrc", None),
        ("National Key R&amp;D Program of China", "chn-nkrdp", None),
    ],
)
def test_tags_and_entities(
    raw: str, expected: str | None, text: str | None, registry: pl.DataFrame
) -> None:
    row = one(raw, registry)
    assert row["funder_id"] == expected
    if text is not None:
        assert row["funder_text"] == text


def test_registry_example_names_resolve(registry: pl.DataFrame) -> None:
    """Every FU name the registry's own tests list resolves to its funder here too."""
    out = run([raw for raw, _ in FU_NAMES], registry)
    wrong = [
        (raw, expected, got, method)
        for (raw, expected), got, method in zip(
            FU_NAMES, out["funder_id"], out["funder_method"], strict=True
        )
        if got != expected or method not in ("exact", "alias", "acronym")
    ]
    assert wrong == []


# ------------------------------------------------------------------ shared and confusable names
def test_shared_names_are_ambiguous_without_record_countries(registry: pl.DataFrame) -> None:
    out = run([raw for raw, _ in AMBIGUOUS], registry)
    assert set(out["funder_method"]) == {"ambiguous"}
    assert out["funder_id"].null_count() == out.height
    assert [set(c) for c in out["funder_candidates"]] == [ids for _, ids in AMBIGUOUS]


def test_nsf_is_settled_by_record_countries(registry: pl.DataFrame) -> None:
    records = ["us", "cn", "us_cn", "gb", "none"]
    countries = {"us": ["USA"], "cn": ["CHN"], "us_cn": ["USA", "CHN"], "gb": ["GBR"]}
    out = run(["NSF"] * 5, registry, countries=countries, record_ids=records)
    assert out["funder_id"].to_list() == ["usa-nsf", "chn-nsfc", "usa-nsf", "usa-nsf", "usa-nsf"]
    assert set(out["funder_method"]) == {"acronym"}
    bare = run(["NSF"] * 5, registry, record_ids=records)
    assert set(bare["funder_method"]) == {"ambiguous"}
    assert bare["funder_id"].null_count() == 5
    assert bare["funder_candidates"][0].to_list() == ["usa-nsf", "chn-nsfc"]
    # the full name and NSFC are not confusable
    assert one("National Science Foundation", registry)["funder_id"] == "usa-nsf"
    assert one("NSFC", registry, countries={"r0": ["USA"]})["funder_id"] == "chn-nsfc"


def test_ministry_of_education_needs_exactly_one_fitting_country(registry: pl.DataFrame) -> None:
    records = ["cn", "tw", "cn_tw", "kr"]
    countries = {"cn": ["CHN", "GBR"], "tw": ["TWN"], "cn_tw": ["CHN", "TWN"], "kr": ["KOR"]}
    out = run(["Ministry of Education"] * 4, registry, countries=countries, record_ids=records)
    assert out["funder_id"].to_list() == ["chn-moe", "twn-moe", None, None]
    assert out["funder_method"].to_list() == ["alias", "alias", "ambiguous", "ambiguous"]


# ------------------------------------------------------------------ fuzzy
def test_fuzzy_misspelling_with_its_score(registry: pl.DataFrame) -> None:
    row = one("Economic and Social Reserch Council", registry)
    assert (row["funder_id"], row["funder_method"], row["funder_score"]) == (
        "gbr-esrc",
        "fuzzy",
        98.6,
    )
    assert row["funder_text"] == "economic and social reserch council"
    assert one("Leverhulme Trsut", registry)["funder_score"] == 93.8
    strict = one("Leverhulme Trsut", registry, fuzzy_cutoff=95.0)
    assert (strict["funder_id"], strict["funder_method"]) == (None, "none")


def test_acronyms_never_match_fuzzily(registry: pl.DataFrame) -> None:
    assert fuzz.ratio("tubitakk", "tubitak") >= 92  # it would, were acronyms fuzzy-matched
    for raw in ("TUBITAKK", "ESCR", "NSFCC", "EPSRCC"):
        row = one(raw, registry)
        assert (row["funder_id"], row["funder_method"]) == (None, "none"), raw


def test_fuzzy_respects_distinctive_words(registry: pl.DataFrame) -> None:
    # a look-alike province: matched, but its look-alike is listed for review
    row = one("Natural Science Foundaton of Hubei Province", registry)
    assert (row["funder_id"], row["funder_method"]) == ("chn-hubei-nsf", "fuzzy")
    assert row["funder_candidates"] == ["chn-hubei-nsf", "chn-hebei-nsf"]
    # 'seventh' is FP7's word: FP6's higher-scoring '…sixth framework programme' is not taken
    assert fuzz.ratio(
        "european commission seventh framework programme",
        "european commission sixth framework programme",
    ) > fuzz.ratio(
        "european commission seventh framework programme",
        "european communitys seventh framework programme",
    )
    assert one("European Commission Seventh Framework Programme", registry)["funder_id"] is None
    # a name that only contains a registry name is not matched, but hinted for review
    iran = one("Iran National Science Foundation", registry)
    assert (iran["funder_id"], iran["funder_candidates"]) == (None, ["usa-nsf"])


# ------------------------------------------------------------------ review queue
def test_review_queue_order_and_content(registry: pl.DataFrame) -> None:
    raws = [
        "Zeta Trust",
        "Zeta Trust",
        "Alpha Trust",
        "Alpha Trust",
        "Ministry of Education",
        "Economic and Social Reserch Council",  # fuzzy 98.6: not reviewed
        "Leverhulme Trsut",  # fuzzy 93.8: reviewed
        "Natural Science Foundaton of Hubei Province",  # fuzzy onto a look-alike: reviewed
        "NSFC",
        "Beta Trust",
    ]
    records = ["a", "b", "a", "c", "a", "a", "b", "c", "a", "a"]
    queue = funder_review_queue(run(raws, registry, record_ids=records).lazy())
    assert queue["funder_text"].to_list() == [
        "alpha trust",
        "zeta trust",
        "beta trust",
        "leverhulme trsut",
        "ministry of education",
        "natural science foundaton of hubei province",
    ]
    assert queue["n_records"].to_list() == [2, 2, 1, 1, 1, 1]
    first = queue.row(0, named=True)
    assert (first["methods"], first["n_rows"], first["example_raw"]) == (
        ["none"],
        2,
        "Alpha Trust",
    )
    moe = queue.row(4, named=True)
    assert moe["candidate_ids"] == ["chn-moe", "sgp-moe", "twn-moe"]
    assert moe["methods"] == ["ambiguous"]
    # deterministic: the same queue whatever the row order
    order = list(range(len(raws)))
    random.Random(3).shuffle(order)
    shuffled = run([raws[i] for i in order], registry, record_ids=[records[i] for i in order])
    assert funder_review_queue(shuffled.lazy()).equals(queue)


# ------------------------------------------------------------------ registry loading
HEADER = ",".join(REGISTRY_COLUMNS)


def write_registry(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(REGISTRY_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: "" for c in REGISTRY_COLUMNS} | row)
    return path


def funder(fid: str, country: str, **fields: str) -> dict[str, str]:
    return {"funder_id": fid, "name": fid.upper(), "country": country, "kind": "council"} | fields


def test_user_registries_override_and_extend(tmp_path: Path) -> None:
    user = write_registry(
        tmp_path / "mine.csv",
        [
            funder(
                "gbr-esrc",
                "GBR",
                name="Economic and Social Research Council",
                aliases="Economic and Social Research Council|Social Science Research Council",
                parent="gbr-ukri",
            ),
            funder("gbr-ucl-grand-challenges", "GBR", name="UCL Grand Challenges"),
        ],
    )
    merged = load_funder_registry([REGISTRY, user])
    bundled = load_funder_registry([REGISTRY])
    assert merged.height == bundled.height + 1
    esrc = merged.filter(pl.col("funder_id") == "gbr-esrc").row(0, named=True)
    assert esrc["aliases"] == [
        "Economic and Social Research Council",
        "Social Science Research Council",
    ]
    assert esrc["source"] == str(user)
    out = run(["Social Science Research Council", "UCL Grand Challenges", "ESRC"], merged)
    assert out["funder_id"].to_list() == ["gbr-esrc", "gbr-ucl-grand-challenges", None]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([funder("gbr-x", "GBR", parent="gbr-nope")], "gbr-x: parent 'gbr-nope'"),
        ([funder("gbr-x", "XXX")], "gbr-x: country 'XXX' is not an ISO 3166-1 alpha-3"),
        ([funder("gbr-x", "GBR", kind="club")], "gbr-x: kind 'club'"),
        ([funder("gbr-x", "USA")], "gbr-x: id must start with the country code"),
        ([funder("GBR X", "GBR")], "funder_id 'GBR X'"),
        ([funder("gbr-x", "GBR"), funder("gbr-x", "GBR")], "gbr-x: funder_id appears twice"),
        (
            [
                funder("gbr-a", "GBR", aliases="Same Name"),
                funder("gbr-b", "GBR", acronyms="SAME-NAME"),
            ],
            "gbr-a: 'Same Name' (normalised 'same name') is also a name of gbr-b",
        ),
        (
            [funder("gbr-a", "GBR", ambiguous_with="gbr-b"), funder("gbr-b", "GBR")],
            "gbr-a: ambiguous_with gbr-b, but gbr-b",
        ),
        (
            [funder("gbr-a", "GBR", parent="gbr-b"), funder("gbr-b", "GBR", parent="gbr-a")],
            "parent chain loops",
        ),
        ([funder("gbr-x", "GBR", aliases="---")], "gbr-x: name or alias '---' is empty"),
    ],
)
def test_registry_errors_name_file_funder_and_problem(
    rows: list[dict[str, str]], expected: str, tmp_path: Path
) -> None:
    path = write_registry(tmp_path / "bad.csv", rows)
    with pytest.raises(FunderRegistryError) as caught:
        load_funder_registry([path])
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_registry_errors_across_files_name_the_user_file(tmp_path: Path) -> None:
    # a user alias that the bundled NSFC already claims, without ambiguous_with
    user = write_registry(
        tmp_path / "mine.csv",
        [funder("usa-x", "USA", aliases="Natural Science Foundation of China")],
    )
    with pytest.raises(FunderRegistryError, match=r"mine\.csv.*chn-nsfc|chn-nsfc.*mine\.csv"):
        load_funder_registry([REGISTRY, user])
    missing = tmp_path / "short.csv"
    missing.write_text("funder_id,name\ngbr-x,X\n", encoding="utf-8")
    with pytest.raises(FunderRegistryError, match=r"short\.csv: missing columns"):
        load_funder_registry([missing])
    with pytest.raises(FunderRegistryError, match="file not found"):
        load_funder_registry([tmp_path / "absent.csv"])


# ------------------------------------------------------------------ the example study
# The generator groups a few spellings under one canonical funder that the registry keeps as
# separate (related) rows; each canonical name accepts those ids.
EXAMPLE_FUNDERS = {
    "National Natural Science Foundation of China": {"chn-nsfc"},
    "Economic and Social Research Council": {"gbr-esrc"},
    "National Science Foundation": {"usa-nsf"},
    "Fundamental Research Funds for the Central Universities": {"chn-frfcu"},
    "Zhejiang Provincial Natural Science Foundation": {"chn-zhejiang-nsf"},
    "Beijing Social Science Foundation": {"chn-beijing-ssf"},
    "Australian Research Council": {"aus-arc"},
    # 'General Research Fund' is RGC's scheme, a row of its own with parent hkg-rgc
    "Research Grants Council of Hong Kong": {"hkg-rgc", "hkg-rgc-grf"},
    # written 'National Office for Education Sciences Planning' by the generator
    "National Social Science Fund of China": {"chn-nssfc", "chn-nesp"},
    "China Scholarship Council": {"chn-csc"},
    # 'Humanities and Social Sciences Foundation of the Ministry of Education of China'
    "Ministry of Education of China": {"chn-moe", "chn-moe-hss"},
    "Social Sciences and Humanities Research Council of Canada": {"can-sshrc"},
    # written 'European Research Council' and 'European Commission' by the generator
    "European Union's Horizon 2020 research and innovation programme": {
        "eur-h2020",
        "eur-erc",
        "eur-ec",
    },
    "Ministry of Science and Technology, Taiwan": {"twn-nstc"},
    "Leverhulme Trust": {"gbr-leverhulme"},
    "Spanish Ministry of Economy and Competitiveness": {"esp-mciu"},
    "Ministry of Education, Singapore": {"sgp-moe"},
    "Education Endowment Foundation": {"gbr-eef"},
    "British Academy": {"gbr-british-academy"},
    "Newton Fund": {"gbr-newton-fund"},
    "British Council": {"gbr-british-council"},
    "Arts and Humanities Research Council": {"gbr-ahrc"},
    "Scientific and Technological Research Council of Turkey (TUBITAK)": {"tur-tubitak"},
    "Netherlands Organisation for Scientific Research (NWO)": {"nld-nwo"},
    "Institute of Education Sciences": {"usa-ies"},
    "Global Challenges Research Fund": {"gbr-gcrf"},
    # the generator writes 'Macao Foundation' for this funder; the university is not a row
    "University of Macau": {"mac-fmac"},
    "Nuffield Foundation": {"gbr-nuffield"},
    "William T. Grant Foundation": {"usa-wtgrant"},
    "Spencer Foundation": {"usa-spencer"},
    "German Research Foundation (DFG)": {"deu-dfg"},
    "JSPS KAKENHI": {"jpn-jsps"},
    "Department for Education": {"gbr-dfe"},
    "UK Research and Innovation": {"gbr-ukri"},
    "National Research Foundation of Korea": {"kor-nrf"},
}


def record_countries(addresses: pl.DataFrame) -> pl.LazyFrame:
    table = load_country_table(COUNTRY_DIR / "countries.csv")
    regions = load_region_table(COUNTRY_DIR)
    resolved = resolve_countries(addresses.lazy(), table, CountryPolicy(), regions=regions)
    return resolved.select("record_id", "country").drop_nulls().unique()


def test_example_study_precision(registry: pl.DataFrame) -> None:
    files = sorted(glob.glob(str(EXAMPLE / "exports" / "*" / "*.txt")))
    tables = parse_files({f: ["example"] for f in files})
    out = normalise_funders(
        tables["funding"].lazy(), registry, record_countries=record_countries(tables["addresses"])
    ).collect()
    truth = pl.read_csv(EXAMPLE / "truth" / "funders.tsv", separator="\t", infer_schema=False)
    truth = truth.rename({"ut": "record_id", "raw": "funder_raw"}).select(
        "record_id", "funder_raw", "canonical"
    )
    joined = out.join(truth, on=["record_id", "funder_raw"], how="inner")
    assert joined.height == truth.height == out.height
    assert set(truth["canonical"]) <= set(EXAMPLE_FUNDERS)
    assigned = joined.filter(pl.col("funder_id").is_not_null())
    correct = sum(
        fid in EXAMPLE_FUNDERS[canonical]
        for fid, canonical in zip(assigned["funder_id"], assigned["canonical"], strict=True)
    )
    precision = correct / assigned.height
    recall = correct / joined.height
    print(f"\nexample funders: precision {precision:.4f}, recall {recall:.4f}")
    assert precision >= 0.98
    assert recall >= 0.99  # only the 4 'University of Macau' rows (not in the registry) are left


# ------------------------------------------------------------------ real data
@pytest.mark.realdata
def test_real_wos_funders(realdata: Path, registry: pl.DataFrame) -> None:
    files = sorted(
        str(p) for folder in ("wos_plain", "wos_tab") for p in (realdata / folder).iterdir()
    )
    tables = parse_files({f: ["realdata"] for f in files})
    out = normalise_funders(
        tables["funding"].lazy(), registry, record_countries=record_countries(tables["addresses"])
    ).collect()
    rows = out.filter(pl.col("funder_raw").is_not_null())
    shares = dict(
        rows.group_by("funder_method").agg((pl.len() / rows.height).alias("share")).iter_rows()
    )
    print(f"\nreal WoS funding rows: {rows.height}; share by method:")
    for method in FUNDER_METHODS:
        print(f"  {method:9} {shares.get(method, 0.0):.4f}")
    matched = sum(shares.get(m, 0.0) for m in ("exact", "alias", "acronym", "fuzzy"))
    # Floors measured on ../shared/realdata (November 2026: exact 0.163, alias 0.150, acronym
    # 0.034, fuzzy 0.017, ambiguous 0.0003; matched 0.364); most of the rest are funders the
    # registry does not hold (US DOE offices, NIH institutes, national funders outside its scope).
    assert matched >= 0.36
    assert shares.get("exact", 0) + shares.get("alias", 0) + shares.get("acronym", 0) >= 0.34
    assert shares.get("ambiguous", 0.0) <= 0.002

    # WoS's glued UKRI hierarchy always comes out as the council, never as UKRI
    councils = rows.filter(
        pl.col("funder_raw").str.contains(
            r"\(UKRI\)(?:Economic|Engineering|Natural Environment|Biotechnology|Medical|Arts)"
        )
    )
    assert councils.height >= 100
    assert councils["funder_id"].null_count() == 0
    assert "gbr-ukri" not in set(councils["funder_id"])
    # entries naming NSFC outright have NSFC as funder or in funder_also, or are left for review
    # (whole acknowledgement sentences, 'National Natural Science Foundation of China (Guangxi
    # Power Grid Co,.Ltd)'); none is given another funder alone
    nsfc = rows.filter(
        pl.col("funder_raw").str.contains("National Natural Science Foundation of China")
    )
    has_nsfc = (pl.col("funder_id") == "chn-nsfc") | pl.col("funder_also").list.contains("chn-nsfc")
    found = nsfc.filter(has_nsfc.fill_null(False))
    rest = nsfc.filter(~has_nsfc.fill_null(False))
    print(f"  NSFC entries resolved: {found.height}/{nsfc.height}")
    assert found.height / nsfc.height >= 0.97
    assert set(rest["funder_method"]) <= {"none"}
