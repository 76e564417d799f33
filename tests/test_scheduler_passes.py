"""Snakemake's scheduler keeps one pass pending, not one more per finished job
(retrorun/scheduler_passes.py)."""

import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

from retrorun.scheduler_passes import _one_pending_pass, keep_one_pending_pass


def test_the_pinned_snakemake_has_the_scheduler_method_it_replaces():
    """A Snakemake upgrade that renames it must be looked at: it may have fixed the passes."""
    from snakemake.scheduling.job_scheduler import JobScheduler

    assert keep_one_pending_pass()
    assert JobScheduler._schedule_reevalutation is _one_pending_pass


def test_requests_while_a_pass_is_pending_start_no_timer():
    from snakemake.scheduling.job_scheduler import JobScheduler

    keep_one_pending_pass()
    scheduler = SimpleNamespace(_open_jobs=threading.Semaphore(0))
    before = threading.active_count()
    for _ in range(50):  # as 50 finished jobs' passes each ask for the next one
        JobScheduler._schedule_reevalutation(scheduler, 0.2)
    assert threading.active_count() - before == 1
    time.sleep(0.6)
    assert scheduler._open_jobs.acquire(blocking=False)  # one pass came
    assert not scheduler._open_jobs.acquire(blocking=False)  # and only one
    JobScheduler._schedule_reevalutation(scheduler, 0.05)  # none pending now: a new one starts
    assert scheduler._open_jobs.acquire(timeout=2)


def test_a_pending_pass_does_not_keep_snakemake_from_exiting():
    """Snakemake's own timer kept each process alive until it fired (up to a second at
    the end of every run, twice per SLURM job); here a 30 s one must not hold the exit."""
    program = (
        "import threading\n"
        "from types import SimpleNamespace\n"
        "from snakemake.scheduling.job_scheduler import JobScheduler\n"
        "from retrorun.scheduler_passes import keep_one_pending_pass\n"
        "keep_one_pending_pass()\n"
        "JobScheduler._schedule_reevalutation(SimpleNamespace(_open_jobs=threading.Semaphore(0)), 30)\n"
    )
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", program], check=True, timeout=60, cwd=Path(__file__).parents[1])
    assert time.monotonic() - started < 15
