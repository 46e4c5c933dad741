# Stage 5: the report. Inputs are the tables it shows and the config sections it prints, so an
# unrelated config edit (e.g. parse.shards) reruns nothing. Sections from later stages
# (indicators, sampling) join as more named inputs here and a builder in collabscope.report.

from collabscope.report.model import FIGURES as REPORT_FIGURES


rule render_report:
    input:
        unpack(qualitative_report_inputs),
        datasets=TABLES["datasets"],
        accounting=TABLES["accounting"],
        quarantine=TABLES["quarantine"],
        records=TABLES["records"],
        dataset_records=TABLES["dataset_records"],
        works=MERGE_TABLES["works"],
        addresses=NORMALISED_ADDRESSES,
        funding=NORMALISED_FUNDING,
        unmatched="results/review/affiliations_unmatched.csv",
        low_confidence="results/review/affiliations_low_confidence.csv",
        funder_review="results/review/funders.csv",
        countries=str(RESOURCES / "countries" / "countries.csv"),
        # Classification, indicators and the public sampling summary (never results/private/).
        author_address=TABLES["author_address"],
        **CLASSIFIED,
        **{name: path for name, path in INDICATOR_FILES.items() if not name.endswith("_csv")},
        sampling_summary="results/sampling/summary.csv",
        changes=CHANGES_TABLE,
    output:
        html=report("results/report/index.html", caption="../report/index.rst", category="Report"),
        markdown=report("results/report/report.md", caption="../report/markdown.rst", category="Report"),
        xlsx=report("results/report/tables.xlsx", caption="../report/tables.rst", category="Report"),
        figures=[
            report(
                f"results/report/figures/{name}.{ext}",
                caption=f"../report/{name}.rst",
                category="Figures",
                subcategory=ext.upper(),
            )
            for name in REPORT_FIGURES
            for ext in ("png", "svg")
        ],
    params:
        config={
            key: config[key] for key in ("study", "datasets", "normalise", "classify", "qualitative")
        },
        # What sections compute per shard, kept outside the job graph (collabscope.parts).
        store=REPORT_STORE,
        code=REPORT_CODE,
    log:
        "logs/render_report/render_report.log",
    benchmark:
        "benchmarks/render_report/render_report.tsv"
    # Two: the second draws the figures (matplotlib, single-threaded) in a process of its own
    # while the first builds the tables, the templates and the workbook.
    threads: 2
    conda:
        "../../environment.yml"
    script:
        "../scripts/render_report.py"
