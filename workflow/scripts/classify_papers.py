# Adapter: canonical and normalised tables -> paper classes, country credit, lead disagreements.
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.classify.stage import classify_papers

run(
    classify_papers,
    snakemake.input.records,
    snakemake.input.author_address,
    snakemake.input.addresses,
    list(snakemake.params.focal),
    snakemake.params.lead_rule,
    dict(snakemake.output.items()),
    {k: snakemake.input[k] for k in ("record_works", "work_fields")},
    snakemake.params.store,
)
