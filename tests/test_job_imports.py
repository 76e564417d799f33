"""Every job is a new Python process: what the stages' modules import at start-up is paid
once per job (issue: a 1000-trial study, CPU per trial). These tests keep what a stage
imports without using it out of its start-up."""

import subprocess
import sys

import pytest
import yaml
from conftest import REPO

from retrorun.config import load_config
from retrorun.errors import ConfigError

# the library modules the scripts of a trial's chains import (scripts/*.py)
STAGE_MODULES = (
    "retrorun.markers",
    "retrorun.c3d",
    "retrorun.emg",
    "retrorun.grf",
    "retrorun.heading",
    "retrorun.fast_ik",
    "retrorun.fast_so",
    "retrorun.opensim_tools",
    "retrorun.analysis",
    "retrorun.qc",
    "retrorun.cycle_plan",
    "retrorun.jobs",
)


def imported_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
    return set(run.stdout.split())


def test_stage_modules_do_not_import_the_schema_validator():
    """jsonschema and referencing (about 0.12 s of CPU a process) are for validating the
    config and the sheets; a stage reads a default from the config schema (the C3D axes,
    the gap settings) without them."""
    code = "\n".join(f"import {name}" for name in STAGE_MODULES)
    code += "\nfrom retrorun.config import config_schema\nconfig_schema('gaps')"
    assert not {"jsonschema", "referencing"} & imported_after(code)


def test_validating_a_config_still_refuses_a_wrong_value(tmp_path):
    """The validator is imported where a config is validated: a wrong value is still
    refused, naming the key."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["filter_hz"] = "twelve"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match="filter_hz"):
        load_config(path)
