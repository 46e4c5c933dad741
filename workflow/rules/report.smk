# Stage 5: the report. For now an overview page: datasets, accounting, quarantine.


rule render_report:
    input:
        datasets=TABLES["datasets"],
        accounting=TABLES["accounting"],
        quarantine=TABLES["quarantine"],
        records=TABLES["records"],
    output:
        html=report("results/report/index.html", caption="../report/index.rst", category="Report"),
    params:
        title=config["study"]["title"],
        code=REPORT_CODE,
    log:
        "logs/render_report/render_report.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/render_report.py"
