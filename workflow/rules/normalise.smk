# Stage 2: canonical tables -> normalised tables. Only the tables, the curated resources and
# the user's registries and overrides are inputs: editing the country policy or an override
# reruns this stage and what follows, never parsing.


rule normalise_addresses:
    input:
        unpack(institution_inputs),
        addresses=TABLES["addresses"],
        countries=COUNTRY_FILES,
    output:
        addresses=NORMALISED_ADDRESSES,
        unmatched="results/review/affiliations_unmatched.csv",
        low_confidence="results/review/affiliations_low_confidence.csv",
    params:
        country_policy=config["normalise"]["country_policy"],
        fuzzy_cutoff=config["normalise"]["institution_fuzzy_cutoff"],
        # Each shard's normalised addresses, kept outside the job graph (Snakemake deletes a
        # job's outputs before it runs); this rule alone reads and writes them.
        store=NORMALISED_ADDRESS_STORE,
        code=NORMALISE_CODE,
    log:
        "logs/normalise_addresses/normalise_addresses.log",
    benchmark:
        "benchmarks/normalise_addresses/normalise_addresses.tsv"
    threads: threads_for(NORMALISED_ADDRESS_STORE)
    resources:
        mem_mb=6000,
    conda:
        "../../environment.yml"
    script:
        "../scripts/normalise_addresses.py"


rule normalise_funding:
    input:
        funding=TABLES["funding"],
        addresses=NORMALISED_ADDRESSES,
        registries=FUNDER_REGISTRIES,
    output:
        funding=NORMALISED_FUNDING,
        review="results/review/funders.csv",
    params:
        # Each shard's matched funders (see normalise_addresses' store).
        store=NORMALISED_FUNDING_STORE,
        code=NORMALISE_CODE,
    log:
        "logs/normalise_funding/normalise_funding.log",
    benchmark:
        "benchmarks/normalise_funding/normalise_funding.tsv"
    threads: threads_for(NORMALISED_FUNDING_STORE)
    resources:
        mem_mb=4000,
    conda:
        "../../environment.yml"
    script:
        "../scripts/normalise_funding.py"
