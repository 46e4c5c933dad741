# Adapter: paper classes and tables -> every indicator (Parquet + CSV) and the citation links.
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.classify.stage import compute_indicators

run(
    compute_indicators,
    dict(snakemake.input.items()),
    list(snakemake.params.focal),
    [dict(period) for period in snakemake.params.periods],
    dict(snakemake.params.settings),
    dict(snakemake.output.items()),
    snakemake.params.store,
)
