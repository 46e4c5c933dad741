# Adapter: canonical and normalised tables -> results/private/pool.parquet, .csv, merges.
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.sampling.stage import build_pool

tables = {k: snakemake.input[k] for k in ("authorships", "records", "author_address")}
tables |= {k: snakemake.input[k] for k in ("dataset_records", "addresses")}
tables |= {k: snakemake.input[k] for k in ("record_works", "work_fields")}
run(
    build_pool,
    tables,
    list(snakemake.input.institutions),
    list(snakemake.input.tiers),
    list(snakemake.params.focal_countries),
    snakemake.params.dataset,
    dict(snakemake.output.items()),
    snakemake.params.store,
)
