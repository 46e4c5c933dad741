# Adapter: canonical and normalised tables, review queues -> results/report/.
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.report.render import render_report

run(
    render_report,
    dict(snakemake.input.items()),
    dict(snakemake.output.items()),
    snakemake.params.config,
    snakemake.params.store,
    workers=snakemake.threads - 1,  # the other thread draws the figures meanwhile
)
