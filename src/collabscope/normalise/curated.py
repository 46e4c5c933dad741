"""Reading the curated CSV resources (countries, institutions, funders) and country codes.

One reader and one list splitter serve every registry, so a malformed file gets the same
kind of message whichever registry it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl

from collabscope.parse.text import split_list

# ISO 3166-1 alpha-2 -> alpha-3, and Kosovo's user-assigned XK/XKX (ROR uses GeoNames codes).
_ISO_TEXT = """
AD AND AE ARE AF AFG AG ATG AI AIA AL ALB AM ARM AO AGO AQ ATA AR ARG AS ASM AT AUT AU AUS
AW ABW AX ALA AZ AZE BA BIH BB BRB BD BGD BE BEL BF BFA BG BGR BH BHR BI BDI BJ BEN BL BLM
BM BMU BN BRN BO BOL BQ BES BR BRA BS BHS BT BTN BV BVT BW BWA BY BLR BZ BLZ CA CAN CC CCK
CD COD CF CAF CG COG CH CHE CI CIV CK COK CL CHL CM CMR CN CHN CO COL CR CRI CU CUB CV CPV
CW CUW CX CXR CY CYP CZ CZE DE DEU DJ DJI DK DNK DM DMA DO DOM DZ DZA EC ECU EE EST EG EGY
EH ESH ER ERI ES ESP ET ETH FI FIN FJ FJI FK FLK FM FSM FO FRO FR FRA GA GAB GB GBR GD GRD
GE GEO GF GUF GG GGY GH GHA GI GIB GL GRL GM GMB GN GIN GP GLP GQ GNQ GR GRC GS SGS GT GTM
GU GUM GW GNB GY GUY HK HKG HM HMD HN HND HR HRV HT HTI HU HUN ID IDN IE IRL IL ISR IM IMN
IN IND IO IOT IQ IRQ IR IRN IS ISL IT ITA JE JEY JM JAM JO JOR JP JPN KE KEN KG KGZ KH KHM
KI KIR KM COM KN KNA KP PRK KR KOR KW KWT KY CYM KZ KAZ LA LAO LB LBN LC LCA LI LIE LK LKA
LR LBR LS LSO LT LTU LU LUX LV LVA LY LBY MA MAR MC MCO MD MDA ME MNE MF MAF MG MDG MH MHL
MK MKD ML MLI MM MMR MN MNG MO MAC MP MNP MQ MTQ MR MRT MS MSR MT MLT MU MUS MV MDV MW MWI
MX MEX MY MYS MZ MOZ NA NAM NC NCL NE NER NF NFK NG NGA NI NIC NL NLD NO NOR NP NPL NR NRU
NU NIU NZ NZL OM OMN PA PAN PE PER PF PYF PG PNG PH PHL PK PAK PL POL PM SPM PN PCN PR PRI
PS PSE PT PRT PW PLW PY PRY QA QAT RE REU RO ROU RS SRB RU RUS RW RWA SA SAU SB SLB SC SYC
SD SDN SE SWE SG SGP SH SHN SI SVN SJ SJM SK SVK SL SLE SM SMR SN SEN SO SOM SR SUR SS SSD
ST STP SV SLV SX SXM SY SYR SZ SWZ TC TCA TD TCD TF ATF TG TGO TH THA TJ TJK TK TKL TL TLS
TM TKM TN TUN TO TON TR TUR TT TTO TV TUV TW TWN TZ TZA UA UKR UG UGA UM UMI US USA UY URY
UZ UZB VA VAT VC VCT VE VEN VG VGB VI VIR VN VNM VU VUT WF WLF WS WSM YE YEM YT MYT ZA ZAF
ZM ZMB ZW ZWE XK XKX
"""
_ISO_PAIRS = _ISO_TEXT.split()
ISO2_TO_ISO3: Mapping[str, str] = dict(zip(_ISO_PAIRS[::2], _ISO_PAIRS[1::2], strict=True))
# The 249 officially assigned alpha-3 codes (Kosovo's XKX is user-assigned).
ISO3_CODES = frozenset(code for code in ISO2_TO_ISO3.values() if code != "XKX")


def read_curated_csv(path: Path, columns: Iterable[str], error: type[Exception]) -> pl.DataFrame:
    """The ``columns`` of a curated CSV as text, stripped, empty cells null.

    A missing file, an unreadable one or a missing column raises ``error`` naming the file.
    """
    columns = list(columns)
    if not path.is_file():
        raise error(f"{path}: file not found")
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as problem:
        raise error(f"{path}: not a readable UTF-8 CSV ({problem})") from problem
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise error(f"{path}: missing columns {missing}")
    return frame.select([pl.col(c).str.strip_chars().replace("", None).alias(c) for c in columns])


def split_multi(column: str, separator: str = "|") -> pl.Expr:
    """'a|b| |c' -> ['a', 'b', 'c']; an empty cell -> []."""
    return split_list(pl.col(column).fill_null(""), separator)
