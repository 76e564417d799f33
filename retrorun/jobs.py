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
import os
import sys
import threading
import time
import traceback
from pathlib import Path

from . import opensim_log
from .errors import RetrorunError

log = logging.getLogger("retrorun")


ERROR_RECORD = "error.json"  # in the trial's folder


# "0" in the environment: workers are always started afresh (as off Linux), e.g. where a
# library misbehaves in a forked child
FORK_SWITCH = "RETRORUN_FORK_WORKERS"


def fork_is_safe() -> bool:
    """Whether worker processes may be forked from this one (they inherit its imports):
    on Linux, while it runs no other thread (a forked child gets only the thread that
    forked, maybe while another held a lock). Elsewhere (macOS: system frameworks abort in
    a forked child) workers must be started afresh, or not at all; a script that starts
    them keeps its work under `if __name__ == "__main__":`, which a fresh worker skips
    when it imports the script as its main module."""
    if os.environ.get(FORK_SWITCH) == "0":
        return False
    return sys.platform.startswith("linux") and threading.active_count() == 1


def worker_context():
    """The multiprocessing context for a job's worker processes: forked from the job's
    process (they inherit its imports) where fork_is_safe, else started afresh."""
    import multiprocessing

    return multiprocessing.get_context("fork" if fork_is_safe() else "spawn")


def error_record_path(trial_dir: str | Path) -> Path:
    return Path(trial_dir) / ERROR_RECORD


def write_error_record(trial_dir: str | Path, record: dict) -> Path:
    path = error_record_path(trial_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))
    return path


def read_error_record(path: str | Path) -> dict:
    """A record job() wrote: stage (where it failed), rule_stage (the rule), subject,
    trial, message, fix, inputs, log, traceback."""
    return json.loads(Path(path).read_text())


def trial_folder(snakemake) -> Path | None:
    """The folder of the trial a job works on, where its failure is recorded: the rule's
    ``params.trial_dir`` (None for rules that record no trial failure)."""
    folder = snakemake.params.get("trial_dir")
    return Path(folder) if folder else None


@contextlib.contextmanager
def job(snakemake):
    """Run a rule's script body with logging to ``snakemake.log[0]``; record a failure in
    the trial's folder (trial_folder). The rule, subject and trial come from the job:
    ``snakemake.rule`` and ``snakemake.wildcards``."""
    stage = snakemake.rule
    subject = snakemake.wildcards.get("subject", "")
    trial = snakemake.wildcards.get("trial", "")
    trial_dir = trial_folder(snakemake)
    log_path = Path(snakemake.log[0]) if snakemake.log else None
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", handlers=handlers, force=True
    )
    started = time.time()
    log.info("rule %s, %s", stage, ", ".join(f"{k} {v}" for k, v in snakemake.wildcards.items()) or "no wildcards")
    try:
        # OpenSim's console off, its messages to this log once a stage uses it (not imported
        # here: a job without OpenSim would pay 0.25 s of CPU for it)
        with opensim_log.quiet_console():
            opensim_log.forward_once_imported()
            yield log
    except Exception as err:
        record = (
            err.as_record()
            if isinstance(err, RetrorunError)
            else {
                "stage": stage,
                "subject": subject,
                "trial": trial,
                "message": f"{type(err).__name__}: {err}",
                "fix": "this is unexpected: report it with the log file",
                "opensim_message": "",
            }
        )
        record.update(
            {
                "stage": record.get("stage") or stage,
                "rule_stage": stage,
                "subject": subject,
                "trial": trial,
                "inputs": [str(p) for p in snakemake.input],
                "log": str(log_path) if log_path else "",
                "traceback": traceback.format_exc(),
            }
        )
        log.error("%s", err)
        if log_path and log_path.is_file():
            # OpenSim's exceptions often say only "see messages window": its own
            # warnings and errors went to this log (opensim_tools forwards them).
            said = [line.strip() for line in log_path.read_text(errors="replace").splitlines() if " OpenSim: " in line]
            if said:
                record["opensim_log"] = said[-5:]
        if trial_dir:
            log.error("error record written to %s", write_error_record(trial_dir, record))
        raise
    else:
        if trial_dir:
            clear_error_record(trial_dir, stage)
        log.info("done in %.1f s", time.time() - started)


def clear_error_record(trial_dir: str | Path, stage: str) -> None:
    """Remove the trial's error record if ``stage`` wrote it: the stage has now succeeded."""
    stale = error_record_path(trial_dir)
    if stale.is_file() and read_error_record(stale).get("rule_stage") == stage:
        stale.unlink()
