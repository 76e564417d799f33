"""How often Snakemake asks SLURM whether its jobs have finished: never less often than
the profile says.

snakemake-executor-plugin-slurm 2.8 (Executor.check_active_jobs) waits
`slurm-init-seconds-before-status-checks` before its first `sacct`, then 10 s longer
after every check that finds no job finished, up to 180 s, whatever
`seconds-between-status-checks` says. A trial's group job of a minute or two is then
noticed up to a few minutes after it ended, and the jobs that wait for it start that
much later. Here the wait between two checks is at most the longer of those two
settings (20 s in workflow/profiles/slurm), one `sacct` call for all jobs each time:
the demo's cluster run took 64 s against 73 s (docs/performance.md, "On a cluster").

The plugin's base class (snakemake-interface-executor-plugins, RemoteExecutor) also sleeps
a whole wait between two checks before its status thread sees that the run is over, and
Snakemake's shutdown waits for that thread: every cluster run ended with up to one wait
(20 s in the shipped profile) of nothing after its last job. Here the sleep ends as soon
as the run is over.
"""

from __future__ import annotations

import asyncio
import inspect
import time

# how often a wait between status checks looks whether the run is over (no SLURM call)
SHUTDOWN_CHECK_S = 0.1


def honour_the_profile() -> bool:
    """Cap the plugin's wait between status checks; False (nothing changed) where the
    plugin is not installed or not the one this was written for."""
    try:
        from snakemake_executor_plugin_slurm import Executor
    except ImportError:
        return False
    wait = getattr(Executor, "next_seconds_between_status_checks", None)
    if not isinstance(wait, property) or wait.fset is None or getattr(wait.fset, "capped", False):
        return False

    def capped(self, seconds) -> None:
        longest = max(
            self.workflow.remote_execution_settings.seconds_between_status_checks,
            getattr(self.workflow.executor_settings, "init_seconds_before_status_checks", 0) or 0,
        )
        wait.fset(self, min(seconds, longest))

    capped.capped = True
    Executor.next_seconds_between_status_checks = property(wait.fget, capped)
    return True


def end_without_waiting() -> bool:
    """Make the wait between status checks end when the run is over; False (nothing
    changed) where the plugin is not installed or not the one this was written for."""
    try:
        from snakemake_executor_plugin_slurm import Executor
    except ImportError:
        return False
    sleep = getattr(Executor, "sleep", None)
    if sleep is None or getattr(sleep, "ends_at_shutdown", False) or not inspect.iscoroutinefunction(sleep):
        return False

    async def sleep_until_done(self) -> None:
        # the base class's own wait, in slices; `wait` turns False in shutdown()
        deadline = time.monotonic() + self.next_seconds_between_status_checks
        while getattr(self, "wait", True) and (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(SHUTDOWN_CHECK_S, left))

    sleep_until_done.ends_at_shutdown = True
    Executor.sleep = sleep_until_done
    return True
