# Stage 3: normalised tables -> paper classes -> indicators, one row per work across sources
# (the merge tables say which record each part of a work is read from). Only the tables are
# inputs: editing the focal countries or the lead rule reruns classification and indicators,
# editing the periods or the indicator settings reruns the indicators only; never parsing or
# normalisation.


rule classify_papers:
    input:
        records=TABLES["records"],
        author_address=TABLES["author_address"],
        addresses=NORMALISED_ADDRESSES,
        # One row per work across sources (issue 8): the merge says which record to read.
        record_works=MERGE_TABLES["record_works"],
        work_fields=MERGE_TABLES["work_fields"],
    output:
        paper_classes=CLASSIFIED["paper_classes"],
        country_credit=CLASSIFIED["country_credit"],
        lead_disagreements=CLASSIFIED["lead_disagreements"],
    params:
        focal=list(config["study"]["focal_countries"]),
        lead_rule=config["classify"]["lead_rule"],
        # Each shard's classes, kept so that a new export file classifies its shard only.
        store=CLASS_STORE,
        code=CLASSIFY_CODE,
    log:
        "logs/classify_papers/classify_papers.log",
    benchmark:
        "benchmarks/classify_papers/classify_papers.tsv"
    threads: threads_for(CLASS_STORE)
    resources:
        mem_mb=8000,
    conda:
        "../../environment.yml"
    script:
        "../scripts/classify_papers.py"


rule compute_indicators:
    input:
        records=TABLES["records"],
        datasets=TABLES["datasets"],
        dataset_records=TABLES["dataset_records"],
        authorships=TABLES["authorships"],
        references=TABLES["references"],
        funding=NORMALISED_FUNDING,
        paper_classes=CLASSIFIED["paper_classes"],
        country_credit=CLASSIFIED["country_credit"],
        lead_disagreements=CLASSIFIED["lead_disagreements"],
        record_works=MERGE_TABLES["record_works"],
        work_fields=MERGE_TABLES["work_fields"],
    output:
        citation_links=CLASSIFIED["citation_links"],
        highly_cited_works=CLASSIFIED["highly_cited_works"],
        **INDICATOR_FILES,
    params:
        focal=list(config["study"]["focal_countries"]),
        periods=[dict(period) for period in config["study"]["periods"]],
        settings=indicator_settings(),
        # Each shard's counts by year, kept so that a new export file counts its shard only.
        store=INDICATOR_STORE,
        code=CLASSIFY_CODE,
    log:
        "logs/compute_indicators/compute_indicators.log",
    benchmark:
        "benchmarks/compute_indicators/compute_indicators.tsv"
    threads: threads_for(INDICATOR_STORE)
    resources:
        mem_mb=8000,
    conda:
        "../../environment.yml"
    script:
        "../scripts/compute_indicators.py"
