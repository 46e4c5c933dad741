# Helpers shared by the rules. Cheap: they list files, never read them.
import sys
from pathlib import Path

from collabscope import schemas
from collabscope.errors import UserInputError
from collabscope.parse.decode import sniff_export
from collabscope.sharding import assign_shards, code_version, expand_exports
from collabscope.tableio import table_path

SRC = Path(workflow.basedir) / "src" / "collabscope"


def _user_error(error):
    # One line naming what is wrong, no traceback: this is the user's to fix, not ours.
    sys.stderr.write(f"collabscope: error: {error}\n")
    sys.exit(1)


try:
    FILE_DATASETS = expand_exports(config["datasets"])
    for path in FILE_DATASETS:
        sniff_export(path)  # most bad files stop the run here, before any job starts
except UserInputError as error:
    _user_error(error)
SHARDS = assign_shards(FILE_DATASETS, config["parse"]["shards"])
SHARD_IDS = [f"{shard:04d}" for shard in SHARDS]

PARSE_CODE = code_version(
    [*SRC.joinpath("parse").glob("*.py"), SRC / "schemas.py", SRC / "tableio.py"]
)
COMBINE_CODE = code_version([SRC / "combine.py", SRC / "schemas.py", SRC / "tableio.py"])
# The report also reclassifies papers under the other country policies (classify/) and keeps
# per-shard tallies whose tables are declared in schemas.py.
REPORT_CODE = code_version(
    [
        *SRC.joinpath("report").glob("*.py"),
        *SRC.joinpath("templates").glob("*"),
        *SRC.joinpath("classify").glob("*.py"),
        SRC / "normalise" / "countries.py",
        SRC / "schemas.py",
        SRC / "tableio.py",
        SRC / "parts.py",
    ]
)

NORMALISE_CODE = code_version(
    [*SRC.joinpath("normalise").glob("*.py"), SRC / "schemas.py", SRC / "tableio.py", SRC / "parts.py"]
)

# records and its child tables are manifests of the shards' files (see collabscope.combine).
TABLES = {t.name: str(table_path("results/tables", t)) for t in schemas.CANONICAL_TABLES}
# Addresses with country and institution: a manifest of parts, one per shard, each normalised
# again only when its shard or the normalisation inputs change (collabscope.parts).
NORMALISED_ADDRESSES = "results/normalised/addresses.parts.json"
NORMALISED_FUNDING = "results/normalised/funding.parts.json"
# Each stage that keeps per-shard results has its own folder of results/parts/, which only its
# rule reads and writes (Snakemake deletes a job's outputs before it runs the job).
NORMALISED_ADDRESS_STORE = "results/parts/normalised_addresses"
NORMALISED_FUNDING_STORE = "results/parts/normalised_funding"
RECORD_HASH_STORE = "results/parts/record_hashes"
REPORT_STORE = "results/parts/report"
# One folder per parse shard: its files' tokens (collabscope.parse.shard.TokenCache).
TOKEN_CACHE = "results/parts/parse_exports"
# Curated resources ship with the workflow, wherever the user's working directory is.
RESOURCES = Path(workflow.basedir) / "resources"
COUNTRY_FILES = sorted(str(p) for p in (RESOURCES / "countries").glob("*.csv"))
# The bundled funder registry first, then the user's, which extend or correct it.
FUNDER_REGISTRIES = [str(RESOURCES / "funders" / "funders.csv"), *config["normalise"]["funder_registries"]]


def threads_for(store):
    """Threads of a stage that keeps per-shard results in ``store``: two while the store is
    empty (a first build computes every shard), then one. A refresh computes a shard or two, so
    its jobs are short and mostly single-threaded; on one thread each, two of them share two
    cores (the pool beside the classification and the indicators) rather than queue for both.
    A settings edit that computes every shard again then runs on one thread: about a third
    slower for that stage, and never a different result."""

    def threads(wildcards):
        return 1 if any(Path(store).rglob("*.parquet")) else 2

    return threads


def shard_files(wildcards):
    """{file: [datasets]} of one shard."""
    return SHARDS[int(wildcards.shard)]


def dataset_specs():
    """Dataset descriptions for the tables, without anything a parse job depends on."""
    return {
        name: {
            "exports": list(spec["exports"]),
            "description": spec.get("description", ""),
            "query": spec.get("query", ""),
        }
        for name, spec in config["datasets"].items()
    }


def institution_inputs(wildcards):
    """Registries (bundled first, then the user's), tiers, and the optional ROR dump and
    overrides: files, so that editing one reruns normalisation."""
    normalise = config["normalise"]
    inputs = {
        "institutions": [
            str(RESOURCES / "institutions" / "institutions.csv"),
            *normalise["institution_registries"],
        ],
        "tiers": [str(RESOURCES / "institutions" / "tiers.csv"), *normalise["tier_registries"]],
    }
    if normalise["ror_dump"]:
        inputs["ror"] = normalise["ror_dump"]
    if normalise["overrides"]:
        inputs["overrides"] = normalise["overrides"]
    return inputs


# --- sampling ----------------------------------------------------------------------------------
SAMPLING_CODE = code_version(
    [
        *SRC.joinpath("sampling").glob("*.py"),
        SRC / "classify" / "works.py",
        SRC / "normalise" / "institutions.py",
        SRC / "normalise" / "curated.py",
        SRC / "schemas.py",
        SRC / "tableio.py",
        SRC / "parts.py",
    ]
)
# Each pool paper's authorships, keys and e-mails per shard (collabscope.sampling.stage.
# build_pool): names and e-mails, so under results/private/ (owner-only), not results/parts/.
POOL_STORE = "results/private/parts/build_pool"
if config["sampling"]["dataset"] and config["sampling"]["dataset"] not in config["datasets"]:
    _user_error(
        f"config sampling.dataset: {config['sampling']['dataset']!r} is not a dataset "
        f"(datasets: {', '.join(sorted(config['datasets']))})"
    )
# The user's letter, or the bundled one, wherever the working directory is.
INVITATION_TEMPLATE = config["sampling"]["invitation_template"] or str(
    Path(workflow.basedir) / "config" / "templates" / "invitation.txt.j2"
)


def registry_inputs(wildcards):
    """The institution registries and tier lists (bundled first, then the user's)."""
    inputs = institution_inputs(wildcards)
    return {"institutions": inputs["institutions"], "tiers": inputs["tiers"]}


def exclusion_inputs(wildcards):
    """The user's exclusion list, when there is one: editing it redraws the sample."""
    path = config["sampling"]["exclusions"]
    return {"exclusions": path} if path else {}
# Merge across sources (workflow/rules/merge.smk).
MERGE_CODE = code_version(
    [SRC / "merge.py", SRC / "schemas.py", SRC / "tableio.py", SRC / "parts.py"]
)
# record_works, work_fields and works are manifests of parts kept in MERGE_STORE (one per shard
# with one source, else one; collabscope.merge.merge_stage); merge_accounting is one file.
MERGE_TABLES = {t.name: str(table_path("results/tables", t)) for t in schemas.MERGE_TABLES}
MERGE_STORE = "results/parts/merge_works"
# Classification and indicators (issue 4).
CLASSIFY_CODE = code_version(
    [*SRC.joinpath("classify").glob("*.py"), SRC / "schemas.py", SRC / "tableio.py", SRC / "parts.py"]
)
# paper_classes, country_credit and lead_disagreements are manifests of per-shard parts kept in
# CLASS_STORE (collabscope.classify.stage.classify_papers); citation_links is one file.
CLASSIFIED = {t.name: str(table_path("results/tables", t)) for t in schemas.CLASSIFIED_TABLES}
CLASS_STORE = "results/parts/classify_papers"
# Each shard's partial counts of the indicators (collabscope.classify.stage.compute_indicators).
INDICATOR_STORE = "results/parts/compute_indicators"
INDICATOR_FILES = {
    **{t.name: f"results/indicators/{t.name}.parquet" for t in schemas.INDICATORS},
    **{f"{t.name}_csv": f"results/indicators/{t.name}.csv" for t in schemas.INDICATORS},
}


def indicator_settings():
    """The classify settings the indicators use (not the lead rule: that is classification's)."""
    classify = config["classify"]
    return {
        "counting": classify["counting"],
        "top_n": classify["top_n"],
        "citing": dict(classify["citing"]),
        "field_dataset": classify["field_dataset"],
        "hcp_method": classify["highly_cited"]["method"],
        "top_percent": classify["highly_cited"]["top_percent"],
        "reference_datasets": list(classify["highly_cited"]["reference_datasets"]),
    }
# Qualitative strand (issue 9): only when qualitative.participants is set.
QUALITATIVE = config["qualitative"]
QUALITATIVE_ON = bool(QUALITATIVE["participants"])
QUALITATIVE_CODE = code_version(
    [
        *(p for p in SRC.joinpath("qualitative").glob("*.py") if p.name != "example.py"),
        SRC / "schemas.py",
        SRC / "tableio.py",
    ]
)
QUALITATIVE_FILES = {
    **{t.name: f"results/qualitative/{t.name}.parquet" for t in schemas.QUALITATIVE_TABLES},
    **{f"{t.name}_csv": f"results/qualitative/{t.name}.csv" for t in schemas.QUALITATIVE_TABLES},
}
if QUALITATIVE_ON and not QUALITATIVE["segments"]:
    _user_error("config qualitative.segments: name the coded data (.qdpx, CSV or XLSX files)")
if QUALITATIVE["dataset"] and QUALITATIVE["dataset"] not in config["datasets"]:
    _user_error(
        f"config qualitative.dataset: {QUALITATIVE['dataset']!r} is not a dataset "
        f"(datasets: {', '.join(sorted(config['datasets']))})"
    )


def qualitative_report_inputs(wildcards):
    """The qualitative tables the report shows, when the strand is configured."""
    if not QUALITATIVE_ON:
        return {}
    return {f"qualitative_{t.name}": QUALITATIVE_FILES[t.name] for t in schemas.QUALITATIVE_TABLES}


# What changed since the previous run (workflow/rules/changes.smk).
CHANGES_CODE = code_version(
    [SRC / "changes.py", SRC / "schemas.py", SRC / "tableio.py", SRC / "parts.py"]
)
CHANGES_TABLE = "results/changes/changes.parquet"
CHANGES_STATE = "results/changes/state"
