"""The demo run a cluster is compared on, and the shipped SLURM profile set up for the
cluster that answers `sinfo` (its default partition, the user's default account), as the
README tells a user. Shared by tests/test_cluster.py and tools/benchmark_scale.py --cluster."""

import subprocess
from pathlib import Path

import yaml

# the smallest study with a paired forward/backward comparison; its answer (QC and the
# comparison, and every per-trial file they need), not the demo's own validation
DEMO_CONFIG_OVERRIDE = 'synthetic={"n_subjects": 2}'
DEMO_TARGETS = ["results/demo/qc.csv", "results/demo/tables/comparison.csv"]


def default_partition() -> str:
    partitions = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True, check=True).stdout.split()
    defaults = [p.rstrip("*") for p in partitions if p.endswith("*")]
    return defaults[0] if defaults else partitions[0]


def default_account() -> str:
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    result = subprocess.run(
        ["sacctmgr", "-n", "-P", "show", "user", user, "format=DefaultAccount"], capture_output=True, text=True
    )
    return result.stdout.strip() or "root"


def write_profile(shipped: Path, folder: Path) -> Path:
    """``shipped`` (a workflow/profiles/slurm/config.yaml) with this cluster's partition and
    account, written to ``folder``; the folder is what `--profile` takes."""
    profile = yaml.safe_load(shipped.read_text())
    profile["default-resources"]["slurm_partition"] = default_partition()
    profile["default-resources"]["slurm_account"] = default_account()
    # one local disk, a quiet cluster: no need to wait for a shared file system or to
    # poll slowly (saves minutes over a run)
    profile["latency-wait"] = 10
    profile["slurm-init-seconds-before-status-checks"] = 5
    profile["seconds-between-status-checks"] = 5
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(profile))
    return folder
