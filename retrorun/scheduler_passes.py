"""One pending scheduler pass at a time in Snakemake's main process.

Snakemake 9's job scheduler (snakemake/scheduling/job_scheduler.py, JobScheduler.schedule)
ends every pass by starting a timer that triggers another pass one second later (the
check of `--max-jobs-per-timespan`, default 100/1s). A pass triggered by a finished job
starts a timer too, so each finished job adds a chain of passes that never ends: after
k jobs the scheduler runs about k passes a second, and each pass stats every input of
every job waiting to run. On the demo (165 jobs, 200 s on 2 cores) that was 12 560 passes
and 26 s of the Snakemake process's CPU, taken from the jobs' two cores; a 3000-job study
would reach thousands of passes a second. With one timer pending at a time, a pass still
follows every finished job and comes at least once per timespan, which is all the rate
limit needs (docs/performance.md, "The scheduler's passes").

The timer is a daemon thread here: Snakemake's own is not, so every Snakemake process
waited for its last timer (up to a second) before it could exit. A SLURM job runs two
Snakemake processes one inside the other (the jobstep plugin's `srun`), so that was up to
2 s per cluster job on top of its work, and up to 1 s at the end of every run.
"""

from __future__ import annotations

import threading


def _one_pending_pass(self, delay) -> None:
    """JobScheduler._schedule_reevalutation (sic), starting no timer while one is pending."""
    pending = getattr(self, "_retrorun_pending_pass", None)
    if pending is not None and pending.is_alive():
        return
    self._retrorun_pending_pass = threading.Timer(delay, self._open_jobs.release)
    # a pass is of no use once the process is ending: it must not keep it alive
    self._retrorun_pending_pass.daemon = True
    self._retrorun_pending_pass.start()


def keep_one_pending_pass() -> bool:
    """Install _one_pending_pass in Snakemake's scheduler; False (nothing changed) where
    the scheduler is not the one this was written for."""
    try:
        from snakemake.scheduling.job_scheduler import JobScheduler
    except ImportError:
        return False
    if not callable(getattr(JobScheduler, "_schedule_reevalutation", None)):
        return False
    JobScheduler._schedule_reevalutation = _one_pending_pass
    return True
