# Trials and static trials given as .c3d: markers to TRC (metres, OpenSim axes) and
# force platforms to a per-foot GRF .mot, before any other stage reads them.


rule import_c3d:
    input:
        c3d=c3d_source,
    output:
        trc=imported_path(".trc"),
        mot=imported_path(".mot"),
        contacts=imported_path("_contacts.csv"),
    log:
        trial_log("import_c3d"),
    benchmark:
        trial_benchmark("import_c3d")
    params:
        c3d=config["c3d"],
        sides=list(config["sides"]),
        static=lambda wc: wc.trial == "static",
        # a static trial's failure is the subject's: no trial folder to record it in
        trial_dir=lambda wc: None if wc.trial == "static" else trial_dir(wc.subject, wc.trial),
    script:
        "../../scripts/import_c3d.py"
