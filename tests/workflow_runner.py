"""Run the real Snakemake workflow from tests, in a scratch working directory."""
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
