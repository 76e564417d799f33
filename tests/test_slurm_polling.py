"""The SLURM plugin waits between status checks at most what the profile says
(retrorun/slurm_polling.py), not up to 180 s, and stops waiting when the run is over."""

import asyncio
import time
from types import SimpleNamespace

import pytest

from retrorun.slurm_polling import end_without_waiting, honour_the_profile


def executor(*, between_s, init_s):
    from snakemake_executor_plugin_slurm import Executor

    honour_the_profile()
    plugin = Executor.__new__(Executor)  # the wait alone: no SLURM asked
    plugin.workflow = SimpleNamespace(
        remote_execution_settings=SimpleNamespace(seconds_between_status_checks=between_s),
        executor_settings=SimpleNamespace(init_seconds_before_status_checks=init_s),
    )
    return plugin


def test_the_pinned_plugin_has_the_wait_it_caps():
    """A plugin upgrade that changes it must be looked at: it may poll as asked by now."""
    slurm = pytest.importorskip("snakemake_executor_plugin_slurm")
    honour_the_profile()
    assert getattr(slurm.Executor.next_seconds_between_status_checks.fset, "capped", False)
    assert not honour_the_profile()  # installed once, however often the workflow is parsed


@pytest.mark.parametrize(
    "between_s, init_s, longest",
    [(10, 20, 20), (5, 5, 5), (30, 20, 30)],  # workflow/profiles/slurm, tools/slurm/demo_profile.py
)
def test_the_wait_between_checks_grows_no_longer_than_the_profile_allows(between_s, init_s, longest):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    plugin = executor(between_s=between_s, init_s=init_s)
    plugin.next_seconds_between_status_checks = init_s  # before the first check
    assert plugin.next_seconds_between_status_checks == init_s
    for grown in (init_s + 10, init_s + 20, 180):  # the plugin's back-off after empty checks
        plugin.next_seconds_between_status_checks = grown
        assert plugin.next_seconds_between_status_checks == min(grown, longest)


def test_the_pinned_plugin_has_the_sleep_that_ends_at_shutdown():
    slurm = pytest.importorskip("snakemake_executor_plugin_slurm")
    end_without_waiting()
    assert getattr(slurm.Executor.sleep, "ends_at_shutdown", False)
    assert not end_without_waiting()  # installed once, however often the workflow is parsed


def test_a_wait_between_checks_ends_when_the_run_is_over():
    """Snakemake's shutdown joins the status thread: before, it waited out the whole
    wait (here 5 s) after the last job had been seen to end."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    end_without_waiting()
    plugin = executor(between_s=5, init_s=5)
    plugin.next_seconds_between_status_checks, plugin.wait = 5, True

    async def sleep_then_shut_down():
        started = time.monotonic()
        sleeping = asyncio.ensure_future(plugin.sleep())
        await asyncio.sleep(0.3)
        plugin.wait = False  # what RemoteExecutor.shutdown does
        await sleeping
        return time.monotonic() - started

    assert asyncio.run(sleep_then_shut_down()) < 1.0


def test_a_wait_between_checks_lasts_its_time_while_the_run_goes_on():
    pytest.importorskip("snakemake_executor_plugin_slurm")
    end_without_waiting()
    plugin = executor(between_s=0.5, init_s=0.5)
    plugin.next_seconds_between_status_checks, plugin.wait = 0.5, True
    started = time.monotonic()
    asyncio.run(plugin.sleep())
    assert 0.5 <= time.monotonic() - started < 1.5
