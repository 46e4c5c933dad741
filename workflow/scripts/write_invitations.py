# Adapter: the sample -> one letter per person drawn and the mail-merge CSV (all private).
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.sampling.stage import write_invitations

run(
    write_invitations,
    snakemake.input.sample,
    snakemake.input.pool,
    snakemake.input.records,
    snakemake.input.template,
    snakemake.input.countries,
    snakemake.params.title,
    list(snakemake.params.focal_countries),
    dict(snakemake.output.items()),
)
