"""OpenSim's real warnings reach the job's log; its missing display-mesh warnings and the
model summary do not (a model without its Geometry folder gave over 1000 lines per trial)."""

import logging
import subprocess
import sys

import pytest
from conftest import shared


def test_mesh_warnings_and_the_model_summary_are_silenced_real_warnings_kept(caplog, capfd):
    path = shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")  # its .vtp meshes are not beside it
    from retrorun import opensim_log, opensim_tools

    with caplog.at_level(logging.INFO), opensim_log.quiet_console():
        model = opensim_tools.load_model(path)
        model.printBasicInfo()  # what IK and ID print on every run
        state = model.initSystem()
        coordinate = model.getCoordinateSet().get("mtp_angle_r")
        coordinate.setLocked(state, True)
        coordinate.setValue(state, 0.3)  # OpenSim warns: the coordinate is locked
    said = [record.getMessage() for record in caplog.records]
    assert any("OpenSim: Coordinate.setValue" in m and "mtp_angle_r is locked" in m for m in said), said
    assert not any("Couldn't find file" in m or "MODEL:" in m for m in said), said
    out, _ = capfd.readouterr()
    assert "Couldn't find file" not in out and "MODEL:" not in out


def test_only_geometry_file_warnings_and_the_summary_count_as_noise():
    from retrorun.opensim_log import is_noise

    assert is_noise("Couldn't find file 'sacrum.vtp'.")
    assert is_noise("\n               MODEL: subject02\n         coordinates: 37\n")
    assert not is_noise("Couldn't find file 'subject02_running.trc'.")  # data, not display geometry
    assert not is_noise("Coordinate.setValue:  coordinate mtp_angle_r is locked. Unable to change its value.")
    nothing_free = (
        "Model unable to assemble: SimTK Exception thrown at Optimizer.h:133:\n  Value out of range in  "
        "OptimizerSystem  Constructor: expected 1 <= number of parameters <= 2.14748e+09 but number of "
        "parameters=0..Model relaxing constraints and trying again."
    )
    assert is_noise(nothing_free)
    assert is_noise(
        "Model unable to assemble with relaxed constraints: SimTK Exception thrown at Optimizer.h:133:\n  Value "
        "out of range in  OptimizerSystem  Constructor: expected 1 <= number of parameters <= 2.14748e+09 but "
        "number of parameters=0."
    )
    # an assembly that fails with coordinates free to move is a real problem
    assert not is_noise("Model unable to assemble: SimTK Exception thrown at Assembler.cpp:1: tolerance not met")


JOB = """
import sys
from types import SimpleNamespace

from retrorun import jobs

job = SimpleNamespace(rule="stage", wildcards={{}}, params={{}}, log=[{log!r}], input=[])
with jobs.job(job) as log:
    log.info("working")
{body}
"""

LOCKED_COORDINATE_WARNS = """
    {first_import}
    import opensim as osim

    model = osim.Model()
    body = osim.Body("body", 1.0, osim.Vec3(0), osim.Inertia(1))
    joint = osim.PinJoint("pin", model.getGround(), body)
    model.addBody(body)
    model.addJoint(joint)
    state = model.initSystem()
    coordinate = joint.updCoordinate()
    coordinate.setLocked(state, True)
    coordinate.setValue(state, 0.3)  # OpenSim warns: the coordinate is locked
"""


def run_job(tmp_path, body: str):
    log = tmp_path / "stage.log"
    script = tmp_path / "job.py"
    script.write_text(JOB.format(log=str(log), body=body))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result, log.read_text()


def test_a_job_that_does_not_use_opensim_does_not_import_it(tmp_path):
    """Importing OpenSim costs a job 0.25 s of CPU: EMG and table jobs do not pay it."""
    result, text = run_job(tmp_path, '    sys.stderr.write("opensim imported: %s" % ("opensim" in sys.modules))')
    assert "working" in text and "opensim imported: False" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "first_import",
    ["pass", "from retrorun import actuators  # imports OpenSim itself", "from retrorun import opensim_tools"],
)
def test_opensim_first_imported_during_a_job_still_logs_to_it(tmp_path, first_import):
    _, text = run_job(tmp_path, LOCKED_COORDINATE_WARNS.format(first_import=first_import))
    said = [line for line in text.splitlines() if " OpenSim: " in line]
    assert any("pin" in line and "locked" in line for line in said), text
