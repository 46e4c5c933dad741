# collabscope: bibliographic exports -> canonical tables -> report.
# Run the bundled example with `snakemake --cores all`; your own study with
# `snakemake --cores all --configfile my.yaml` (see README.md).
from snakemake.utils import min_version, validate

min_version("9.0")


# The example study's config applies only when the user gives none of their own: merged with a
# user's config, the example datasets would silently join their study.
if not config:

    configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/parse.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        list(TABLES.values()),
        "results/report/index.html",
    default_target: True
