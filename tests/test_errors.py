"""An error raised in a worker process (the up-front checks' pool, the demo's synthesis)
reaches the job that started it pickled: it must arrive as it was raised."""

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from retrorun import errors


def raise_input_error(path: str) -> None:
    raise errors.InputError(
        f"{path} has no time column", subject="S01", trial="run_1", fix="export it with a 'time' column"
    )


@pytest.mark.parametrize("cls", [errors.RetrorunError, *errors.RetrorunError.__subclasses__()])
def test_an_error_survives_pickling_unchanged(cls):
    raised = cls("the GRF ends before the window", fix="shorten end_s", subject="S02", opensim_message="bad row")
    again = pickle.loads(pickle.dumps(raised))
    assert type(again) is cls
    assert str(again) == str(raised) and again.as_record() == raised.as_record()


def test_an_error_raised_in_a_worker_process_reaches_the_job_as_raised(tmp_path):
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        with pytest.raises(errors.InputError) as caught:
            pool.submit(raise_input_error, "S01_run_1.mot").result()
    assert str(caught.value) == (
        "[input] S01/run_1: S01_run_1.mot has no time column\n  what to change: export it with a 'time' column"
    )
    assert caught.value.fix == "export it with a 'time' column" and caught.value.subject == "S01"
