"""Run the real Snakemake workflow from tests, in a scratch working directory."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def snakemake(workdir: Path, configfile: Path | None, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
               "--cores", "2"]
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
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=True).stdout.split("\0")
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
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
