# Stage 4: the interview sample. Names and e-mails go to results/private/ only (0700/0600); the
# public summary has strata, counts and codes. Each rule gets only its own sampling keys, so
# editing the strata or the seed redraws without rebuilding the pool.


rule build_pool:
    input:
        unpack(registry_inputs),
        authorships=TABLES["authorships"],
        records=TABLES["records"],
        author_address=TABLES["author_address"],
        dataset_records=TABLES["dataset_records"],
        addresses=NORMALISED_ADDRESSES,
        # A paper in two sources is one work: its authors have one paper, not two.
        record_works=MERGE_TABLES["record_works"],
        work_fields=MERGE_TABLES["work_fields"],
    output:
        pool="results/private/pool.parquet",
        csv="results/private/pool.csv",
        merges="results/private/pool_merges.csv",
    params:
        focal_countries=config["study"]["focal_countries"],
        dataset=config["sampling"]["dataset"],
        # Each shard's pool papers, kept so that a new export file computes its shard only.
        store=POOL_STORE,
        code=SAMPLING_CODE,
    log:
        "logs/build_pool/build_pool.log",
    benchmark:
        "benchmarks/build_pool/build_pool.tsv"
    threads: threads_for(POOL_STORE)
    # First among the jobs ready when normalisation ends: in a refresh the pool, the draw and
    # the letters are the longest chain to the report, which waits for the draw.
    priority: 1
    resources:
        mem_mb=4000,
    conda:
        "../../environment.yml"
    script:
        "../scripts/build_pool.py"


rule draw_sample:
    input:
        unpack(exclusion_inputs),
        pool="results/private/pool.parquet",
        tiers=registry_inputs(None)["tiers"],
    output:
        sample="results/private/sample.csv",
        summary="results/sampling/summary.csv",
    params:
        # One dict, not one param per key: Snakemake compares the *set* of param values, so
        # seed 1 -> 2 next to size 2 and reserves 1 would look unchanged.
        draw={k: config["sampling"][k] for k in ("seed", "size", "reserves", "strata", "filters")},
        code=SAMPLING_CODE,
    priority: 1
    log:
        "logs/draw_sample/draw_sample.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/draw_sample.py"


rule write_invitations:
    input:
        sample="results/private/sample.csv",
        pool="results/private/pool.parquet",
        records=TABLES["records"],
        template=INVITATION_TEMPLATE,
        countries=str(RESOURCES / "countries" / "countries.csv"),
    output:
        invitations=directory("results/private/invitations"),
        mail_merge="results/private/mail_merge.csv",
    params:
        title=config["study"]["title"],
        focal_countries=config["study"]["focal_countries"],
        code=SAMPLING_CODE,
    priority: 1
    log:
        "logs/write_invitations/write_invitations.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/write_invitations.py"
