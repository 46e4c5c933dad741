# Stage 1: raw exports -> canonical tables. One job per shard of files, then one job that
# settles duplicates across shards and writes results/tables/.


rule parse_exports:
    input:
        lambda wildcards: sorted(shard_files(wildcards)),
    output:
        **{t.name: f"results/shards/{{shard}}/{t.name}.parquet" for t in schemas.SHARD_TABLES},
        # The tables' SHA-256, so later stages need not read them to digest them.
        digests="results/shards/{shard}/digests.json",
    params:
        files=shard_files,
        # Each file's tokens, kept so that a new file is the only one of its shard tokenised
        # again (collabscope.parse.shard.TokenCache); outside the job graph, like the stores.
        token_cache=lambda wildcards: f"{TOKEN_CACHE}/{wildcards.shard}",
        code=PARSE_CODE,
    log:
        "logs/parse_exports/{shard}.log",
    benchmark:
        "benchmarks/parse_exports/{shard}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
    conda:
        "../../environment.yml"
    script:
        "../scripts/parse_exports.py"


rule build_tables:
    input:
        expand("results/shards/{shard}/{table}.parquet", shard=SHARD_IDS, table=[t.name for t in schemas.SHARD_TABLES]),
    output:
        **TABLES,
    params:
        shard_dirs=expand("results/shards/{shard}", shard=SHARD_IDS),
        # The parse jobs' token caches of shards with no job are removed here.
        token_caches=TOKEN_CACHE,
        shards=SHARD_IDS,
        datasets=dataset_specs(),
        code=COMBINE_CODE,
    log:
        "logs/build_tables/build_tables.log",
    benchmark:
        "benchmarks/build_tables/build_tables.tsv"
    threads: 2
    resources:
        mem_mb=8000,
    conda:
        "../../environment.yml"
    script:
        "../scripts/build_tables.py"
