# Stage 1b: canonical tables -> one work per paper across sources (WoS, Scopus, OpenAlex,
# CSSCI), with where each part of a work comes from. Only the merge settings are params:
# other config edits rerun nothing here. With one source, each shard's works are kept in
# MERGE_STORE and a new export file merges its shard only.


rule merge_works:
    input:
        records=TABLES["records"],
        authorships=TABLES["authorships"],
        funding=TABLES["funding"],
    output:
        **MERGE_TABLES,
    params:
        source_order=config["merge"]["source_order"],
        field_sources=config["merge"]["field_sources"],
        code=MERGE_CODE,
        store=MERGE_STORE,
    log:
        "logs/merge_works/merge_works.log",
    benchmark:
        "benchmarks/merge_works/merge_works.tsv"
    threads: threads_for(MERGE_STORE)
    resources:
        mem_mb=6000,
    conda:
        "../../environment.yml"
    script:
        "../scripts/merge_works.py"
