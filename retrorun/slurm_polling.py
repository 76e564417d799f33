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
"""

from __future__ import annotations


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
