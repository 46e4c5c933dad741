"""Deterministic synthetic Web of Science exports: the bundled example study and benchmarks.

PLAN (:mod:`.plan`: what each record is) -> REALISE (:mod:`.realise`: its text and ground
truth) -> RENDER (:mod:`.render`: plain-text or tab-delimited files). Everything is drawn from
``random.Random`` instances seeded from the caller's seed (never from hash order, time or
locale), so the same seed gives the same bytes.

    python -m collabscope.synth example --out resources/example [--seed 20011]
    python -m collabscope.synth corpus --out DIR --records N [--per-file 500] [--format plain|tab]
    python -m collabscope.synth marginals --out DIR [--preset figure2] [--seed 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from collabscope.synth.corpus import generate_corpus
from collabscope.synth.example import ExampleParams, ExampleSummary, generate_example_study

__all__ = ["ExampleParams", "ExampleSummary", "generate_corpus", "generate_example_study", "main"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m collabscope.synth", description="Generate synthetic Web of Science exports."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    example = sub.add_parser("example", help="the bundled example study (exports + truth)")
    example.add_argument("--out", type=Path, required=True)
    example.add_argument("--seed", type=int, default=20011)
    corpus = sub.add_parser("corpus", help="a benchmark corpus of any size")
    corpus.add_argument("--out", type=Path, required=True)
    corpus.add_argument("--records", type=int, required=True)
    corpus.add_argument("--per-file", type=int, default=500)
    corpus.add_argument("--format", choices=["plain", "tab"], default="plain")
    corpus.add_argument("--seed", type=int, default=1)
    corpus.add_argument("--workers", type=int, default=None)
    marginals = sub.add_parser("marginals", help="a corpus with given class counts (Figure 2)")
    marginals.add_argument("--out", type=Path, required=True)
    marginals.add_argument("--preset", choices=["figure2"], default="figure2")
    marginals.add_argument("--seed", type=int, default=2)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.command == "marginals":
        from collabscope.synth.marginals import FIGURE2, generate_marginals_corpus

        print(generate_marginals_corpus(args.out, FIGURE2, seed=args.seed))
        return
    if args.command == "example":
        print(generate_example_study(args.out, seed=args.seed))
        return
    files = generate_corpus(
        args.out, args.records, args.per_file, seed=args.seed, fmt=args.format, workers=args.workers
    )
    elapsed = time.perf_counter() - start
    size = sum(f.stat().st_size for f in files)
    print(
        f"{args.records} records in {len(files)} files, {size / 1e6:.1f} MB, {elapsed:.1f} s "
        f"({args.records / elapsed:.0f} records/s, {size / 1e6 / elapsed:.1f} MB/s)",
        file=sys.stdout,
    )
