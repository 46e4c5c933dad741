"""The bundled example study's fictional coded dataset (no real people, no real quotes).

``python -m collabscope.qualitative.example --out resources/example/qualitative`` writes
``participants.csv`` (codes of the example's draw, two participants recruited outside the
pool, one invitee who never answered; fictional name and e-mail columns that the workflow must
drop), ``segments.csv`` and ``coding.qdpx`` (the same coding as a REFI-QDA project). The same
seed gives the same bytes.
"""

# ruff: noqa: E501  (the statements of the fictional interviews read best one a line)
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
from pathlib import Path

from collabscope.qualitative.refi import Code, Source, write_qdpx

SEED = 20240917
QUESTIONS = {
    "Initiation": "Q1 How did your China–UK collaboration begin?",
    "Motivations": "Q2 Why did you collaborate with partners in the other country?",
    "Distribution of responsibilities": "Q3 How were the tasks shared?",
    "Challenges": "Q4 What made the collaboration difficult?",
    "Dissemination": "Q5 How were the results published and shared?",
}
# theme -> code -> fictional statements (written for this example; nobody said them)
BANK: dict[str, dict[str, tuple[str, ...]]] = {
    "Initiation": {
        "Personal contacts": (
            "It started with a former doctoral student who had moved back and kept in touch with us.",
            "A colleague I had shared an office with during a visiting year suggested we write a proposal together.",
        ),
        "Institutional partnership": (
            "Our two universities had signed a memorandum, and the international office asked departments to use it.",
            "The partnership agreement came first; the research projects followed once the exchange of staff began.",
        ),
        "Conference meeting": (
            "We met at a comparative education conference and found we were asking the same questions about assessment.",
        ),
    },
    "Motivations": {
        "Access to funding": (
            "A joint call from the two research councils made the collaboration possible in the first place.",
            "Without the matched funding scheme neither side could have paid for the fieldwork.",
        ),
        "International visibility": (
            "Publishing with a UK partner helps our work reach international journals and readers.",
            "The university counts internationally co-authored papers in its annual review of departments.",
        ),
        "Complementary expertise": (
            "They had the large classroom data set and we had the methods to analyse it; neither could do it alone.",
            "Our partners knew the policy context from the inside, which no amount of reading would give us.",
        ),
    },
    "Distribution of responsibilities": {
        "Data collection": (
            "Fieldwork was done by the team in China because access to schools depends on local relationships.",
            "Each side collected data in its own country using one shared protocol that we agreed in advance.",
        ),
        "Writing and authorship": (
            "The first draft was usually written in English by the UK side, and we agreed authorship order early.",
            "We alternated the lead author between papers so that both early-career researchers had a first-author paper.",
        ),
    },
    "Challenges": {
        "Language": (
            "Translating interview transcripts took months, and some concepts have no exact equivalent.",
            "Writing for English-language journals is a burden that falls unevenly on the Chinese colleagues.",
        ),
        "Ethics and approvals": (
            "The two ethics processes asked for different consent forms, and reconciling them delayed the start.",
        ),
        "Funding rules": (
            "Budgets could not be moved across the border, so each side had to justify its costs separately.",
            "Funding cycles did not match: one grant ended a year before the other began.",
        ),
        "Time and distance": (
            "The eight-hour time difference meant our meetings were always early for one side and late for the other.",
        ),
    },
    "Dissemination": {
        "Journal choice": (
            "We aimed at journals indexed in the Social Sciences Citation Index because both institutions reward them.",
        ),
        "Policy and practice": (
            "A short report in Chinese for the local education bureau had more influence than the journal article.",
            "We presented the findings to head teachers in both countries before the paper was accepted.",
        ),
    },
}
# code, stratum (None: the draw's), role, country, mode, invited, answered (None: no answer)
PARTICIPANTS: tuple[tuple[str, str | None, str, str, str, str, str | None], ...] = (
    ("UK-R1", None, "Professor", "GBR", "face-to-face", "2024-03-04", "2024-03-19"),
    ("UK-R2", None, "Dean", "GBR", "e-mail", "2024-03-04", "2024-03-11"),
    ("UK-R3", None, "Senior lecturer", "GBR", "face-to-face", "2024-03-04", "2024-04-02"),
    ("UK-R4", None, "Professor", "GBR", "e-mail", "2024-03-04", None),
    (
        "UK-NR1",
        None,
        "Director of international office",
        "GBR",
        "e-mail",
        "2024-03-05",
        "2024-03-08",
    ),
    ("UK-NR2", None, "Senior lecturer", "GBR", "online form", "2024-03-05", "2024-03-06"),
    ("MC-DF1", None, "Dean", "CHN", "wechat", "2024-03-06", "2024-03-07"),
    ("MC-DF2", None, "Professor", "CHN", "face-to-face", "2024-03-06", "2024-03-27"),
    ("MC-DF3", None, "Vice-president", "CHN", "wechat", "2024-03-06", "2024-03-09"),
    ("MC-NDF1", None, "Associate professor", "CHN", "wechat", "2024-03-07", "2024-03-08"),
    ("MC-NDF2", None, "Senior education officer", "CHN", "e-mail", "2024-03-07", "2024-03-21"),
    (
        "EXT-1",
        None,
        "Senior international-cooperation expert",
        "AUS",
        "e-mail",
        "2024-03-12",
        "2024-03-20",
    ),
    ("EXT-2", None, "Vice-president", "HKG", "face-to-face", "2024-03-12", "2024-04-08"),
)


def _segments(rng: random.Random) -> list[tuple[str, str, str, str, str]]:
    """(participant, question, code, theme, excerpt): each respondent answers every question
    and raises one to three codes of its theme, or none when the theme does not concern them."""
    rows = []
    for code, _stratum, _role, _country, _mode, _invited, answered in PARTICIPANTS:
        if answered is None:
            continue
        for theme, codes in BANK.items():
            if rng.random() < 0.2:
                continue
            for name in rng.sample(sorted(codes), k=rng.randint(1, min(2, len(codes)))):
                rows.append((code, QUESTIONS[theme], name, theme, rng.choice(codes[name])))
    return rows


def _csv(rows: list[tuple[object, ...]], header: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write_example(out: Path, seed: int = SEED) -> list[Path]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    people = [
        (
            code,
            stratum or "",
            f"Fictional Person {i:02d}",
            f"person{i:02d}@example.org",
            role,
            country,
            mode,
            invited,
            answered or "",
        )
        for i, (code, stratum, role, country, mode, invited, answered) in enumerate(PARTICIPANTS, 1)
    ]
    header = (
        "code",
        "stratum",
        "name",
        "email",
        "role",
        "country",
        "mode",
        "date invited",
        "date answered",
    )
    (out / "participants.csv").write_text(
        "# Fictional participants of the example study: no real people.\n" + _csv(people, header),
        encoding="utf-8",
    )
    rows = _segments(rng)
    (out / "segments.csv").write_text(
        _csv(rows, ("participant", "question", "code", "theme", "excerpt")), encoding="utf-8"
    )
    codes = [Code(theme, [Code(name) for name in sorted(names)]) for theme, names in BANK.items()]
    sources = []
    for code, *_rest in PARTICIPANTS:
        mine = [r for r in rows if r[0] == code]
        if not mine:
            continue
        text, selections, question = "", [], None
        for _p, q, name, _theme, excerpt in mine:
            if q != question:
                text += ("\n\n" if text else "") + f"Interviewer: {q}\n{code}: "
                question = q
            else:
                text += " "
            selections.append((len(text), len(text) + len(excerpt), name))
            text += excerpt
        sources.append(Source(f"Interview {code}", code, text + "\n", selections))
    variables = {p[0]: {"Role": p[2], "Country": p[3]} for p in PARTICIPANTS}
    write_qdpx(out / "coding.qdpx", "collabscope example study", codes, sources, variables)
    created = [out / "participants.csv", out / "segments.csv", out / "coding.qdpx"]
    stamp = dt.date(2024, 4, 10).isoformat()
    (out / "README.md").write_text(
        "# The example study's coded interviews (fictional)\n\n"
        "No real people and no real quotes: every participant, role and statement here was made\n"
        "up for the example by `python -m collabscope.qualitative.example --out "
        "resources/example/qualitative`\n"
        f"(seed {seed}, coding dated {stamp}). `participants.csv` carries fictional name and e-mail\n"
        "columns to show that the workflow drops them; `segments.csv` and `coding.qdpx` (REFI-QDA)\n"
        "hold the same coding.\n",
        encoding="utf-8",
    )
    return created


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    for path in write_example(args.out, args.seed):
        print(path)


if __name__ == "__main__":
    main()
