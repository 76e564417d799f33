"""The up-front checks remember what each recording held (ValidationCache) so that a
dry run of an unchanged study does not read every file again, and never hide a problem:
a changed file, config value or check is checked again."""

import multiprocessing
import os
import shutil
from pathlib import Path

import pytest
import yaml
from test_bad_input import trial_row, write_study

from retrorun import emg, validation
from retrorun.config import load_config, load_study
from retrorun.errors import RetrorunError
from retrorun.formats import read_storage, write_storage
from retrorun.validation import validate_study_inputs


@pytest.fixture
def data():
    from conftest import shared

    return shared("gait2392-walk")


@pytest.fixture
def study(tmp_path, data):
    """The gait2392 walking study with its trial's files copied, so a test can edit them."""
    for name in ("subject01_walk1.trc", "subject01_walk1_grf.mot"):
        shutil.copy(data / name, tmp_path / name)
    row = trial_row(data, markers=tmp_path / "subject01_walk1.trc", grf=tmp_path / "subject01_walk1_grf.mot")
    return write_study(tmp_path, data, trials=[row])


def validate(config_path, cache_dir, *, load_model=False):
    """(Without the model, which only the first test needs: loading it in OpenSim takes seconds.)"""
    return validate_study_inputs(load_study(load_config(config_path)), cache_dir=cache_dir, load_model=load_model)


def refuse_to_read(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("read a file the cache knows")

    for name in ("read_trc_times", "read_storage", "model_inventory"):
        monkeypatch.setattr(validation, name, refuse)


def test_an_unchanged_study_is_not_read_again(tmp_path, study, monkeypatch):
    cache = tmp_path / "cache"
    warnings = validate(study, cache, load_model=True)
    assert warnings  # gait2392's setup scales bodies the model lacks: found with the model
    refuse_to_read(monkeypatch)
    assert validate(study, cache, load_model=True) == warnings


def test_a_recording_edited_after_a_cached_run_is_read_again(tmp_path, study, monkeypatch):
    cache = tmp_path / "cache"
    validate(study, cache)
    grf_path = tmp_path / "subject01_walk1_grf.mot"
    before = os.stat(grf_path)
    grf, _ = read_storage(grf_path)
    for column in grf.columns:
        if column.endswith("_vy"):
            grf[column] = 0.0  # no foot contact any more
    write_storage(grf_path, grf, in_degrees=False)
    os.utime(grf_path, ns=(before.st_atime_ns, before.st_mtime_ns))  # even with its old modification time
    with pytest.raises(RetrorunError, match="no foot contact"):
        validate(study, cache)


def test_a_problem_found_once_is_reported_again_from_the_cache(tmp_path, study, monkeypatch):
    trc = tmp_path / "subject01_walk1.trc"
    lines = trc.read_text().splitlines()
    lines[3 + 5], lines[4 + 5] = lines[4 + 5], lines[3 + 5]  # two frames swapped: time goes back
    trc.write_text("\n".join(lines) + "\n")
    cache = tmp_path / "cache"
    with pytest.raises(RetrorunError) as first:
        validate(study, cache)
    assert "does not increase" in str(first.value)
    refuse_to_read(monkeypatch)
    with pytest.raises(RetrorunError) as again:
        validate(study, cache)
    assert str(again.value) == str(first.value)


def test_a_changed_config_value_is_checked_again(tmp_path, study):
    cache = tmp_path / "cache"
    validate(study, cache)
    config = yaml.safe_load(study.read_text())
    config["grf"] = {**config.get("grf", {}), "contact_threshold_n": 5000}
    study.write_text(yaml.safe_dump(config))
    with pytest.raises(RetrorunError, match="never reaches grf.contact_threshold_n = 5000 N"):
        validate(study, cache)


def test_without_a_folder_nothing_is_remembered(tmp_path, study, monkeypatch):
    validate_study_inputs(load_study(load_config(study)), load_model=False)
    calls = []
    monkeypatch.setattr(validation, "read_storage", lambda *a: calls.append(a) or read_storage(*a))
    validate_study_inputs(load_study(load_config(study)), load_model=False)
    assert calls


def _process_id(**_):
    return os.getpid()


_BOTH_WORKERS = None  # set before the pool forks: the first call in each worker waits for the other
_WAITED = False


def _process_id_once_both_started(**_):
    # Instant calls let the first worker take every chunk before the second has started
    # (seen once on a loaded CI machine); waiting here makes both take part.
    global _WAITED
    if not _WAITED:
        _WAITED = True
        _BOTH_WORKERS.wait(timeout=60)
    return os.getpid()


def test_many_unread_recordings_are_read_in_several_processes():
    global _BOTH_WORKERS
    if validation.parallel_workers() < 2:
        pytest.skip("reading in parallel needs Linux and 2 CPUs (single-threaded)")
    _BOTH_WORKERS = multiprocessing.get_context("fork").Barrier(2)
    calls = [validation.CheckCall(files=[], arguments={"trial": i}) for i in range(2 * validation.PARALLEL_MIN_CALLS)]
    pids = validation.ValidationCache(None).values("pid", _process_id_once_both_started, calls, workers=2)
    assert len(set(pids)) == 2 and os.getpid() not in pids
    few = calls[: validation.PARALLEL_MIN_CALLS - 1]  # a pool costs more than it saves: read here
    assert set(validation.ValidationCache(None).values("pid", _process_id, few, workers=2)) == {os.getpid()}


def test_reading_in_several_processes_finds_the_same_problems_in_the_same_order(tmp_path, data):
    """A big study (recordings copied so that some can be broken) with problems spread over
    it: the parallel read reports each one, under its trial, in the sheet's order, as one
    process does; and the cache then answers for every trial."""
    trc = (data / "subject01_walk1.trc").read_text().splitlines()
    trc[8], trc[9] = trc[9], trc[8]  # two frames swapped: time goes back
    broken = tmp_path / "time_goes_back.trc"
    broken.write_text("\n".join(trc) + "\n")
    grf, _ = read_storage(data / "subject01_walk1_grf.mot")
    for column in grf.columns:
        if column.endswith("_vy"):
            grf[column] = 0.0
    no_contact = tmp_path / "no_contact_grf.mot"
    write_storage(no_contact, grf, in_degrees=False)
    rows = []
    for i in range(2 * validation.PARALLEL_MIN_CALLS):
        markers = broken if i % 37 == 5 else None
        forces = no_contact if i % 41 == 7 else None
        rows.append(trial_row(data, markers=markers, grf=forces, trial=f"walk{i:03d}"))
    study = load_study(load_config(write_study(tmp_path, data, trials=rows)))
    one = validation.check_trial_files(study, None, workers=1)
    assert len(one) == 7 and sum("does not increase" in p for p in one) == 4
    cache = validation.ValidationCache(tmp_path / "cache")
    assert validation.check_trial_files(study, None, cache, workers=2) == one
    assert len(cache.used) == len(rows)


def emg_study(tmp_path, channel: str) -> Path:
    """The Rajagopal walking study with measured EMG (config/examples/rajagopal-walk-emg),
    its soleus read from the file's channel ``channel``, every path made absolute."""
    from conftest import REPO, shared

    data = shared("emg", "rajagopal-walk")
    example = REPO / "config" / "examples" / "rajagopal-walk-emg"
    config = yaml.safe_load((example / "config.yaml").read_text())
    for key in ("osim", "ik_tasks", "external_loads"):
        config["model"][key] = str(data / Path(config["model"][key]).name)
    config["model"]["scale_setup"] = str(example / config["model"]["scale_setup"])
    config["emg"]["channels"][channel] = config["emg"]["channels"].pop("soleus")
    for sheet in ("subjects.tsv", "trials.tsv"):
        text = (example / sheet).read_text().replace("../../../../shared/data/emg/rajagopal-walk", str(data))
        (tmp_path / sheet).write_text(text)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def refuse_to_read_emg(monkeypatch):
    refuse_to_read(monkeypatch)

    def refuse(*args, **kwargs):
        raise AssertionError("read an EMG file or its trial's recordings, which the cache knows")

    for name in ("read_emg", "read_trc_times", "read_storage"):
        monkeypatch.setattr(emg, name, refuse)


def test_an_unchanged_emg_study_is_not_read_again(tmp_path, monkeypatch):
    """The EMG files (and the trial's markers and forces, which bound the analysed time)
    were read on every plan: 28 ms a trial, 5.7 s for 200 trials each time."""
    study, cache = emg_study(tmp_path, "soleus"), tmp_path / "cache"
    warnings = validate(study, cache)
    refuse_to_read_emg(monkeypatch)
    assert validate(study, cache) == warnings


def test_an_emg_problem_found_once_is_reported_again_from_the_cache(tmp_path, monkeypatch):
    study, cache = emg_study(tmp_path, "soleus_2"), tmp_path / "cache"
    with pytest.raises(RetrorunError) as first:
        validate(study, cache)
    assert "subject subject_walk, trial walk: EMG file" in str(first.value)
    assert "has no channel(s) soleus_2" in str(first.value)
    refuse_to_read_emg(monkeypatch)
    with pytest.raises(RetrorunError) as again:
        validate(study, cache)
    assert str(again.value) == str(first.value)


def test_workers_are_forked_only_while_no_other_thread_runs():
    """The up-front checks' pool and the demo's synthesis fork their workers only where
    that is safe (jobs.fork_is_safe): a child forked while another thread runs gets only
    the forking thread, maybe while the other held a lock."""
    import sys
    import threading

    from retrorun import jobs
    from retrorun.demo import study

    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        pytest.skip("needs Linux and a test process with one thread")
    assert jobs.fork_is_safe() and study.worker_context().get_start_method() == "fork"
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not jobs.fork_is_safe()
        assert validation.parallel_workers() == 1
        assert study.worker_context().get_start_method() == "spawn"
    finally:
        release.set()
        other.join()
