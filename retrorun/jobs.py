"""What every rule's script does around its work: log to the rule's log file, and on
failure write a per-trial error record (stage, input files, OpenSim's message).

The error record lives beside the trial's outputs but is not a declared output, so
Snakemake does not delete it when the job fails; the QC table lists it and the next
successful run of that trial removes it.
"""
from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
import traceback
from pathlib import Path

from .errors import RetrorunError

log = logging.getLogger("retrorun")


def error_record_path(trial_dir: str | Path) -> Path:
    return Path(trial_dir) / "error.json"


def _opensim_console_quiet():
    """OpenSim's console output off during the job (its messages reach the log through
    Python logging: opensim_tools); nothing to do where OpenSim is not installed."""
    try:
        from .opensim_tools import quiet_console
    except ImportError:  # analysis-only environments need no OpenSim
        return contextlib.nullcontext()
    return quiet_console()


@contextlib.contextmanager
def job(snakemake, *, stage: str, subject: str = "", trial: str = "", trial_dir: str | None = None):
    """Run a rule's body with logging to ``snakemake.log[0]``; record failures for the trial."""
    log_path = Path(snakemake.log[0]) if snakemake.log else None
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", handlers=handlers, force=True)
    started = time.time()
    log.info("stage %s, subject %s, trial %s", stage, subject or "-", trial or "-")
    try:
        with _opensim_console_quiet():
            yield log
    except Exception as err:
        record = err.as_record() if isinstance(err, RetrorunError) else {
            "stage": stage, "subject": subject, "trial": trial, "message": f"{type(err).__name__}: {err}",
            "fix": "this is unexpected: report it with the log file", "opensim_message": "",
        }
        record.update({"stage": record.get("stage") or stage, "rule_stage": stage, "subject": subject,
                       "trial": trial, "inputs": [str(p) for p in snakemake.input],
                       "log": str(log_path) if log_path else "", "traceback": traceback.format_exc()})
        log.error("%s", err)
        if log_path and log_path.is_file():
            # OpenSim's exceptions often say only "see messages window": its own
            # warnings and errors went to this log (opensim_tools forwards them).
            said = [line.strip() for line in log_path.read_text(errors="replace").splitlines() if " OpenSim: " in line]
            if said:
                record["opensim_log"] = said[-5:]
        if trial_dir:
            path = error_record_path(trial_dir)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record, indent=2))
            log.error("error record written to %s", path)
        raise
    else:
        if trial_dir:
            stale = error_record_path(trial_dir)
            if stale.is_file():
                record = json.loads(stale.read_text())
                if record.get("rule_stage") == stage:
                    stale.unlink()
        log.info("done in %.1f s", time.time() - started)
