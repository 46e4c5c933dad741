"""Institution matching: registries (curated and ROR), exact-then-fuzzy matching within a
country block, overrides, review queues, the bundled example and real exports.

Addresses are parsed with the project's own address parser and given countries by
``resolve_countries``, so each case runs the way the workflow will: raw WoS address ->
organisation/sub-organisations/city -> country_recorded -> institution.

The ROR samples in tests/data/ (ror_sample.json, ror_sample.csv: the same twelve records in the
two v2 formats) hold six real universities with their public ROR ids and names, and six
invented records (ids https://ror.org/0example01 ... 06) for the cases real ones do not show: a
withdrawn and an inactive record, a facility, a hospital, a company, a Kosovo (XK) location.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest

from collabscope.normalise.countries import (
    CountryPolicy,
    load_country_table,
    load_region_table,
    resolve_countries,
)
from collabscope.normalise.institutions import (
    INSTITUTION_METHODS,
    NOT_AN_INSTITUTION,
    OUTPUT_COLUMNS,
    REGISTRY_SCHEMA,
    RegistryError,
    combine_registries,
    load_registry,
    load_ror,
    match_institutions,
    normalise_institution_text,
    review_queues,
)
from collabscope.parse.shard import parse_files
from collabscope.parse.wos_address import parse_addresses
from tests.conftest import PROJECT

REGISTRY_DIR = PROJECT / "resources" / "institutions"
INSTITUTIONS = REGISTRY_DIR / "institutions.csv"
TIERS = REGISTRY_DIR / "tiers.csv"
COUNTRY_DIR = PROJECT / "resources" / "countries"
EXAMPLE = PROJECT / "resources" / "example"
DATA = PROJECT / "tests" / "data"
HEADER = "institution_id,name,country,city,aliases,tiers,transnational,parent,kind\n"


@pytest.fixture(scope="module")
def registry() -> pl.DataFrame:
    return load_registry([INSTITUTIONS], [TIERS])


@pytest.fixture(scope="module")
def countries() -> tuple[pl.DataFrame, pl.DataFrame]:
    return load_country_table(COUNTRY_DIR / "countries.csv"), load_region_table(COUNTRY_DIR)


def located(raws: Sequence[str], countries) -> pl.DataFrame:
    """Raw WoS addresses -> the addresses table's columns plus country_recorded."""
    table, regions = countries
    parsed = parse_addresses(pl.DataFrame({"raw": list(raws)}, schema={"raw": pl.String}), "raw")
    return resolve_countries(parsed.lazy(), table, CountryPolicy(), regions=regions).collect()


def match(raws, registry, countries, **kwargs) -> list[dict]:
    frame = located(raws, countries)
    return match_institutions(frame.lazy(), registry, **kwargs).collect().to_dicts()


def ids(raws, registry, countries, **kwargs) -> list[str | None]:
    return [r["institution_id"] for r in match(raws, registry, countries, **kwargs)]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- text --------------------------------------------------------------------------------------


def test_normal_form_ignores_case_punctuation_and_wos_abbreviation():
    pairs = [
        ("UNIV LONDON,INST EDUC", "Univ London Inst Educ"),
        ("Kings Coll London", "King's College London"),
        ("Univ Sci & Technol China", "University of Science and Technology of China"),
        ("E China Normal Univ", "East China Normal University"),
        ("Queen's  University,  Belfast.", "QUEENS UNIV BELFAST"),
        ("Université de Montréal", "UNIVERSITE DE MONTREAL"),
    ]
    frame = pl.DataFrame(pairs, schema=["a", "b"], orient="row")
    out = frame.select(
        a=normalise_institution_text(pl.col("a")), b=normalise_institution_text(pl.col("b"))
    )
    assert out["a"].to_list() == out["b"].to_list()
    assert out["a"][0] == "univ london inst educ"
    assert out["a"][2] == "univ sci technol china"


# --- the curated registry ----------------------------------------------------------------------


def test_bundled_registry_loads(registry):
    assert registry.schema == REGISTRY_SCHEMA
    assert registry.height == 766
    assert registry["institution_id"].is_unique().all()
    ucl = registry.filter(pl.col("institution_id") == "gbr-ucl").row(0, named=True)
    assert "Univ London Inst Educ" in ucl["aliases"] and "russell-group" in ucl["tiers"]
    unnc = registry.filter(pl.col("institution_id") == "chn-unnc").row(0, named=True)
    assert unnc["transnational"] and unnc["parent"] == ["gbr-nottingham"]


def test_later_registry_file_replaces_and_extends(tmp_path, registry):
    extra = write(
        tmp_path / "mine.csv",
        HEADER + "gbr-ucl,University College London (corrected),GBR,London,UCL|Univ Coll London|"
        "Univ London Inst Educ|Inst Educ,russell-group,N,,university\n"
        + "gbr-example-inst,Example Institute of Learning,GBR,Leeds,Example Inst Learning,,N,,"
        "institute\n",
    )
    combined = load_registry([INSTITUTIONS, extra], [TIERS])
    assert combined.height == registry.height + 1
    ucl = combined.filter(pl.col("institution_id") == "gbr-ucl").row(0, named=True)
    assert ucl["name"] == "University College London (corrected)"
    assert ucl["source"] == str(extra)


def test_unknown_tier_names_file_line_institution_and_tier(tmp_path):
    bad = write(
        tmp_path / "bad.csv",
        HEADER
        + "gbr-a,A University,GBR,Aton,A Univ,russell-group,N,,university\n"
        + "gbr-b,B University,GBR,Bton,B Univ,ivy-league,N,,university\n",
    )
    with pytest.raises(RegistryError) as err:
        load_registry([bad], [TIERS])
    message = str(err.value)
    assert str(bad) in message and "line 3" in message
    assert "'gbr-b'" in message and "'ivy-league'" in message


def test_tier_of_another_country_is_refused(tmp_path):
    bad = write(
        tmp_path / "bad.csv", HEADER + "chn-a,A Univ,CHN,X,A Univ,russell-group,N,,university\n"
    )
    with pytest.raises(RegistryError, match="tier 'russell-group' belongs to GBR, not CHN"):
        load_registry([bad], [TIERS])


def test_bad_iso3_is_refused(tmp_path):
    bad = write(
        tmp_path / "bad.csv", HEADER + "uk-a,A University,UK,London,A Univ,,N,,university\n"
    )
    with pytest.raises(RegistryError, match=r"line 2, institution 'uk-a': country 'UK' is not"):
        load_registry([bad], [TIERS])


def test_alias_shared_within_a_country_is_refused_unless_cities_differ(tmp_path):
    clash = write(
        tmp_path / "clash.csv",
        HEADER
        + "gbr-a,A University,GBR,London,A Univ|AU,,N,,university\n"
        + "gbr-b,B University,GBR,London,B Univ|AU,,N,,university\n",
    )
    with pytest.raises(RegistryError) as err:
        load_registry([clash], [TIERS])
    assert "'AU'" in str(err.value) and "'gbr-a'" in str(err.value) and "'gbr-b'" in str(err.value)
    # an alias clash hidden by spelling ('A & B Coll' / 'A and B College') is one too
    spelled = write(
        tmp_path / "spelled.csv",
        HEADER
        + "gbr-a,A University,GBR,London,A & B Coll,,N,,university\n"
        + "gbr-b,B University,GBR,London,A and B College,,N,,university\n",
    )
    with pytest.raises(RegistryError, match="same city"):
        load_registry([spelled], [TIERS])
    # two campuses written alike, told apart by city (as China Univ Petr): allowed
    campuses = write(
        tmp_path / "campuses.csv",
        HEADER
        + "chn-x,X University,CHN,Beijing,X Univ Beijing|X Univ,,N,,university\n"
        + "chn-x-east,X University (East),CHN,Qingdao,X Univ East|X Univ,,N,,university\n",
    )
    assert load_registry([campuses], [TIERS]).height == 2
    # the same alias in two countries is no clash at all
    countries = write(
        tmp_path / "countries.csv",
        HEADER
        + "gbr-n,N University,GBR,Nottingham,Univ N,,N,,university\n"
        + "chn-n,N University China,CHN,Ningbo,Univ N,,Y,gbr-n,university\n",
    )
    assert load_registry([countries], [TIERS]).height == 2


def test_other_malformed_rows(tmp_path):
    cases = {
        "gbr-a,A University,GBR,X,A Univ,,maybe,,university\n": "transnational 'maybe'",
        "gbr-a,A University,GBR,X,A Univ,,N,,castle\n": "kind 'castle'",
        "gbr-a,,GBR,X,A Univ,,N,,university\n": "empty name",
        "chn-a,A University,CHN,X,A Univ,,Y,gbr-nowhere,university\n": "parent 'gbr-nowhere'",
        ("gbr-a,A University,GBR,X,A Univ,,N,,university\n" * 2): "appears twice",
    }
    for i, (rows, expected) in enumerate(cases.items()):
        bad = write(tmp_path / f"bad{i}.csv", HEADER + rows)
        with pytest.raises(RegistryError, match=expected):
            load_registry([bad], [TIERS])
    with pytest.raises(RegistryError, match="file not found"):
        load_registry([tmp_path / "missing.csv"], [TIERS])


# --- exact and alias matching ------------------------------------------------------------------


def test_old_uppercase_and_modern_forms_meet(registry, countries):
    raws = [
        "Univ Oxford, Dept Educ, Oxford OX2 6PY, England",
        "UNIV OXFORD,DEPT EDUC STUDIES,OXFORD OX2 6PY,ENGLAND",
        "Queens Univ Belfast, Sch Educ, Belfast BT7 1NN, Antrim, North Ireland",
        "QUEENS UNIV BELFAST,BELFAST BT7 1NN,ANTRIM,NORTH IRELAND",
        "Beijing Normal Univ, Fac Educ, Beijing 100875, Peoples R China",
        "BEIJING NORMAL UNIV,DEPT PSYCHOL,BEIJING 100875,PEOPLES R CHINA",
        "Xi An Jiao Tong Univ, Sch Management, Xian 710049, Shaanxi, Peoples R China",
    ]
    rows = match(raws, registry, countries)
    got = [r["institution_id"] for r in rows]
    assert got[0] == got[1] == "gbr-oxford"
    assert got[2] == got[3] == "gbr-qub"
    assert got[4] == got[5] == "chn-beijing-normal"
    assert got[6] == "chn-xjtu"
    assert {r["institution_method"] for r in rows} <= {"exact", "alias"}
    assert {r["institution_score"] for r in rows} == {100.0}


def test_ucl_and_the_institute_of_education(registry, countries):
    raws = [
        "UCL, Inst Educ, London WC1H 0AL, England",
        "Univ Coll London, Dept Psychol, London, England",
        "UCL Inst Educ, London, England",
        "UNIV LONDON,INST EDUC,LONDON WC1H 0AL,ENGLAND",  # old form, the combined alias
        "Univ London, Inst Educ, London WC1H 0AL, England",
        "Inst Educ, London WC1H 0AL, England",
        "UNIV LONDON UNIV COLL,DEPT ANAT,LONDON WC1E 6BT,ENGLAND",
        # 'Inst Educ' after another university is that university's department
        "Univ Reading, Inst Educ, Reading RG6 6AH, Berks, England",
        "Unknown Coll, Inst Educ, London, England",
        # the federal university alone
        "Univ London, Senate House, London, England",
    ]
    rows = match(raws, registry, countries)
    got = [r["institution_id"] for r in rows]
    assert got[:7] == ["gbr-ucl"] * 7
    assert got[7] == "gbr-reading"
    assert got[8] is None and rows[8]["institution_method"] == "none"
    assert got[9] == "gbr-univ-london"
    assert rows[0]["institution_method"] == "alias"  # 'UCL'
    assert rows[1]["institution_method"] == "exact"  # the canonical name, abbreviated


def test_sub_organisation_candidates(registry, countries):
    raws = [
        "Lau China Inst, Kings Coll London, London WC2R 2LS, England",
        "Inst Innovat & Publ Purpose, IIPP, UCL, London, England",
        # (an organisation element the registry does not hold, so the sub-organisations are tried)
        "Heart Sci Ctr, Imperial Coll Sci Technol & Med, Natl Heart & Lung Inst, Harefield, "
        "Middx, England",
        "Univ London, Birkbeck Coll, Dept Psychol Sci, London, England",
    ]
    assert ids(raws, registry, countries) == ["gbr-kcl", "gbr-ucl", "gbr-imperial", "gbr-birkbeck"]


def test_matching_stays_within_the_country(registry, countries):
    raws = [
        "Univ Nottingham, Sch Educ, Nottingham NG8 1BB, England",
        "Univ Nottingham, Sch Educ, Ningbo 315100, Zhejiang, Peoples R China",
        "Univ Nottingham Ningbo China, Sch Educ, Ningbo, Zhejiang, Peoples R China",
        "Univ Nottingham, Dept Math, Semenyih, Selangor, Malaysia",
        "Chinese Univ Hong Kong, Fac Educ, Shatin, Hong Kong",
        "Chinese Univ Hong Kong, Fac Educ, Hong Kong, Peoples R China",
        "Univ Edinburgh, Moray House Sch Educ, Edinburgh EH8 8AQ, Midlothian, Scotland",
        "Cardiff Univ, Sch Social Sci, Cardiff CF10 3WT, S Glam, Wales",
    ]
    rows = match(raws, registry, countries)
    assert [r["institution_id"] for r in rows] == [
        "gbr-nottingham",
        "chn-unnc",
        "chn-unnc",
        None,  # no Malaysian row in the registry: never the UK university
        "hkg-cuhk",
        "hkg-cuhk",
        "gbr-edinburgh",
        "gbr-cardiff",
    ]
    assert [r["is_transnational"] for r in rows[:4]] == [False, True, True, False]


def test_campuses_written_alike_are_told_apart_by_city(registry, countries):
    raws = [
        "China Univ Petr, Coll Chem Engn, Qingdao 266580, Shandong, Peoples R China",
        "China Univ Petr, State Key Lab Petr Resources, Beijing 102249, Peoples R China",
        "China Univ Geosci, Sch Earth Sci, Wuhan 430074, Hubei, Peoples R China",
        "China Univ Petr, Dongying 257061, Shandong, Peoples R China",  # neither campus city
    ]
    rows = match(raws, registry, countries)
    assert [r["institution_id"] for r in rows] == [
        "chn-upc",
        "chn-cup-beijing",
        "chn-cug-wuhan",
        None,
    ]
    assert rows[3]["institution_method"] == "none"


def test_joint_institutions_are_transnational(registry, countries):
    raws = [
        "Xian Jiaotong Liverpool Univ, Dept Educ, Suzhou 215123, Jiangsu, Peoples R China",
        "Duke Kunshan Univ, Kunshan, Jiangsu, Peoples R China",
        "NYU Shanghai, Shanghai, Peoples R China",
        "Univ Liverpool, Sch Educ, Liverpool L69 3BX, Merseyside, England",
    ]
    rows = match(raws, registry, countries)
    assert [r["institution_id"] for r in rows] == [
        "chn-xjtlu",
        "chn-duke-kunshan",
        "chn-nyu-shanghai",
        "gbr-liverpool",
    ]
    assert [r["is_transnational"] for r in rows] == [True, True, True, False]


def test_output_keeps_rows_columns_and_schema(registry, countries):
    frame = located(
        [
            "Univ York, York, N Yorkshire, England",
            "Nowhere Inst, Xyz, Peoples R China",
            "Harvard Univ",
        ],
        countries,
    ).with_columns(record_id=pl.Series(["WOS:1", "WOS:2", "WOS:3"]))
    out = match_institutions(frame.lazy(), registry).collect()
    assert out.columns == [*frame.columns, *OUTPUT_COLUMNS.names()]
    assert out.select(OUTPUT_COLUMNS.names()).schema == OUTPUT_COLUMNS
    assert out["record_id"].to_list() == ["WOS:1", "WOS:2", "WOS:3"]
    assert out["institution_method"].to_list() == ["exact", "none", "none"]
    assert out["institution_score"].to_list() == [100.0, None, None]
    assert out["is_transnational"].to_list() == [False, False, False]
    assert set(out["institution_method"]) <= set(INSTITUTION_METHODS)
    with pytest.raises(ValueError, match="lack columns"):
        match_institutions(frame.drop("country_recorded").lazy(), registry)
    with pytest.raises(ValueError, match="already have"):
        match_institutions(out.lazy(), registry)


# --- fuzzy -------------------------------------------------------------------------------------


def test_fuzzy_catches_misspelt_generic_words(registry, countries):
    raws = [
        "Univeristy of Oxford, Dept Educ, Oxford, England",
        "BEIJING NORMAL UNIVERISTY,BEIJING 100875,PEOPLES R CHINA",
        "Hong Kong Potytech Univ, Dept Appl Social Sci, Hong Kong, Peoples R China",
    ]
    rows = match(raws, registry, countries)
    assert [r["institution_id"] for r in rows] == ["gbr-oxford", "chn-beijing-normal", "hkg-polyu"]
    assert {r["institution_method"] for r in rows} == {"fuzzy"}
    assert all(90 <= r["institution_score"] < 100 for r in rows)


# Different institutions a letter or a word apart (several seen in real exports): with the true
# institution absent from the registry, the near one must not be taken, at any cutoff.
NEAR_MISSES = {
    "Beijing Normal Univ, Beijing, Peoples R China": "chn-beijing-normal",
    "Univ Manchester, Manchester M13 9PL, Lancs, England": "gbr-manchester",
    "Henan Normal Univ, Xinxiang, Henan, Peoples R China": "chn-henan-normal",
    "Shanxi Normal Univ, Taiyuan, Shanxi, Peoples R China": None,
    "Wuhan Univ Sci & Technol, Wuhan, Peoples R China": "chn-wust",
    "Inner Mongolia Med Univ, Hohhot, Peoples R China": "chn-immu",
    "Univ Jinan, Jinan, Shandong, Peoples R China": "chn-ujn",
    "Hubei Univ Med, Shiyan, Peoples R China": "chn-hbmu",
    "Chengdu Technol Univ, Chengdu, Peoples R China": None,
    "Univ W London, London, England": "gbr-uwl",
    "Changzhou Univ, Changzhou, Peoples R China": "chn-changzhou",
}


@pytest.mark.parametrize("cutoff", [90.0, 50.0])
def test_fuzzy_is_conservative(registry, countries, cutoff):
    raws = list(NEAR_MISSES)
    absent = {i for i in NEAR_MISSES.values() if i is not None}
    smaller = registry.filter(~pl.col("institution_id").is_in(list(absent)))
    # the near neighbours are in the registry
    for near in ("chn-peking", "gbr-manchester-met", "chn-hunan-normal", "chn-shaanxi-normal",
                 "chn-whut", "chn-inner-mongolia", "chn-jinan", "chn-wuhan", "chn-cdut", "gbr-uel",
                 "chn-zhejiang"):  # fmt: skip
        assert near in set(smaller["institution_id"]), near
    rows = match(raws, smaller, countries, fuzzy_cutoff=cutoff)
    taken = {
        raw: r["institution_id"] for raw, r in zip(raws, rows, strict=True) if r["institution_id"]
    }
    assert taken == {}
    # and with the right rows present each finds its own
    rows = match(raws, registry, countries, fuzzy_cutoff=cutoff)
    found = {raw: r["institution_id"] for raw, r in zip(raws, rows, strict=True)}
    assert found == NEAR_MISSES


PREFIXED = {
    # an institution's name, then a unit of it, in one element
    "Lancaster Univ Management Sch, Dept Org Work & Technol, Lancaster, England": "gbr-lancaster",
    "Peking Univ Canc Hosp & Inst, Dept Oncol, Beijing 100142, Peoples R China": "chn-peking",
    "South China Univ Technol China, Sch Med, Guangzhou, Peoples R China": "chn-scut",
    "Sun Yat Sen Univ Canc Ctr, Guangzhou, Peoples R China": "chn-sun-yat-sen",
    # a name that goes on naming another institution, never
    "Wuhan Univ Technol Hosp, Wuhan, Peoples R China": "chn-whut",
    "Wuhan Univ Sci & Technol Hosp, Wuhan, Peoples R China": "chn-wust",
    # a campus city is not a unit word: left to the review queue
    "Beijing Normal Univ Zhuhai Ctr, Zhuhai, Peoples R China": None,
    # a UK hospital named after a university is an NHS body, never the university
    "Univ Coll London Hosp, London, England": "gbr-uclh",
    "Oxford Univ Hosp NHS Fdn Trust, Oxford, England": "gbr-ouh",
}


def test_prefix_takes_units_written_into_the_name_and_nothing_else(registry, countries):
    rows = match(list(PREFIXED), registry, countries)
    assert {raw: r["institution_id"] for raw, r in zip(PREFIXED, rows, strict=True)} == PREFIXED
    methods = {r["institution_method"] for r in rows if r["institution_id"]}
    assert methods <= {"prefix", "exact", "alias"} and "prefix" in methods
    assert all(r["institution_score"] == 95.0 for r in rows if r["institution_method"] == "prefix")


COLLEGES = {
    "Balliol Coll, Oxford, England": "gbr-oxford",
    "Homerton Coll, Cambridge, England": "gbr-cambridge",
    "Univ Oxford, Nuffield Coll, Oxford OX1 1NF, England": "gbr-oxford",
    # one name, two colleges: the city decides, and no city means no match
    "Jesus Coll, Oxford OX1 3DW, England": "gbr-oxford",
    "Jesus Coll, Cambridge CB5 8BL, England": "gbr-cambridge",
    "Kings Coll, Cambridge CB2 1ST, England": "gbr-cambridge",
    "Kings Coll, London WC2R 2LS, England": "gbr-kcl",
    "Darwin Coll, Canterbury CT2 7NY, Kent, England": "gbr-kent",
    "Trinity Coll, Glasgow G3 6PT, Lanark, Scotland": None,
    "Trinity Coll Dublin, Dublin 2, Ireland": None,
}


def test_oxford_and_cambridge_colleges_are_their_university(registry, countries):
    rows = match(list(COLLEGES), registry, countries)
    assert {raw: r["institution_id"] for raw, r in zip(COLLEGES, rows, strict=True)} == COLLEGES


# --- overrides ---------------------------------------------------------------------------------


def test_overrides_win_over_everything(registry, countries):
    overrides = pl.DataFrame(
        {
            "organisation_text": [
                "Lau China Inst",
                "PUBL HLTH ENGLAND",
                "Univ Oxford",
                "Univ Oxford Nuffield Coll",
            ],
            "institution_id": ["gbr-kcl", NOT_AN_INSTITUTION, NOT_AN_INSTITUTION, "gbr-oxford"],
        }
    )
    raws = [
        "Lau China Inst, London, England",
        "Publ Hlth England, London NW9 5EQ, England",
        "UNIV OXFORD,DEPT EDUC,OXFORD,ENGLAND",
        "Univ Oxford Nuffield Coll, Oxford, England",
        "Univ Cambridge, Cambridge, England",
    ]
    rows = match(raws, registry, countries, overrides=overrides)
    assert [r["institution_id"] for r in rows] == [
        "gbr-kcl",
        None,
        None,
        "gbr-oxford",
        "gbr-cambridge",
    ]
    assert [r["institution_method"] for r in rows] == ["override"] * 4 + ["exact"]
    assert [r["institution_score"] for r in rows] == [100.0] * 5
    assert rows[0]["institution_name"] == "King's College London"


def test_overrides_are_checked(registry, countries):
    frame = located(["Univ York, York, England"], countries).lazy()
    unknown = pl.DataFrame({"organisation_text": ["Univ York"], "institution_id": ["gbr-yrok"]})
    with pytest.raises(RegistryError, match="'gbr-yrok'"):
        match_institutions(frame, registry, overrides=unknown).collect()
    contradictory = pl.DataFrame(
        {"organisation_text": ["Univ York", "UNIV YORK"], "institution_id": ["gbr-york", "gbr-ucl"]}
    )
    with pytest.raises(RegistryError, match="same organisation once normalised"):
        match_institutions(frame, registry, overrides=contradictory).collect()


# --- ROR ---------------------------------------------------------------------------------------


def test_load_ror_reads_json_and_csv_alike():
    from_json = load_ror(DATA / "ror_sample.json")
    from_csv = load_ror(DATA / "ror_sample.csv")
    assert from_json.schema == REGISTRY_SCHEMA
    assert from_json.drop("source").equals(from_csv.drop("source"))
    assert from_json.height == 11  # twelve records, one withdrawn
    assert "https://ror.org/0example03" not in set(from_json["institution_id"])
    rows = {r["institution_id"]: r for r in from_json.iter_rows(named=True)}
    oxford = rows["https://ror.org/052gg0110"]
    assert (oxford["name"], oxford["country"], oxford["city"]) == (
        "University of Oxford",
        "GBR",
        "Oxford",
    )
    assert oxford["aliases"] == ["University of Oxford", "Oxford University"]
    assert set(rows["https://ror.org/02v51f717"]["aliases"]) == {
        "Peking University",
        "北京大学",
        "PKU",
    }
    assert rows["https://ror.org/02zhqgq86"]["country"] == "HKG"
    assert rows["https://ror.org/0example06"]["country"] == "XKX"
    kinds = {i: r["kind"] for i, r in rows.items()}
    assert kinds["https://ror.org/0example01"] == "institute"
    assert kinds["https://ror.org/0example02"] == "hospital"
    assert kinds["https://ror.org/0example04"] == "university"  # inactive: kept
    assert kinds["https://ror.org/0example05"] == "company"
    assert not any(r["transnational"] or r["tiers"] for r in rows.values())


def test_ror_rows_join_the_registry_but_curated_rows_win(registry, countries):
    ror = load_ror(DATA / "ror_sample.json")
    combined = combine_registries(registry, ror)
    ror_ids = set(
        combined.filter(pl.col("source") == str(DATA / "ror_sample.json"))["institution_id"]
    )
    # Oxford, Cambridge, UCL, Peking, Tsinghua and HKU are curated rows already
    assert ror_ids == {f"https://ror.org/0example0{i}" for i in (1, 2, 4, 5, 6)}
    raws = [
        "Univ Oxford, Oxford, England",
        "UCL, London, England",
        "Example Inst Educ Res, Hangzhou 310000, Zhejiang, Peoples R China",
        "EIER, Hangzhou, Peoples R China",
        "Northshire Hosp, Northshire, England",
        "EIER, London, England",  # the acronym belongs to the Chinese record only
    ]
    rows = match(raws, combined, countries)
    assert [r["institution_id"] for r in rows] == [
        "gbr-oxford",
        "gbr-ucl",
        "https://ror.org/0example01",
        "https://ror.org/0example01",
        "https://ror.org/0example02",
        None,
    ]
    assert rows[2]["institution_method"] == "exact"
    assert rows[2]["institution_name"] == "Example Institute of Educational Research"


def test_ror_errors(tmp_path):
    with pytest.raises(RegistryError, match="list of records"):
        load_ror(write(tmp_path / "x.json", '{"id": "x"}'))
    with pytest.raises(RegistryError, match="not a ROR v2 CSV"):
        load_ror(write(tmp_path / "x.csv", "a,b\n1,2\n"))
    record = '[{"id": "https://ror.org/0x", "names": [{"value": "X", "types": ["ror_display"]}],'
    record += ' "locations": [{"geonames_details": {"country_code": "ZZ"}}], "status": "active",'
    record += ' "types": ["education"]}]'
    with pytest.raises(RegistryError, match="'ZZ'"):
        load_ror(write(tmp_path / "bad.json", record))


# --- review queues -----------------------------------------------------------------------------


def test_review_queues_rank_by_records(registry, countries):
    raws = [
        "Nowhere Inst, London, England",  # 1
        "NOWHERE INST,LONDON,ENGLAND",  # 2: same string once normalised
        "Nowhere Inst, Dept X, London, England",  # 2 again, another address of that record
        "Elsewhere Lab, Beijing, Peoples R China",  # 3
        "Aardvark Ctr, Leeds, England",  # 4
        "Univeristy of Oxford, Oxford, England",  # 5: fuzzy
        "Univ York, York, England",  # 6: exact
    ]
    frame = located(raws, countries).with_columns(
        record_id=pl.Series(["W1", "W2", "W2", "W3", "W4", "W5", "W6"])
    )
    matched = match_institutions(frame.lazy(), registry)
    queues = review_queues(matched)
    unmatched = queues.unmatched
    assert unmatched.columns == [
        "organisation",
        "country_recorded",
        "n_records",
        "n_addresses",
        "example_raw",
    ]
    assert unmatched.rows() == [
        ("Nowhere Inst", "GBR-ENG", 2, 3, "NOWHERE INST,LONDON,ENGLAND"),
        ("Aardvark Ctr", "GBR-ENG", 1, 1, "Aardvark Ctr, Leeds, England"),
        ("Elsewhere Lab", "CHN", 1, 1, "Elsewhere Lab, Beijing, Peoples R China"),
    ]
    low = queues.low_confidence
    assert low.columns == [
        "organisation",
        "country_recorded",
        "institution_id",
        "institution_name",
        "score",
        "n_records",
        "n_addresses",
        "example_raw",
    ]
    assert low.select("organisation", "institution_id", "n_records").rows() == [
        ("Univeristy of Oxford", "gbr-oxford", 1)
    ]
    assert review_queues(matched, review_below=50.0).low_confidence.height == 0
    again = review_queues(matched.reverse())
    assert again.unmatched.equals(unmatched) and again.low_confidence.equals(low)


# --- the bundled example -----------------------------------------------------------------------

# The example's truth writes a few canonical names differently from the registry.
TRUTH_NAMES = {
    "Brunel University": "gbr-brunel",
    "Open University - UK": "gbr-open",
    "University of Science & Technology of China, CAS": "chn-ustc",
}


@pytest.fixture(scope="module")
def example(registry, countries) -> pl.DataFrame:
    table, regions = countries
    files = sorted(str(p) for p in (EXAMPLE / "exports").glob("*/*.txt"))
    tables = parse_files({f: ["example"] for f in files})
    resolved = resolve_countries(
        tables["addresses"].lazy(), table, CountryPolicy(), regions=regions
    )
    matched = match_institutions(resolved, registry).collect()
    truth = pl.read_csv(EXAMPLE / "truth" / "addresses.tsv", separator="\t", infer_schema=False)
    truth = truth.with_columns(address_pos=pl.col("position").cast(pl.Int64))
    joined = matched.join(
        truth.select(
            record_id="ut",
            address_pos="address_pos",
            truth_raw="raw",
            truth_country="country",
            truth_institution="institution",
            truth_joint=pl.col("is_joint_institution") == "Y",
        ),
        on=["record_id", "address_pos"],
        how="left",
    )
    assert joined.height == truth.height and (joined["raw"] == joined["truth_raw"]).all()
    key = normalise_institution_text(pl.col("name")).str.replace_all(" ", "")
    names = registry.select("institution_id", _k=key)
    joined = joined.with_columns(
        _k=normalise_institution_text(pl.col("truth_institution")).str.replace_all(" ", "")
    ).join(names.rename({"institution_id": "truth_id"}), on="_k", how="left")
    return joined.with_columns(
        truth_id=pl.coalesce(
            pl.col("truth_institution").replace_strict(TRUTH_NAMES, default=None), "truth_id"
        )
    ).drop("_k")


def test_example_precision_and_recall_on_uk_and_mainland_china(example):
    focal = example.filter(pl.col("truth_country").is_in(["GBR", "CHN"]))
    assert focal.height > 2000
    assert focal["truth_id"].null_count() == 0  # every truth name is a registry institution
    predicted = focal.filter(pl.col("institution_id").is_not_null())
    correct = predicted.filter(pl.col("institution_id") == pl.col("truth_id"))
    precision = correct.height / predicted.height
    recall = correct.height / focal.height
    print(
        f"\nexample, GBR+CHN addresses: {focal.height}; "
        f"precision {precision:.4f}, recall {recall:.4f}"
    )
    assert precision >= 0.98 and recall >= 0.95
    wrong = predicted.filter(pl.col("institution_id") != pl.col("truth_id"))
    assert wrong.height <= 0.02 * predicted.height, wrong.select(
        "raw", "truth_institution", "institution_name"
    )


def test_example_joint_institutions_and_china_uk_papers_resting_on_them(example):
    # the flag agrees with the truth on every address
    assert (example["is_transnational"] == example["truth_joint"]).all()
    assert example["is_transnational"].sum() > 50

    def resting_on_joint(frame: pl.DataFrame, country: str, joint: str) -> set[str]:
        """China–UK papers whose only mainland-China addresses are joint institutions."""
        per_record = frame.group_by("record_id").agg(
            uk=(pl.col(country) == "GBR").any(),
            cn=(pl.col(country) == "CHN").any(),
            cn_not_joint=((pl.col(country) == "CHN") & ~pl.col(joint)).any(),
        )
        china_uk = per_record.filter(pl.col("uk") & pl.col("cn"))
        return set(china_uk.filter(~pl.col("cn_not_joint"))["record_id"])

    affiliations = example.filter(pl.col("kind") == "affiliation")
    ours = resting_on_joint(affiliations, "country", "is_transnational")
    truth = resting_on_joint(affiliations, "truth_country", "truth_joint")
    assert ours == truth and len(ours) > 5


# --- real exports ------------------------------------------------------------------------------

UNIVERSITY_LOOKING = pl.col("organisation").str.contains(r"(?i)\bUNIV\b") & ~pl.col(
    "organisation"
).str.contains(r"(?i)\b(?:HOSP|NHS|TRUST|HLTH|MUSEUM)\b")


@pytest.fixture(scope="module")
def real_matched(realdata: Path, registry, countries) -> pl.DataFrame:
    table, regions = countries
    files = sorted(
        str(p) for folder in ("wos_plain", "wos_tab") for p in (realdata / folder).iterdir()
    )
    addresses = parse_files({f: ["realdata"] for f in files})["addresses"]
    resolved = resolve_countries(addresses.lazy(), table, CountryPolicy(), regions=regions)
    return match_institutions(resolved, registry).collect()


@pytest.mark.realdata
def test_real_exports_uk_and_mainland_china(real_matched):
    floors = {
        "GBR": 0.98,
        "CHN": 0.96,
    }  # of university-looking organisations (measured 0.993, 0.963)
    for country, floor in floors.items():
        frame = real_matched.filter(pl.col("country") == country)
        shares = (
            frame.group_by("institution_method")
            .len()
            .with_columns(share=(100 * pl.col("len") / pl.col("len").sum()).round(2))
            .sort("institution_method")
        )
        print(f"\n{country}: {frame.height} addresses; share per method (%):")
        for method, count, share in shares.iter_rows():
            print(f"  {method:8} {count:6} {share:7.2f}")
        universities = frame.filter(UNIVERSITY_LOOKING)
        matched = (universities["institution_method"] != "none").mean()
        print(f"  university-looking organisations matched: {matched:.4f} of {universities.height}")
        assert matched >= floor
    # spot checks from the real data
    pairs = dict(
        real_matched.filter(pl.col("institution_id").is_not_null())
        .group_by("organisation")
        .agg(pl.col("institution_id").unique())
        .filter(pl.col("institution_id").list.len() == 1)
        .select("organisation", pl.col("institution_id").list.first())
        .iter_rows()
    )
    expected = {
        "UCL": "gbr-ucl",
        "Univ London Imperial Coll Sci Technol & Med": "gbr-imperial",
        "Kings Coll London": "gbr-kcl",
        "Xi An Jiao Tong Univ": "chn-xjtu",
        "Univ Chinese Acad Sci": "chn-ucas",
        "Natl Chiao Tung Univ": "twn-nycu",
        "Hong Kong Potytech Univ": "hkg-polyu",
    }
    assert {k: pairs.get(k) for k in expected} == expected
    # fuzzy stays rare and never crosses the distinctive words
    fuzzy = real_matched.filter(pl.col("institution_method") == "fuzzy")
    assert fuzzy.height < 0.001 * real_matched.height
