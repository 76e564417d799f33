# Trials and static trials given as .c3d: markers to TRC (metres, OpenSim axes) and
# force platforms to a per-foot GRF .mot, before any other stage reads them.


def c3d_source(wildcards):
    static = STUDY.subject(wildcards.subject).static_markers
    if wildcards.name == "static" and is_c3d(static):
        return str(static)
    return str(STUDY.trial(wildcards.subject, wildcards.name).markers)


rule import_c3d:
    input:
        c3d=c3d_source,
    output:
        trc=f"{STUDY_DIR}/inputs/{{subject}}/{{name}}.trc",
        mot=f"{STUDY_DIR}/inputs/{{subject}}/{{name}}.mot",
        contacts=f"{STUDY_DIR}/inputs/{{subject}}/{{name}}_contacts.csv",
    params:
        c3d=config["c3d"],
        sides=list(config["sides"]),
        static=lambda wc: wc.name == "static",
        trial_dir=lambda wc: trial_dir(wc.subject, wc.name),
    log:
        log_path("import_c3d", "{subject}", "{name}"),
    benchmark:
        benchmark_path("import_c3d", "{subject}", "{name}")
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=lambda wc, attempt: 5 * attempt,
    script:
        "../../scripts/import_c3d.py"
