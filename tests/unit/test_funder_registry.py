"""The curated funder registry (resources/funders/funders.csv): well formed, resolves real FU names.

The registry is data for the coming funder-normalisation stage. These tests hold it to its contract
(columns, ids, countries, parents, shared names only between funders marked ambiguous with each
other) and check that funder names written the way they appear in Web of Science FU fields and CSSCI
fund fields, grant numbers stripped and text normalised as resources/funders/README.md describes,
are aliases of the funder a reader would name.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.unit.test_registries import ISO3

REGISTRY = Path(__file__).resolve().parents[2] / "resources" / "funders" / "funders.csv"
COLUMNS = [
    "funder_id",
    "name",
    "country",
    "acronyms",
    "aliases",
    "parent",
    "kind",
    "ambiguous_with",
]
KINDS = {"government", "council", "charity", "university", "company", "international"}


def words(text: str) -> list[str]:
    return text.split()


COUNTRIES = ISO3 | {"EUR", "INT"}
LIST_COLUMNS = ("acronyms", "aliases", "ambiguous_with")

# ------------------------------------------------------------------ normalisation (README contract)
_GRANT_BRACKETS = re.compile(r"\[[^\]]*\]")
# CSSCI writes grant numbers in parentheses: 国家社会科学基金项目(14BTQ028). A parenthesised group
# holding a digit and no lowercase letter is a grant number; "(NSFC)" and "(973 Program)" are kept.
_GRANT_PARENS = re.compile(r"\((?=[^()]*\d)[^()a-z]*\)")
_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ß": "ss", "æ": "ae"})
_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[\W_]+")


def strip_grants(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return _GRANT_PARENS.sub(" ", _GRANT_BRACKETS.sub(" ", text))


def normalise(text: str) -> str:
    """NFKC, case-fold, fold diacritics, & -> and, + -> plus, drop apostrophes and punctuation."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = unicodedata.normalize("NFC", text)
    text = text.replace("&", " and ").replace("+", " plus ")
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


# ------------------------------------------------------------------ loading and checks
Row = dict[str, str]


def split_list(value: str) -> list[str]:
    return value.split("|") if value else []


def load() -> list[Row]:
    with REGISTRY.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, strict=True))


def names_of(row: Row) -> list[str]:
    return [row["name"], *split_list(row["acronyms"]), *split_list(row["aliases"])]


def name_index(rows: Iterable[Row]) -> dict[str, set[str]]:
    """Normalised name, acronym or alias -> ids of the funders that claim it."""
    index: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for name in names_of(row):
            index[normalise(name)].add(row["funder_id"])
    return index


def resolve(fu_name: str, index: dict[str, set[str]]) -> set[str]:
    return index.get(normalise(strip_grants(fu_name)), set())


def problems(rows: list[Row]) -> list[str]:
    """Every violation of the registry contract, as readable lines; empty when the data is sound."""
    out: list[str] = []
    ids = [r["funder_id"] for r in rows]
    known = set(ids)
    out += [f"duplicate id {i}" for i in sorted(known) if ids.count(i) > 1]
    by_id = {r["funder_id"]: r for r in rows}
    for row in rows:
        fid, country = row["funder_id"], row["country"]
        if any(v is None for v in row.values()) or None in row:
            out.append(f"{fid}: wrong number of fields")
            continue
        for col, value in row.items():
            if value != value.strip():
                out.append(f"{fid}: {col} has surrounding whitespace")
        if country not in COUNTRIES:
            out.append(f"{fid}: country {country!r} is not ISO 3166-1 alpha-3, EUR or INT")
        if not re.fullmatch(r"[a-z]{3}(-[a-z0-9]+)+", fid) or fid[:3] != country.lower():
            out.append(f"{fid}: id must be <lower-case country>-<slug>")
        if not row["name"]:
            out.append(f"{fid}: empty name")
        if row["kind"] not in KINDS:
            out.append(f"{fid}: kind {row['kind']!r}")
        for col in LIST_COLUMNS:
            items = split_list(row[col])
            if any(not i or i != i.strip() for i in items):
                out.append(f"{fid}: {col} has an empty or padded item")
        spellings = [normalise(n) for n in split_list(row["acronyms"]) + split_list(row["aliases"])]
        if "" in spellings:
            out.append(f"{fid}: an alias or acronym normalises to nothing")
        repeated = sorted({s for s in spellings if spellings.count(s) > 1})
        if repeated:
            out.append(f"{fid}: aliases repeat after normalisation: {repeated}")
        parent = row["parent"]
        if parent and (parent not in known or parent == fid):
            out.append(f"{fid}: parent {parent!r} is not another funder in the registry")
        for other in split_list(row["ambiguous_with"]):
            if other not in known or other == fid:
                out.append(f"{fid}: ambiguous_with {other!r} is not another funder")
            elif fid not in split_list(by_id[other]["ambiguous_with"]):
                out.append(f"{fid}: ambiguous_with {other} but not the other way round")
    for fid in ids:  # parent chains end
        seen, cur = set(), fid
        while cur in by_id and by_id[cur]["parent"] and cur not in seen:
            seen.add(cur)
            cur = by_id[cur]["parent"]
        if cur in seen:
            out.append(f"{fid}: parent chain loops")
    for spelling, owners in sorted(name_index(rows).items()):
        for a in sorted(owners):
            marked = set(split_list(by_id[a]["ambiguous_with"]))
            missing = owners - {a} - marked
            if missing:
                out.append(
                    f"{spelling!r} is claimed by {a} and {sorted(missing)} "
                    "without ambiguous_with between them"
                )
    if [(r["country"], r["funder_id"]) for r in rows] != sorted(
        (r["country"], r["funder_id"]) for r in rows
    ):
        out.append("rows are not sorted by country, then funder_id")
    return out


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return load()


@pytest.fixture(scope="module")
def index(rows: list[Row]) -> dict[str, set[str]]:
    return name_index(rows)


# ------------------------------------------------------------------ structure
def test_header_is_exact() -> None:
    with REGISTRY.open(encoding="utf-8", newline="") as handle:
        assert next(csv.reader(handle)) == COLUMNS


def test_file_is_plain_utf8_with_unix_newlines() -> None:
    raw = REGISTRY.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no byte-order mark"
    assert b"\r" not in raw
    assert raw.endswith(b"\n") and not raw.endswith(b"\n\n")
    raw.decode("utf-8")


def test_at_least_120_funders(rows: list[Row]) -> None:
    assert len(rows) >= 120


def test_registry_satisfies_its_contract(rows: list[Row]) -> None:
    assert problems(rows) == []


REQUIRED = words(
    """
chn-nsfc chn-nssfc chn-moe chn-moe-hss chn-csc chn-frfcu chn-most chn-nkrdp chn-cpsf chn-nesp
chn-shanghai-pujiang chn-shanghai-shuguang
gbr-ukri gbr-esrc gbr-epsrc gbr-ahrc gbr-mrc gbr-bbsrc gbr-nerc gbr-stfc gbr-innovate-uk
gbr-research-england gbr-british-academy gbr-british-council gbr-newton-fund gbr-gcrf
gbr-leverhulme gbr-wellcome gbr-nihr gbr-nuffield gbr-royal-society gbr-rse gbr-eef gbr-dfe
gbr-sfc gbr-hefce gbr-ofs gbr-carnegie-trust
eur-ec eur-erc eur-h2020 eur-horizon-europe eur-fp7 eur-msca eur-erasmus-plus
usa-nsf usa-nih usa-ies usa-spencer usa-wtgrant usa-gates usa-mellon
hkg-rgc hkg-ugc hkg-rgc-grf hkg-rgc-ecs mac-fdct twn-nstc
aus-arc can-sshrc deu-dfg nld-nwo jpn-jsps kor-nrf tur-tubitak esp-mciu esp-aei fin-aka nor-rcn
swe-vr che-snsf prt-fct fra-anr sgp-moe int-world-bank
"""
)
PROVINCES = words(
    "beijing shanghai guangdong jiangsu zhejiang hubei sichuan shandong chongqing tianjin "
    "hunan fujian shaanxi"
)
REQUIRED += [f"chn-{p}-{k}" for p in PROVINCES for k in ("nsf", "ssf")]


def test_named_funders_are_present(rows: list[Row]) -> None:
    missing = sorted(set(REQUIRED) - {r["funder_id"] for r in rows})
    assert missing == []


UMBRELLAS = {
    **dict.fromkeys(
        words(
            "gbr-esrc gbr-epsrc gbr-ahrc gbr-mrc gbr-bbsrc gbr-nerc gbr-stfc gbr-innovate-uk "
            "gbr-research-england"
        ),
        "gbr-ukri",
    ),
    **dict.fromkeys(
        words("eur-erc eur-h2020 eur-horizon-europe eur-fp7 eur-msca eur-erasmus-plus"), "eur-ec"
    ),
    "chn-moe-hss": "chn-moe",
    "chn-nkrdp": "chn-most",
    "hkg-rgc": "hkg-ugc",
    "hkg-rgc-grf": "hkg-rgc",
    "hkg-rgc-ecs": "hkg-rgc",
    "usa-ies": "usa-ed",
}


def test_umbrella_bodies(rows: list[Row]) -> None:
    parents = {r["funder_id"]: r["parent"] for r in rows}
    assert {fid: parents.get(fid) for fid in UMBRELLAS} == UMBRELLAS


def test_aliases_are_self_contained(rows: list[Row]) -> None:
    """A consumer reading only the aliases column still finds each funder's canonical name."""
    lacking = [
        r["funder_id"]
        for r in rows
        if normalise(r["name"]) not in {normalise(a) for a in split_list(r["aliases"])}
    ]
    assert lacking == []


def test_chinese_funders_carry_chinese_names_for_cssci(rows: list[Row]) -> None:
    han = re.compile(r"[\u4e00-\u9fff]")
    lacking = [
        r["funder_id"]
        for r in rows
        if r["country"] == "CHN" and not any(han.search(a) for a in split_list(r["aliases"]))
    ]
    assert lacking == []


# ------------------------------------------------------------------ real-looking FU names
FU_NAMES = [
    ("National Natural Science Foundation of China [71774012]", "chn-nsfc"),
    ("National Natural Science Foundation of China (NSFC) [71834001, 72004016]", "chn-nsfc"),
    ("National Nature Science Foundation of China [31500380]", "chn-nsfc"),
    ("Natural Science Foundation of China [41671157]", "chn-nsfc"),
    ("National Science Foundation of China (NSFC) [71771174, 71531011]", "chn-nsfc"),
    ("NSFC [71673013]", "chn-nsfc"),
    ("Chinese National Natural Science Foundation", "chn-nsfc"),
    ("国家自然科学基金项目(71271056)", "chn-nsfc"),
    ("National Social Science Fund of China [19BSH025]", "chn-nssfc"),
    ("National Social Science Foundation of China [17CGL054]", "chn-nssfc"),
    ("国家社会科学基金重大项目(15ZDA039)", "chn-nssfc"),
    (
        "MOE (Ministry of Education in China) Project of Humanities and Social Sciences [18YJC880]",
        "chn-moe-hss",
    ),
    (
        "Humanities and Social Sciences Planning Foundation of Chinese Ministry of Education",
        "chn-moe-hss",
    ),
    ("教育部人文社会科学研究青年基金项目(15YJCZH057)", "chn-moe-hss"),
    ("National Educational Science Planning Project [DIA190409]", "chn-nesp"),
    ("全国教育科学规划课题", "chn-nesp"),
    ("Ministry of Education of China [17JZD044]", "chn-moe"),
    ("Fundamental Research Funds for the Central Universities", "chn-frfcu"),
    ("Fundamental Research Funds for the Central Universities [2018NTSS02]", "chn-frfcu"),
    ("中央高校基本科研业务费专项资金项目(JBK1902055)", "chn-frfcu"),
    ("China Scholarship Council [201806040092]", "chn-csc"),
    ("Chinese Scholarship Council (CSC)", "chn-csc"),
    ("China Postdoctoral Science Foundation [2016M590285]", "chn-cpsf"),
    ("中国博士后科学基金资助项目(2015M570123)", "chn-cpsf"),
    ("National Key R&D Program of China [2018YFB1004300]", "chn-nkrdp"),
    ("National Key Research and Development Program of China [2017YFC0803300]", "chn-nkrdp"),
    ("National Basic Research Program of China (973 Program) [2014CB340500]", "chn-973"),
    ("111 Project [B17032]", "chn-111"),
    ("Beijing Natural Science Foundation [9182008]", "chn-beijing-nsf"),
    ("Natural Science Foundation of Jiangsu Province [BK20171358, BK20150613]", "chn-jiangsu-nsf"),
    ("Zhejiang Provincial Natural Science Foundation of China [LY18G030011]", "chn-zhejiang-nsf"),
    (
        "Natural Science Basic Research Plan in Shaanxi Province of China [2018JM7003]",
        "chn-shaanxi-nsf",
    ),
    (
        "Guangdong Basic and Applied Basic Research Foundation [2019A1515011269]",
        "chn-guangdong-nsf",
    ),
    ("Natural Science Foundation of Hubei Province [2018CFB123]", "chn-hubei-nsf"),
    ("Natural Science Foundation of Hebei Province", "chn-hebei-nsf"),
    (
        "Natural Science Foundation of Chongqing, China [cstc2019jcyj-msxmX0123]",
        "chn-chongqing-nsf",
    ),
    ("陕西省社会科学基金项目(2016N005)", "chn-shaanxi-ssf"),
    ("江苏省社会科学基金项目(14TQC002)", "chn-jiangsu-ssf"),
    ("Shanghai Philosophy and Social Sciences Planning Project [2019BJY007]", "chn-shanghai-ssf"),
    ("Beijing Social Science Foundation [17JYB012]", "chn-beijing-ssf"),
    ("Zhejiang Educational Science Planning Project [2019SCG123]", "chn-zhejiang-esp"),
    ("Shanghai Pujiang Program [17PJC054]", "chn-shanghai-pujiang"),
    (
        "Shuguang Program of Shanghai Education Development Foundation and Shanghai Municipal "
        "Education Commission [18SG27]",
        "chn-shanghai-shuguang",
    ),
    (
        "Science and Technology Commission of Shanghai Municipality [15DZ1204800]",
        "chn-shanghai-stcsm",
    ),
    (
        "Priority Academic Program Development of Jiangsu Higher Education Institutions (PAPD)",
        "chn-jiangsu-papd",
    ),
    ("Economic and Social Research Council (ESRC) [ES/P005292/1]", "gbr-esrc"),
    ("Economic and Social Research Council [ES/N01166X/1]", "gbr-esrc"),
    ("Economic & Social Research Council (ESRC)", "gbr-esrc"),
    ("ESRC [ES/L002779/1]", "gbr-esrc"),
    ("UK Research & Innovation (UKRI)", "gbr-ukri"),
    ("Research Councils UK [EP/K011790/1]", "gbr-ukri"),
    ("Engineering and Physical Sciences Research Council [EP/R512217/1]", "gbr-epsrc"),
    ("Arts & Humanities Research Council (AHRC) [AH/R004617/1]", "gbr-ahrc"),
    ("Medical Research Council UK (MRC)", "gbr-mrc"),
    ("Biotechnology and Biological Sciences Research Council (BBSRC)", "gbr-bbsrc"),
    ("Natural Environment Research Council [NE/S012478/1]", "gbr-nerc"),
    ("Science and Technology Facilities Council", "gbr-stfc"),
    ("Technology Strategy Board", "gbr-innovate-uk"),
    ("Innovate UK [104251]", "gbr-innovate-uk"),
    ("Research England", "gbr-research-england"),
    ("British Academy [SG171427]", "gbr-british-academy"),
    ("British Council", "gbr-british-council"),
    ("Newton Fund [261860266]", "gbr-newton-fund"),
    ("Global Challenges Research Fund (GCRF) [ES/P011055/1]", "gbr-gcrf"),
    ("Leverhulme Trust [RPG-2018-062]", "gbr-leverhulme"),
    ("Wellcome Trust [108903/B/15/Z]", "gbr-wellcome"),
    ("National Institute for Health Research (NIHR)", "gbr-nihr"),
    ("Nuffield Foundation [EDO/43402]", "gbr-nuffield"),
    ("Royal Society [IE160565]", "gbr-royal-society"),
    ("Royal Society of Edinburgh", "gbr-rse"),
    ("Education Endowment Foundation", "gbr-eef"),
    ("Department for Education", "gbr-dfe"),
    ("Scottish Funding Council", "gbr-sfc"),
    ("Higher Education Funding Council for England (HEFCE)", "gbr-hefce"),
    ("Office for Students", "gbr-ofs"),
    ("Carnegie Trust for the Universities of Scotland", "gbr-carnegie-trust"),
    ("European Research Council (ERC) [716417]", "eur-erc"),
    ("European Union's Horizon 2020 research and innovation programme [732027]", "eur-h2020"),
    ("Horizon Europe Framework Programme (HORIZON) [101060742]", "eur-horizon-europe"),
    ("European Union Seventh Framework Programme (FP7) [320115]", "eur-fp7"),
    ("Marie Skłodowska-Curie Actions [798257]", "eur-msca"),
    ("Marie Sklodowska-Curie grant agreement [754411]", "eur-msca"),
    ("Erasmus+ Programme of the European Union [2017-1-UK01-KA203-036737]", "eur-erasmus-plus"),
    ("European Commission", "eur-ec"),
    ("European Union", "eur-ec"),
    ("National Science Foundation [DRL-1813760]", "usa-nsf"),
    ("Direct For Education and Human Resources", "usa-nsf"),
    ("Division Of Research On Learning", "usa-nsf"),
    ("National Institutes of Health [R01HD087384]", "usa-nih"),
    (
        "Eunice Kennedy Shriver National Institute of Child Health and Human Development [HD04]",
        "usa-nichd",
    ),
    ("Institute of Education Sciences, U.S. Department of Education [R305A150027]", "usa-ies"),
    ("Spencer Foundation [201800026]", "usa-spencer"),
    ("William T. Grant Foundation", "usa-wtgrant"),
    ("Bill and Melinda Gates Foundation [OPP1144]", "usa-gates"),
    ("Andrew W. Mellon Foundation", "usa-mellon"),
    (
        "Research Grants Council of the Hong Kong Special Administrative Region, China [14601415]",
        "hkg-rgc",
    ),
    ("General Research Fund [17608418]", "hkg-rgc-grf"),
    ("Early Career Scheme [27611416]", "hkg-rgc-ecs"),
    ("University Grants Committee of Hong Kong", "hkg-ugc"),
    ("Science and Technology Development Fund, Macau SAR [0024/2018/A1]", "mac-fdct"),
    ("Ministry of Science and Technology, Taiwan [MOST 106-2511-S-003-027-MY3]", "twn-nstc"),
    ("Taiwan National Science Council [MOST 104-2221-E-259-029-MY3]", "twn-nstc"),
    ("Ministry of Education, Taiwan", "twn-moe"),
    ("Australian Research Council [DP180100256]", "aus-arc"),
    (
        "Social Sciences and Humanities Research Council of Canada (SSHRC) [435-2016-0489]",
        "can-sshrc",
    ),
    ("Deutsche Forschungsgemeinschaft (DFG) [GR 1863/15-1]", "deu-dfg"),
    ("German Research Foundation (DFG)", "deu-dfg"),
    ("Netherlands Organization for Scientific Research (NWO) [016.Vidi.185.007]", "nld-nwo"),
    ("JSPS KAKENHI [JP17K04877]", "jpn-jsps"),
    ("Grants-in-Aid for Scientific Research", "jpn-jsps"),
    ("National Research Foundation of Korea (NRF) [NRF-2018S1A5A2A03035786]", "kor-nrf"),
    ("Scientific and Technological Research Council of Turkey (TUBITAK) [115K531]", "tur-tubitak"),
    ("Türkiye Bilimsel ve Teknolojik Araştırma Kurumu", "tur-tubitak"),
    ("Spanish Ministry of Economy and Competitiveness [EDU2015-64593-R]", "esp-mciu"),
    ("MCIN/AEI/10.13039/501100011033 [PID2020-114640GB-I00]", "esp-aei"),
    ("Academy of Finland [316876]", "fin-aka"),
    ("Research Council of Norway [259210]", "nor-rcn"),
    ("Swedish Research Council [2016-03858]", "swe-vr"),
    ("Swiss National Science Foundation (SNSF) [100019_173131]", "che-snsf"),
    ("Fundacao para a Ciencia e a Tecnologia (FCT) [UID/CED/00194/2019]", "prt-fct"),
    ("Agence Nationale de la Recherche (ANR) [ANR-17-CE28-0010]", "fra-anr"),
    ("Singapore Ministry of Education Academic Research Fund [RG 67/16]", "sgp-moe"),
    ("World Bank", "int-world-bank"),
]


@pytest.mark.parametrize(("fu_name", "expected"), FU_NAMES, ids=[e for _, e in FU_NAMES])
def test_fu_name_resolves_to_one_funder(
    fu_name: str, expected: str, index: dict[str, set[str]]
) -> None:
    assert resolve(fu_name, index) == {expected}


AMBIGUOUS = [
    ("Ministry of Education", {"chn-moe", "twn-moe", "sgp-moe"}),
    ("MOE", {"chn-moe", "twn-moe", "sgp-moe"}),
    ("教育部", {"chn-moe", "twn-moe"}),
    ("Ministry of Science and Technology", {"chn-most", "twn-nstc"}),
    ("MOST", {"chn-most", "twn-nstc"}),
    ("National Research Foundation", {"kor-nrf", "sgp-nrf", "zaf-nrf"}),
    ("NRF", {"kor-nrf", "sgp-nrf", "zaf-nrf"}),
    ("UGC", {"hkg-ugc", "ind-ugc"}),
    ("HEA", {"gbr-advance-he", "irl-hea"}),
]


@pytest.mark.parametrize(("fu_name", "expected"), AMBIGUOUS, ids=[n for n, _ in AMBIGUOUS])
def test_shared_names_list_every_candidate(
    fu_name: str, expected: set[str], index: dict[str, set[str]]
) -> None:
    assert resolve(fu_name, index) == expected


@pytest.mark.parametrize(
    ("fu_name", "expected", "confusable"),
    [
        ("NSF [DRL-1660805]", "usa-nsf", "chn-nsfc"),
        ("National Science Foundation", "usa-nsf", "chn-nsfc"),
        ("National Institutes of Health Research", "gbr-nihr", "usa-nih"),
        ("Natural Science Foundation of Shanxi Province", "chn-shanxi-nsf", "chn-shaanxi-nsf"),
        ("Royal Society of New Zealand", "nzl-rsnz", "gbr-royal-society"),
    ],
)
def test_confusable_names_resolve_but_are_flagged(
    fu_name: str, expected: str, confusable: str, rows: list[Row], index: dict[str, set[str]]
) -> None:
    assert resolve(fu_name, index) == {expected}
    by_id = {r["funder_id"]: r for r in rows}
    assert confusable in split_list(by_id[expected]["ambiguous_with"])


@pytest.mark.parametrize(
    "fu_name",
    [
        "Department of Education",
        "Natural Science Foundation",
        "Research Council",
        "University of Oxford",
        "Education Bureau",
        "Spanish Government",
        "UK government",
    ],
)
def test_generic_names_are_left_unmatched(fu_name: str, index: dict[str, set[str]]) -> None:
    assert resolve(fu_name, index) == set()


# ------------------------------------------------------------------ the checks themselves can fail
def test_normalise_and_strip_grants() -> None:
    assert normalise(strip_grants("Economic & Social Research Council (ESRC) [ES/P005292/1]")) == (
        "economic and social research council esrc"
    )
    assert normalise(strip_grants("国家社会科学基金项目（14BTQ028）")) == "国家社会科学基金项目"
    assert normalise(strip_grants("National Basic Research Program of China (973 Program)")) == (
        "national basic research program of china 973 program"
    )
    assert normalise("Marie Skłodowska-Curie Actions") == "marie sklodowska curie actions"
    assert normalise("European Union's Horizon 2020") == "european unions horizon 2020"
    assert normalise("Erasmus+") == "erasmus plus"


def _row(fid: str, country: str, **fields: str) -> Row:
    base = dict.fromkeys(COLUMNS, "")
    base.update(funder_id=fid, name=fid.upper(), country=country, kind="council")
    base.update(fields)
    return base


@pytest.mark.parametrize(
    ("bad_rows", "expected"),
    [
        ([_row("aaa-x", "AAA")], "country 'AAA'"),
        ([_row("gbr-x", "GBR", parent="gbr-y")], "parent 'gbr-y'"),
        ([_row("gbr-x", "GBR", kind="club")], "kind 'club'"),
        ([_row("gbr-x", "USA")], "id must be"),
        ([_row("gbr-x", "GBR", aliases="A B|a-b")], "repeat after normalisation"),
        ([_row("gbr-x", "GBR"), _row("gbr-x", "GBR")], "duplicate id"),
        ([_row("usa-b", "USA"), _row("gbr-a", "GBR")], "not sorted"),
        ([_row("gbr-a", "GBR", aliases="Same"), _row("gbr-b", "GBR", aliases="SAME")], "without"),
        ([_row("gbr-a", "GBR", ambiguous_with="gbr-b"), _row("gbr-b", "GBR")], "other way round"),
        (
            [_row("gbr-a", "GBR", parent="gbr-b"), _row("gbr-b", "GBR", parent="gbr-a")],
            "loops",
        ),
    ],
)
def test_contract_check_catches_broken_rows(bad_rows: list[Row], expected: str) -> None:
    assert any(expected in p for p in problems(bad_rows)), problems(bad_rows)


def test_mutually_ambiguous_shared_name_passes() -> None:
    ok = [
        _row("gbr-a", "GBR", aliases="Same", ambiguous_with="gbr-b"),
        _row("gbr-b", "GBR", aliases="same", ambiguous_with="gbr-a"),
    ]
    assert problems(ok) == []
