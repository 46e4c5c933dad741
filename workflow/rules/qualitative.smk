# Stage 6: the qualitative strand. Inputs are the coded data, the participants sheet, the draw's
# public summary and the indicators the joint display shows: editing the coded data reruns this
# rule and the report, nothing else. Without qualitative.participants nothing here runs.


if QUALITATIVE_ON:

    rule analyse_qualitative:
        input:
            participants=QUALITATIVE["participants"],
            segments=list(QUALITATIVE["segments"]),
            summary="results/sampling/summary.csv",
            collaboration=INDICATOR_FILES["collaboration"],
            pair_leads=INDICATOR_FILES["pair_leads"],
            funders=INDICATOR_FILES["funders"],
            countries=str(RESOURCES / "countries" / "countries.csv"),
        output:
            **QUALITATIVE_FILES,
        params:
            focal=list(config["study"]["focal_countries"]),
            dataset=QUALITATIVE["dataset"],
            quotes_per_theme=QUALITATIVE["quotes_per_theme"],
            code=QUALITATIVE_CODE,
        log:
            "logs/analyse_qualitative/analyse_qualitative.log",
        conda:
            "../../environment.yml"
        script:
            "../scripts/analyse_qualitative.py"
