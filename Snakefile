# collabscope: bibliographic exports -> canonical tables -> report.
# Run the bundled example with `snakemake --cores all`; your own study with
# `snakemake --cores all --configfile my.yaml` (see README.md).
import sys

from snakemake.utils import min_version, validate

from collabscope.config import config_problems, load_schema

min_version("9.0")


# The example study's config applies only when the user gives none of their own: merged with a
# user's config, the example datasets would silently join their study.
if not config:

    configfile: "config/config.yaml"


CONFIG_SCHEMA = "workflow/schemas/config.schema.yaml"
# Our check first: one line per problem, naming the key. Snakemake's would print the schema.
CONFIG_PROBLEMS = config_problems(config, load_schema(workflow.source_path(CONFIG_SCHEMA)))
for problem in CONFIG_PROBLEMS:
    sys.stderr.write(f"collabscope: error: {problem}\n")
if CONFIG_PROBLEMS:
    sys.exit(1)
validate(config, CONFIG_SCHEMA)  # fills in the schema's defaults


include: "workflow/rules/common.smk"
include: "workflow/rules/parse.smk"
include: "workflow/rules/normalise.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/sampling.smk"
include: "workflow/rules/merge.smk"
include: "workflow/rules/classify.smk"
include: "workflow/rules/qualitative.smk"
include: "workflow/rules/changes.smk"


rule all:
    input:
        list(TABLES.values()),
        NORMALISED_ADDRESSES,
        NORMALISED_FUNDING,
        "results/report/index.html",
        "results/sampling/summary.csv",
        "results/private/invitations",
        "results/private/mail_merge.csv",
        list(MERGE_TABLES.values()),
        list(CLASSIFIED.values()),
        list(INDICATOR_FILES.values()),
        list(QUALITATIVE_FILES.values()) if QUALITATIVE_ON else [],
        CHANGES_TABLE,
    default_target: True
