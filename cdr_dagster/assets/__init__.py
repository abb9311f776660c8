"""The Dagster assets and checks of the platform (the defs folder), by stage. Everything here is
thin glue over cdr_dagster/domain/ and cdr_dagster/cdr_fyi/. The job, schedule and sensors that
run them are in cdr_dagster/automation/.

    sources/      the inputs: cdr.fyi's tables, the CCN list, the World Bank carbon-pricing file,
                  and what they share (raw_inputs.py: raw-table options, hand-dropped files)
    datasets/     the seven CSVs the page reads (staged), and their quality gates
    publication/  the step that makes a checked week visible to the page
    options.py    owner, kinds, weekly freshness, retry policy and table metadata of every stage
    gates.py      a quality rule as a blocking check; one check step per asset
"""
