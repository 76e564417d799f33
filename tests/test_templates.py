"""Users' setup files are read for their content; their stale paths never matter."""

import opensim as osim
import pytest
from conftest import shared

from retrorun import templates
from retrorun.errors import InputError

EXTERNAL_LOADS = """<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="30000"><ExternalLoads name="x"><objects>
<ExternalForce name="right"><applied_to_body> calcn_r </applied_to_body>
<force_expressed_in_body>ground</force_expressed_in_body>
<point_expressed_in_body>ground</point_expressed_in_body><force_identifier>ground_force_v</force_identifier>
<point_identifier>ground_force_p</point_identifier><torque_identifier>ground_torque_</torque_identifier>
<data_source_name>C:\\old\\place\\grf.mot</data_source_name></ExternalForce>
</objects><groups /><datafile>C:\\old\\place\\grf.mot</datafile>
<external_loads_model_kinematics_file>C:\\old\\ik.mot</external_loads_model_kinematics_file></ExternalLoads></OpenSimDocument>
"""


def test_external_loads_template_gets_the_pipelines_datafile(tmp_path):
    source = tmp_path / "loads.xml"
    source.write_text(EXTERNAL_LOADS)
    specs = templates.external_forces(source)
    assert [(s.applied_to_body, s.force_identifier) for s in specs] == [("calcn_r", "ground_force_v")]
    assert specs[0].columns()["force"] == ["ground_force_vx", "ground_force_vy", "ground_force_vz"]
    data = tmp_path / "grf.mot"
    templates.write_external_loads(source, tmp_path / "out.xml", datafile=data)
    text = (tmp_path / "out.xml").read_text()
    assert "C:\\old" not in text
    assert str(data) in text
    loads = osim.ExternalLoads(str(tmp_path / "out.xml"), True)  # OpenSim reads what we wrote
    assert loads.getDataFileName() == str(data)


def test_ik_tasks_from_a_setup_file_and_from_a_task_set_file_agree():
    from_setup = templates.marker_weights(templates.ik_task_set(shared("hamner-run", "Setup_IK.xml")))
    from_tasks = templates.marker_weights(templates.ik_task_set(shared("hamner-run", "Tasks_IK.xml")))
    assert from_setup == from_tasks
    assert from_tasks["R.ASIS"] == 50.0


def test_written_task_set_drops_markers_the_data_lack(tmp_path):
    tasks = templates.ik_task_set(shared("hamner-run", "Tasks_IK.xml"))
    dropped = templates.write_ik_task_set(tasks, tmp_path / "tasks.xml", keep_markers={"R.ASIS", "L.ASIS"})
    assert "V.Sacral" in dropped and "R.ASIS" not in dropped
    task_set = osim.IKTaskSet(str(tmp_path / "tasks.xml"))
    assert sorted(task_set.get(i).getName() for i in range(task_set.getSize())) == ["L.ASIS", "R.ASIS"]


def test_scale_template_with_stale_model_path():
    template = templates.scale_template(shared("gait2392-walk", "subject01_Setup_Scale.xml"))
    assert "pelvis" in template.measurement_bodies
    assert template.placer_weights  # static-pose marker weights were read


def test_not_a_task_file(tmp_path):
    path = tmp_path / "tasks.xml"
    path.write_text("<OpenSimDocument><Model/></OpenSimDocument>")
    with pytest.raises(InputError, match="holds no <IKTaskSet>"):
        templates.ik_task_set(path)


def test_broken_xml(tmp_path):
    path = tmp_path / "loads.xml"
    path.write_text("<ExternalLoads><objects>")
    with pytest.raises(InputError, match="not valid XML"):
        templates.external_forces(path)
