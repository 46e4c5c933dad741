# Adapter: participants sheet, coded data, draw summary, indicators -> results/qualitative/.
from collabscope.stage import run, start

start(snakemake.threads, snakemake.log[0])
from collabscope.qualitative.stage import analyse_qualitative

inputs = dict(snakemake.input.items())
inputs["segments"] = list(snakemake.input.segments)
run(
    analyse_qualitative,
    inputs,
    dict(snakemake.output.items()),
    list(snakemake.params.focal),
    snakemake.params.dataset,
    snakemake.params.quotes_per_theme,
)
