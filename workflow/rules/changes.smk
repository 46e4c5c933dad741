# What changed since the previous run (issue 7): this run's files, records and indicator values
# against the snapshot of the previous run that built different data. The snapshots are kept in
# results/changes/state/, which this rule alone reads and writes, outside the job graph (a
# declared input would be a cycle, a declared output is deleted before the job runs); see
# collabscope.changes for why a crash, a rerun or the number of cores never changes the answer.


rule compare_runs:
    input:
        records=TABLES["records"],
        authorships=TABLES["authorships"],
        addresses=TABLES["addresses"],
        accounting=TABLES["accounting"],
        indicators=[INDICATOR_FILES[t.name] for t in schemas.INDICATORS],
    output:
        changes=CHANGES_TABLE,
    params:
        indicators={t.name: INDICATOR_FILES[t.name] for t in schemas.INDICATORS},
        state=CHANGES_STATE,
        # Each shard's record hashes (collabscope.parts), kept like the state.
        record_hashes=RECORD_HASH_STORE,
        code=CHANGES_CODE,
    log:
        "logs/compare_runs/compare_runs.log",
    benchmark:
        "benchmarks/compare_runs/compare_runs.tsv"
    threads: threads_for(RECORD_HASH_STORE)
    resources:
        mem_mb=4000,
    conda:
        "../../environment.yml"
    script:
        "../scripts/compare_runs.py"
