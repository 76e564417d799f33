"""Run the real Snakemake workflow from tests, in a scratch working directory."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]


def snakemake(workdir: Path, configfile: Path | None, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "2",
    ]
    if configfile is not None:
        command += ["--configfile", str(configfile)]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=timeout)


def planned_jobs(result: subprocess.CompletedProcess) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run."""
    jobs, in_table = {}, False
    for line in result.stdout.splitlines() + result.stderr.splitlines():
        parts = line.split()
        if line.startswith("job ") and "count" in line:
            in_table = True
            continue
        if in_table:
            if len(parts) == 2 and parts[1].isdigit():
                if parts[0] != "total":
                    jobs[parts[0]] = int(parts[1])
            elif parts and not set(line.strip()) <= set("- "):
                in_table = False
    return jobs


def ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"snakemake failed:\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"


def clone_repository(parent: Path) -> Path:
    """A copy of this repository's files (tracked and new, not ignored) in parent/retrorun,
    as a user's clone: results/ lands inside it. parent/shared points at the reference
    data beside this repository, so the examples' ../shared/data paths hold in the clone."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    clone = parent / "retrorun"
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is not copied
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    if (REPO.parent / "shared").exists():
        (parent / "shared").symlink_to(REPO.parent / "shared")
    return clone


def run_in(cwd: Path, clone: Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    """`snakemake <args>` typed in cwd, with the clone's retrorun installed (as pip install -e . would)."""
    env = dict(os.environ, PYTHONPATH=str(clone))
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def hamner_study(folder, *, region=(None, None), grf=None, analysis=None, study="hamner-cycles"):
    """The Hamner example as a user's own study in ``folder``: its config with absolute
    paths, a trials sheet with ``region`` (start_s, end_s) and optionally another GRF."""
    example = REPO / "config" / "examples" / "hamner-run"
    config = yaml.safe_load((example / "config.yaml").read_text())
    config["study"] = study
    config["model"] = {key: str((example / path).resolve()) for key, path in config["model"].items()}
    config["trials"] = "trials.tsv"
    config["analysis"] = config.get("analysis", {}) | (analysis or {})
    data = REPO.parent / "shared" / "data" / "hamner-run"
    start, end = ("" if value is None else value for value in region)
    (folder / "trials.tsv").write_text(
        "subject\ttrial\tcondition\tmarkers\tgrf\tstart_s\tend_s\n"
        f"subject02\trun\tforward\t{data / 'subject02_running.trc'}\t{grf or data / 'subject02_running_grf.mot'}"
        f"\t{start}\t{end}\n"
    )
    # the subjects sheet names its files relative to the example folder
    subjects = pd.read_csv(example / "subjects.tsv", sep="\t", dtype=str, keep_default_na=False)
    subjects["static_markers"] = [str((example / p).resolve()) for p in subjects["static_markers"]]
    subjects.to_csv(folder / "subjects.tsv", sep="\t", index=False)
    config["subjects"] = "subjects.tsv"
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path
