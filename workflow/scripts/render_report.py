# Adapter: canonical tables -> results/report/index.html.
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.report.overview import render_overview

run(render_overview, dict(snakemake.input.items()), snakemake.output.html, snakemake.params.title)
