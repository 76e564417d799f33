"""The QC gate under candidate defaults, measured: one full run per example and method.

    python tools/qc_defaults_report.py OUT_DIR [--examples hamner demo] [--methods none mass_com rra]
                                       [--set key=value ...] [--shared-data DIR] [--report-only]

For each example (hamner: config/examples/hamner-run with ../shared/data; demo:
config/config.yaml) and residual_reduction.method, runs the workflow of this
repository (`snakemake --cores 2`, up to the analysis tables) in OUT_DIR/<example>-<method>
with the example's config as given, only `residual_reduction.method` (and any --set
key=value, dotted keys, YAML values) overridden; then prints per trial the QC verdict
(pass, flags) and the metrics the gate reads, the study's comparison rows, and the CPU
time (s) summed over Snakemake's benchmark files (every benchmarked job) and of the
residual reduction and SO jobs alone. A run that stops (the analysis guard) is reported
with its error. Paths are made absolute, so OUT_DIR can be anywhere.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = {"hamner": REPO / "config/examples/hamner-run/config.yaml", "demo": REPO / "config/config.yaml"}
QC_SHOWN = [
    "subject",
    "trial",
    "condition",
    "pass",
    "flags",
    "scale_marker_rms_m",
    "scale_marker_max_m",
    "scale_landmark_rms_m",
    "scale_landmark_max_m",
    "scale_other_marker_rms_m",
    "ik_marker_rms_m",
    "ik_marker_max_m",
    "residual_force_share_of_peak_grf",
    "residual_moment_peak_nm",
    "residual_moment_share_of_com_height_x_peak_grf",
    "reserve_peak_share",
    "saturated_frame_share",
    "kinematic_change_rms_max_deg",
    "kinematic_change_rms_max_cm",
    "n_cycles_used",
]


SHARED_DATA = REPO.parent / "shared" / "data"


def absolute(path: str, base: Path) -> str:
    """The path resolved against the config's folder; one into the reference data beside the
    repository is read from SHARED_DATA (--shared-data), as a git worktree elsewhere needs."""
    if "shared/data/" in path:
        return str(SHARED_DATA / path.split("shared/data/", 1)[1])
    return str((base / path).resolve())


def study_config(example: str, method: str, overrides: list[str], run_dir: Path) -> Path:
    """The example's config with absolute paths (and absolute sheets), the method and overrides set."""
    source = EXAMPLES[example]
    config = yaml.safe_load(source.read_text())
    base = source.parent
    for key in ("osim", "scale_setup", "ik_tasks", "external_loads", "marker_set"):
        if key in config["model"]:
            config["model"][key] = absolute(config["model"][key], base)
    for sheet in ("subjects", "trials"):
        if sheet in config:
            table = pd.read_csv(base / config[sheet], sep="\t", dtype=str, keep_default_na=False)
            for column in ("static_markers", "markers", "grf"):
                if column in table:
                    table[column] = [absolute(v, base) if v else v for v in table[column]]
            out = run_dir / f"{sheet}.tsv"
            table.to_csv(out, sep="\t", index=False)
            config[sheet] = str(out)
    config.setdefault("residual_reduction", {})["method"] = method
    for item in overrides:
        key, value = item.split("=", 1)
        node = config
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    path = run_dir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run(example: str, method: str, overrides: list[str], out: Path) -> tuple[Path, str]:
    run_dir = out / f"{example}-{method}"
    run_dir.mkdir(parents=True, exist_ok=True)
    config = study_config(example, method, overrides, run_dir)
    study = yaml.safe_load(config.read_text())["study"]
    target = f"results/{study}/tables/comparison.csv"
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(run_dir)]
        + ["--configfile", str(config), "--cores", "2", "--rerun-incomplete", target],
        capture_output=True,
        text=True,
    )
    error = ""
    if result.returncode:
        lines = (result.stdout + result.stderr).splitlines()
        error = "\n".join(line for line in lines if "Error" in line or "error" in line or "fix" in line)[-3000:]
    return run_dir / "results" / study, error


def cpu_seconds(study: Path, rules: tuple[str, ...] | None = None) -> float:
    total = 0.0
    for path in (study / "benchmarks").rglob("*.tsv"):
        rule = path.relative_to(study / "benchmarks").parts[0]
        if rules is None or rule in rules:
            total += float(pd.read_csv(path, sep="\t")["cpu_time"].iloc[0])
    return total


def report(example: str, method: str, study: Path, error: str) -> None:
    print(f"\n## {example}, residual_reduction.method {method} ({study})")
    if error:
        print(f"run stopped:\n{error}")
    qc_path = study / "qc.csv"
    if qc_path.is_file():
        qc = pd.read_csv(qc_path)
        shown = [c for c in QC_SHOWN if c in qc]
        print(qc[shown].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(f"trials passing the gate: {int(qc['pass'].sum())} of {len(qc)}")
    comparison = study / "tables" / "comparison.csv"
    if comparison.is_file():
        table = pd.read_csv(comparison)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}", max_colwidth=60))
    reduction = cpu_seconds(study, ("reduce_residuals", "residual_reduction_algorithm"))
    so = cpu_seconds(study, ("static_optimization", "static_optimization_chunk"))
    print(
        f"CPU s: all benchmarked jobs {cpu_seconds(study):.0f}, residual reduction {reduction:.0f}, "
        f"static optimization {so:.0f}"
    )


def main() -> None:
    global SHARED_DATA
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--examples", nargs="+", default=["hamner", "demo"], choices=sorted(EXAMPLES))
    parser.add_argument("--methods", nargs="+", default=["none", "mass_com", "rra"])
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], help="config key=value (dotted keys)")
    parser.add_argument("--shared-data", type=Path, default=SHARED_DATA, help="the reference data folder")
    parser.add_argument("--report-only", action="store_true", help="only print what OUT_DIR holds")
    args = parser.parse_args()
    SHARED_DATA = args.shared_data.resolve()
    for example in args.examples:
        for method in args.methods:
            if args.report_only:
                config = yaml.safe_load((args.out / f"{example}-{method}" / "config.yaml").read_text())
                study, error = args.out / f"{example}-{method}" / "results" / config["study"], ""
            else:
                study, error = run(example, method, args.overrides, args.out.resolve())
            report(example, method, study, error)


if __name__ == "__main__":
    main()
