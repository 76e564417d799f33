# Gait events from the raw GRF, then the cycles (or stances) to analyse: they decide
# where IK, ID and SO run (analysis_span.json), before any of them starts.


def analysis_span(wildcards):
    return f"{trial_dir(wildcards.subject, wildcards.trial)}/analysis_span.json"


rule detect_contacts:
    # events on the raw force at its own rate over the whole record, not on the
    # filter_hz force ID and SO read
    input:
        grf=trial_grf_path,
        external_loads=external_loads_template,
    output:
        contacts=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/contacts.csv",
    params:
        threshold_n=config["analysis"]["contact_threshold_n"],
        min_contact_s=config["analysis"]["min_contact_s"],
        sides=config["sides"],
        trial_dir=lambda wc: trial_dir(wc.subject, wc.trial),
    log:
        log_path("detect_contacts", "{subject}", "{trial}"),
    script:
        "../../scripts/detect_contacts.py"


rule plan_cycles:
    input:
        contacts=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/contacts.csv",
        markers=trial_markers_path,
        grf=trial_grf_path,
    output:
        cycles=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/cycles.csv",
        span=f"{STUDY_DIR}/trials/{{subject}}/{{trial}}/analysis_span.json",
    params:
        region=trial_region,
        unit=config["analysis"]["unit"],
        cycles=config["analysis"]["cycles"],
        min_cycle_s=config["analysis"]["min_cycle_s"],
        max_cycle_s=config["analysis"]["max_cycle_s"],
        margin_s=config["ik_margin_s"],
        trial_dir=lambda wc: trial_dir(wc.subject, wc.trial),
    log:
        log_path("plan_cycles", "{subject}", "{trial}"),
    script:
        "../../scripts/plan_cycles.py"


def unused_trial_lines():
    """One line per trial whose analysis_span.json says it has no usable cycle."""
    lines = []
    for s, t in all_trials():
        path = Path(trial_dir(s, t), "analysis_span.json")
        if path.is_file():
            warning = json.loads(path.read_text()).get("warning")
            if warning:
                lines.append(warning)
    return lines


def print_cycle_summary():
    # in Snakemake's own final output, so a trial with no cycle is seen without a log
    lines = unused_trial_lines()
    if lines:
        logger.warning("retrorun: %d trial(s) with no usable %s:\n  %s" % (len(lines), config["analysis"]["unit"],
                                                                          "\n  ".join(lines)))
