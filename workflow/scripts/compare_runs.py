# Adapter: this run's tables and indicators -> results/changes/changes.parquet (and its state).
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.changes import compare_runs

run(
    compare_runs,
    {k: snakemake.input[k] for k in ("records", "authorships", "addresses", "accounting")},
    dict(snakemake.params.indicators),
    snakemake.params.state,
    snakemake.output.changes,
    snakemake.params.record_hashes,
)
