"""The sampling stage functions end to end on small tables: privacy (owner-only files, nothing
personal in the logs or public outputs), invitations and their template errors."""

from __future__ import annotations

import csv
import logging
import os
import stat
from pathlib import Path

import polars as pl
import pytest

from collabscope.errors import UserInputError
from collabscope.sampling import stage
from tests.conftest import PROJECT
from tests.unit.sampling_builders import Author, pair_paper, write_tables

RESOURCES = PROJECT / "resources"
TEMPLATE = PROJECT / "config" / "templates" / "invitation.txt.j2"
STRATA = {
    "UK-R": {"country": "GBR", "tier": "russell-group"},
    "UK-NR": {"country": "GBR", "tier_not": "russell-group"},
    "MC-DF": {"country": "CHN", "tier": "double-first-class"},
    "MC-NDF": {"country": "CHN", "tier_not": "double-first-class"},
}
FILTERS = {"min_pair_papers": 1, "require_email": True}


CHINESE = ["Wei", "Lan", "Hong", "Jie", "Min", "Qing", "Yan", "Bo", "Tao", "Fang", "Jun", "Li"]
BRITISH = ["Anna", "Ben", "Clare", "David", "Emma", "Frank", "Grace", "Harry", "Iris", "Jack"]
BRITISH += ["Kate", "Liam"]


def papers() -> list:
    found = []
    for i in range(12):
        cn, uk = CHINESE[i], BRITISH[i]
        found.append(
            pair_paper(
                f"WOS:{i:04d}",
                2005 + i,
                [Author(f"Zhang, {cn[0]}", f"Zhang, {cn}")],
                [Author(f"Hughes, {uk[0]}", f"Hughes, {uk}")],
                chn="chn-beijing-normal" if i % 3 else "chn-ahjzu",
                gbr="gbr-leeds" if i % 2 else "gbr-bath-spa",
                emails=[f"zhang{cn.lower()}@bnu.edu.cn", f"{uk.lower()}.hughes@leeds.ac.uk"],
            )
        )
        found[-1].title = f"Study {i} of learning in two countries"
    return found


def run_all(tmp_path: Path, umask: int = 0o022) -> dict[str, Path]:
    tables = write_tables(papers(), tmp_path / "tables")
    private = tmp_path / "results" / "private"
    out = {
        "pool": private / "pool.parquet",
        "csv": private / "pool.csv",
        "merges": private / "pool_merges.csv",
        "sample": private / "sample.csv",
        "summary": tmp_path / "results" / "sampling" / "summary.csv",
        "invitations": private / "invitations",
        "mail_merge": private / "mail_merge.csv",
    }
    old = os.umask(umask)
    try:
        stage.build_pool(
            tables,
            [RESOURCES / "institutions" / "institutions.csv"],
            [RESOURCES / "institutions" / "tiers.csv"],
            ["CHN", "GBR"],
            "",
            {k: out[k] for k in ("pool", "csv", "merges")},
        )
        stage.draw_sample(
            out["pool"],
            [RESOURCES / "institutions" / "tiers.csv"],
            STRATA,
            2,
            1,
            FILTERS,
            11,
            None,
            {k: out[k] for k in ("sample", "summary")},
        )
        write_letters(tmp_path / "tables", out, TEMPLATE)
    finally:
        os.umask(old)
    return out


def write_letters(tables: Path, out: dict[str, Path], template: Path) -> int:
    return stage.write_invitations(
        out["sample"],
        out["pool"],
        tables / "records.parquet",
        template,
        RESOURCES / "countries" / "countries.csv",
        "A study",
        ["CHN", "GBR"],
        {k: out[k] for k in ("invitations", "mail_merge")},
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_private_directory_is_0700_and_its_files_0600(tmp_path: Path, umask: int) -> None:
    out = run_all(tmp_path, umask)
    private = tmp_path / "results" / "private"
    assert mode(private) == 0o700
    dirs = [p for p in private.rglob("*") if p.is_dir()]
    files = [p for p in private.rglob("*") if p.is_file()]
    assert {d.name for d in dirs} == {"invitations", "reserves"}
    assert all(mode(d) == 0o700 for d in dirs), [(d, oct(mode(d))) for d in dirs]
    assert len(files) > 10
    assert all(mode(f) == 0o600 for f in files), [(f, oct(mode(f))) for f in files]
    assert mode(out["summary"]) & 0o044  # the public summary stays readable


def test_nothing_personal_in_the_summary_or_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        out = run_all(tmp_path)
    pool = pl.read_parquet(out["pool"])
    secrets = set(pool["emails"].explode().drop_nulls()) | set(pool["full_name"])
    secrets |= set(pool["names"].explode()) | set(pool["full_names"].explode())
    secrets |= {s.split(",")[0] for s in pool["full_name"]}  # surnames alone
    assert len(secrets) > 40
    public = out["summary"].read_text(encoding="utf-8") + caplog.text
    assert [s for s in secrets if s.lower() in public.lower()] == []
    assert "UK-R1" in public


def test_invitations_are_rendered_per_person_with_their_papers(tmp_path: Path) -> None:
    out = run_all(tmp_path)
    with open(out["sample"], encoding="utf-8") as handle:
        sample = list(csv.DictReader(handle))
    invitees = [r for r in sample if r["role"] == "invitee"]
    reserves = [r for r in sample if r["role"] == "reserve"]
    assert len(invitees) == 8 and len(reserves) == 4  # 4 strata x (2 + 1)
    letters = sorted(p.name for p in out["invitations"].glob("*.txt"))
    assert letters == sorted(f"{r['code']}.txt" for r in invitees)
    assert sorted(p.name for p in (out["invitations"] / "reserves").glob("*.txt")) == sorted(
        f"{r['code']}.txt" for r in reserves
    )
    first = invitees[0]
    text = (out["invitations"] / f"{first['code']}.txt").read_text(encoding="utf-8")
    assert text.startswith(f"To: {first['email']}\n")
    assert f"({first['code']})" in text
    pool = pl.read_parquet(out["pool"]).filter(pl.col("person_id") == first["person_id"])
    i = int(pool["record_ids"][0][0].split(":")[1])
    assert f"Study {i} of learning in two countries ({2005 + i}, Journal Of Tests)" in text
    partner = "United Kingdom" if first["country"] == "CHN" else "China"
    assert f"based in the partner country ({partner})" in text
    merge = pl.read_csv(out["mail_merge"])
    assert merge["code"].to_list() == [r["code"] for r in invitees]
    assert merge["email"].to_list() == [r["email"] for r in invitees]


def test_a_template_error_names_the_template(tmp_path: Path) -> None:
    out = run_all(tmp_path)
    typo = tmp_path / "letter.txt.j2"
    typo.write_text("Dear {{ invitee.fullname }},\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=r"letter.txt.j2: rendering UK-R1: .*fullname"):
        write_letters(tmp_path / "tables", out, typo)
    typo.write_text("Dear {{ invitee.full_name }\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=r"letter.txt.j2, line 1: template syntax error"):
        write_letters(tmp_path / "tables", out, typo)
