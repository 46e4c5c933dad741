"""Ground truth of the example study (``truth/*.tsv``) and its README.

What a correct pipeline must find, record by record: dataset memberships, years, countries of
every address under the default policy (UK nations -> GBR; Hong Kong, Macau, Taiwan separate
from mainland China), canonical institutions and funders, planted citation links, and what
each export file holds. Values are plain text; lists are comma-separated; Y/N for flags.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from collabscope.synth.plan import BRACKET, NO_C1, PLAIN, UPPER, PaperPlan
from collabscope.synth.realise import Record

if TYPE_CHECKING:
    from collabscope.synth.example import ExampleSummary, ExportFile

DATASET_ORDER = ("world", "china", "uk", "china_uk", "citing")
RECORD_COLUMNS = (
    "ut",
    "datasets",
    "year",
    "year_source",
    "doc_type",
    "n_authors",
    "n_addresses",
    "first_address_country",
    "countries",
    "is_international",
    "lead_country",
    "lead_rule",
    "first_author_country",
    "corresponding_country",
    "first_author_is_corresponding",
    "highly_cited",
    "hot_paper",
    "times_cited",
    "doi",
    "quirks",
)


def _yn(flag: bool) -> str:
    return "Y" if flag else "N"


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\t", " ").replace("\n", " ")


def _tsv(path: Path, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> int:
    lines = ["\t".join(columns)]
    lines.extend("\t".join(_cell(v) for v in row) for row in rows)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


def lead_position(plan: PaperPlan) -> int | None:
    """C1 index the default lead rule picks from the text (None without C1).

    With author links: the first C1 address listing the first author; without: the first C1
    address.
    """
    if plan.c1 == NO_C1 or not plan.addresses:
        return None
    if plan.c1 == BRACKET and plan.authors:
        return min(plan.authors[0].affiliations)
    return 0


def record_quirks(record: Record, in_world_twice: bool) -> list[str]:
    """Planted and structural oddities of one record, for tests to find examples of."""
    plan, fields = record.plan, record.fields
    quirks = list(plan.quirks)

    def add(name: str) -> None:
        if name not in quirks:
            quirks.append(name)

    if plan.c1 == NO_C1:
        add("c1_missing")
    elif plan.c1 in (PLAIN, UPPER):
        add("c1_unlinked")
    c1 = [a for a in record.addresses if a.kind == "affiliation"]
    rp = [a for a in record.addresses if a.kind == "reprint"]
    if len(c1) > 1:
        add("multi_address")
        if len({a.country for a in c1}) == 1:
            add("domestic_multi_institution")
    if len(rp) > 1:
        add("rp_multi_address")
    if "RP" in fields:
        if not plan.rp_named:
            add("rp_no_name")
        elif "(reprint author)" in str(fields["RP"]):
            add("rp_reprint_style")
        else:
            add("rp_corresponding_style")
    else:
        add("rp_missing")
    if plan.corresponding and plan.corresponding[0] != 0:
        add("rp_not_first_author")
        lead = lead_position(plan)
        if rp and lead is not None and rp[0].country != c1[lead].country:
            add("rp_other_country_than_lead")
    if plan.early_access == "ea_only":
        add("early_access_no_py")
    elif plan.early_access:
        add("early_access_with_py")
    if record.funders:
        add("funding")
        if any(f.raw != f.canonical for f in record.funders):
            add("funder_variant")
    if plan.highly_cited:
        add("highly_cited")
    if plan.hot_paper:
        add("hot_paper")
    if str(fields.get("EM", "")).count("@") > 1:
        add("emails_multi")
    if len(plan.authors) == 1:
        add("single_author")
        if len({a.country for a in c1}) > 1:
            add("single_author_international")
    if plan.group_author:
        add("institutional_author")
    title = str(fields.get("TI", ""))
    if "<script>" in title:
        add("script_title")
    if "<img" in title:
        add("img_title")
    if plan.extra_tags or "CT" in fields:
        add("unknown_tag")
    if plan.year < 2006 and fields.get("AU") and fields.get("AU") == fields.get("AF"):
        add("af_equals_au")
    if not str(fields.get("AU", "")).isascii():
        add("accented_name")
    if in_world_twice:
        add("duplicate_in_world")
    if record.cited:
        add("cites_china_uk")
    return quirks


def write_truth(
    out_dir: Path,
    plans: list[PaperPlan],
    records: dict[str, Record],
    files: list[ExportFile],
) -> int:
    truth = out_dir / "truth"
    world_count = Counter(
        r.ut for f in files if f.dataset == "world" for r, broken in f.entries if not broken
    )
    rows = []
    address_rows = []
    funder_rows = []
    citation_rows = []
    for plan in sorted(plans, key=lambda q: q.ut):
        record = records[plan.ut]
        c1 = [a for a in record.addresses if a.kind == "affiliation"]
        rp = [a for a in record.addresses if a.kind == "reprint"]
        lead = lead_position(plan)
        first_author = (
            plan.addresses[plan.authors[0].affiliations[0]].country if plan.authors else ""
        )
        rows.append(
            (
                plan.ut,
                ",".join(d for d in DATASET_ORDER if d in plan.datasets),
                plan.year,
                "EA" if plan.early_access == "ea_only" else "PY",
                record.fields["DT"],
                len(record.fields.get("AU", [])),
                len(c1),
                c1[0].country if c1 else "",
                ",".join(a.country for a in c1),
                _yn(len({a.country for a in c1}) > 1) if c1 else "",
                c1[lead].country if lead is not None else "",
                ("first_author_address" if plan.c1 == BRACKET else "first_c1_address")
                if lead is not None
                else "none",
                first_author,
                rp[0].country if rp else "",
                _yn(0 in plan.corresponding) if rp and plan.rp_named else "",
                _yn(plan.highly_cited),
                _yn(plan.hot_paper),
                plan.times_cited,
                record.doi or "",
                ",".join(record_quirks(record, world_count[plan.ut] > 1)),
            )
        )
        for a in record.addresses:
            address_rows.append(
                (
                    plan.ut,
                    a.position,
                    a.kind,
                    a.raw,
                    a.country_text or "",
                    a.country,
                    a.institution,
                    _yn(a.joint),
                )
            )
        for f in record.funders:
            funder_rows.append((plan.ut, f.position, f.raw, f.canonical, ",".join(f.grants)))
        for ref_pos, cited, how in record.cited:
            citation_rows.append((plan.ut, ref_pos, cited, how))
    size = _tsv(truth / "records.tsv", RECORD_COLUMNS, rows)
    size += _tsv(
        truth / "addresses.tsv",
        (
            "ut",
            "position",
            "kind",
            "raw",
            "country_as_written",
            "country",
            "institution",
            "is_joint_institution",
        ),
        address_rows,
    )
    size += _tsv(
        truth / "funders.tsv", ("ut", "position", "raw", "canonical", "grants"), funder_rows
    )
    size += _tsv(
        truth / "citations.tsv", ("citing_ut", "ref_pos", "cited_ut", "how"), citation_rows
    )

    # What each file holds, and what a reader keeping the first occurrence (files in path
    # order, then line) must report for it.
    seen: set[str] = set()
    expected: dict[str, tuple[int, int, int]] = {}
    for f in sorted(files, key=lambda f: f.path):
        parsed = duplicates = quarantined = 0
        for record, broken in f.entries:
            if broken:
                quarantined += 1
            elif record.ut in seen:
                duplicates += 1
            else:
                seen.add(record.ut)
                parsed += 1
        expected[f.path] = (parsed, duplicates, quarantined)
    file_rows = []
    for f in files:
        parsed, duplicates, quarantined = expected[f.path]
        file_rows.append(
            (
                f.path,
                f.dataset,
                f.fmt,
                f.encoding,
                f.eol,
                f.header,
                len(f.entries),
                f.duplicates_planted,
                sum(1 for _, broken in f.entries if broken),
                parsed,
                duplicates,
                quarantined,
            )
        )
    size += _tsv(
        truth / "files.tsv",
        (
            "file",
            "dataset",
            "format",
            "encoding",
            "line_endings",
            "header",
            "records_written",
            "duplicates_planted",
            "broken_planted",
            "expected_parsed",
            "expected_duplicates",
            "expected_quarantined",
        ),
        file_rows,
    )
    return size


_README = """\
# The bundled example study (generated: do not edit)

Synthetic Web of Science exports for a China–UK education study, 2001–2020, with their ground
truth. Every record, person, e-mail address, grant number and DOI is invented; institutions,
journals and funders are real names written the way Web of Science writes them. Regenerate with

```sh
python -m collabscope.synth example --out resources/example
```

The same seed gives the same bytes (a test regenerates this folder and compares).

## Datasets (`exports/<dataset>/`)

| dataset | distinct records | what |
|---|---|---|
| world | {world} | a sample of world education papers (Article, Review) |
| china | {china} | every mainland-China-participated paper (not Hong Kong, Macau, Taiwan) |
| uk | {uk} | every UK-participated paper (England, Scotland, Wales, North Ireland) |
| china_uk | {china_uk} | both; each also in the china and uk exports, some in world |
| citing | {citing} | papers citing the china_uk papers (to 2023, any subject) |

{n_records} distinct records (UTs) in all. China–UK papers per period: {periods}.

## Files

| file | format | encoding | line endings | records | note |
|---|---|---|---|---|---|
{file_rows}

A China–UK paper is written into several exports (china, uk, china_uk, sometimes world): a
reader keeping the first occurrence of each UT (files in path order, then line) reports the
later ones as duplicates; `truth/files.tsv` gives the expected parsed / duplicate / quarantined
counts per file.

**Exactly one record is deliberately broken**: in `exports/world/savedrecs.txt` one record was
written without its `UT` line, so it cannot be identified and must go to quarantine (the
example's quarantine table is therefore never empty). It is not in `truth/records.tsv`.

## Planted cases (column `quirks` of `truth/records.tsv`)

- Hong Kong: `hk_old` ('…, Shatin, Hong Kong'), `hk_city_country` ('…, Hong Kong, Hong Kong'),
  `hk_prc` ('…, Shatin, Hong Kong, Peoples R China'), `hk_double` ('…, Hong Kong, Hong Kong,
  Peoples R China'); Macau: `macau_old`, `macau_prc` ('…, Taipa, Macao, Peoples R China');
  `taiwan`. True countries HKG, MAC, TWN.
- UK nations: `uk_england`, `uk_scotland`, `uk_wales`, `uk_north_ireland` (all GBR).
- Traps: `trap_new_south_wales` (Univ New S Wales, Australia), `trap_new_england` (Univ New
  England, Australia), `trap_scotland_street` (1001 Scotland Dr, Bowling Green, OH USA),
  `trap_beth_israel` (Beth Israel Deaconess Med Ctr, Boston), `trap_china_med_univ_taiwan`,
  `trap_lau_china_inst` (Lau China Inst, Kings Coll London); `joint_institution` (Univ
  Nottingham Ningbo China, Xian Jiaotong Liverpool Univ, Duke Kunshan Univ, NYU Shanghai:
  mainland China).
- Addresses: `c1_upper` (old 'UNIV LONDON,INST EDUC,LONDON WC1H 0AL,ENGLAND'), `us_no_country`
  (old US address ending 'CA 94305'), `c1_unlinked` (no [author] brackets, before 2008),
  `c1_missing`, `multi_address`, `domestic_multi_institution`, `c1_first_not_first_author`.
- Reprint/corresponding: `rp_reprint_style`, `rp_corresponding_style`, `rp_multi_address`,
  `rp_not_first_author`, `rp_other_country_than_lead`, `rp_no_name`, `rp_missing`.
- Records: `early_access_no_py` (EA, no PY: the year is EA's), `early_access_with_py`,
  `funding`, `funder_variant` (NSFC, National Natural Science Foundation of China (NSFC), ESRC
  …), `highly_cited`, `hot_paper`, `emails_multi`, `single_author`,
  `single_author_international`, `institutional_author` (CA), `accented_name`, `af_equals_au`
  (before 2006), `unknown_tag` (SI, PN, SU, CT/CY/CL), `script_title` and `img_title` (HTML in
  titles: escape it), `duplicate_in_world`, `cites_china_uk`.

## Truth files (`truth/`, tab-separated, UTF-8)

- `records.tsv`: one row per distinct record: datasets; year (EA's when there is no PY) and its
  source; doc type; numbers of authors and of C1 addresses; ISO3 country of the first C1 address
  and of every C1 address in order (UK nations -> GBR; HKG, MAC, TWN separate); whether it is
  international; the lead country by the default rule (the first C1 address listing the first
  author; the first C1 address when there are no author links) and the rule applied; the first
  author's true country; the corresponding author's country (first RP address); whether the
  first author is the corresponding author (empty when the RP names nobody); HC, HP, times
  cited, DOI, quirks.
- `addresses.tsv`: every address as written (C1 positions first, then RP, as `address_pos` in
  the addresses table), without the final full stop (tab-delimited exports omit it), with the
  country as written (the last element; empty when none is written), the true country, the
  canonical institution and whether it is a Sino-foreign joint institution.
- `funders.tsv`: every FU funder as written, its canonical name and its grant numbers.
- `citations.tsv`: planted links from a record's cited references (`ref_pos` in its CR) to a
  china_uk record, by `doi` or by `aypv` (first author, year, volume, first page).
- `files.tsv`: each export file's format, encoding, line endings, header or column layout,
  records written, duplicates and broken records planted, and the parsed / duplicate /
  quarantined counts a reader must report.
"""


def write_readme(out_dir: Path, summary: ExampleSummary, plans: list[PaperPlan]) -> int:
    per_period: Counter[str] = Counter()
    for plan in plans:
        if "china_uk" in plan.datasets:
            start = (plan.year - 2001) // 5 * 5 + 2001
            per_period[f"{start}–{start + 4}"] += 1
    rows = []
    for f in summary.files:
        notes = []
        if f.header == "thomson":
            notes.append("old header `FN Thomson Reuters Web of Science™`, no DA, no HC/HP")
        if f.header in ("modern71", "classic68"):
            notes.append(f"tab-delimited, {f.header} column layout")
        if f.duplicates_planted:
            notes.append(f"overlaps the previous download by {f.duplicates_planted} record")
        broken = sum(1 for _, b in f.entries if b)
        if broken:
            notes.append(f"{broken} broken record (no UT line): must be quarantined")
        rows.append(
            f"| `{f.path}` | {f.fmt} | {f.encoding} | {f.eol} | {len(f.entries)} "
            f"| {'; '.join(notes)} |"
        )
    text = _README.format(
        **summary.records,
        n_records=summary.n_records,
        periods=", ".join(f"{k}: {v}" for k, v in sorted(per_period.items())),
        file_rows="\n".join(rows),
    )
    data = text.encode("utf-8")
    (out_dir / "README.md").write_bytes(data)
    return len(data)
