"""Half of the demo's backward trials are recorded facing the lab's -X
(retrorun/demo/heading.py), and the pipeline's heading finds them."""

import numpy as np
import pandas as pd
import pytest
from test_synthetic import REPO

from retrorun import heading
from retrorun.demo import design as de
from retrorun.demo import heading as demo_heading
from retrorun.demo import model as demo_model
from retrorun.demo import subjects as su
from retrorun.formats import MarkerTable, read_storage, read_trc, write_storage, write_trc
from retrorun.markers import apply_aliases


def test_half_of_the_backward_trials_face_minus_x():
    config = de.resolve_config(None)
    people = de.sample_subjects(config)
    turned = {
        (p.subject, c): demo_heading.designed_heading_deg(i, c) for i, p in enumerate(people) for c in p.conditions
    }
    backward = [angle for (_, condition), angle in turned.items() if condition == "backward"]
    assert len(backward) == 8 and backward.count(180.0) == 4
    assert all(angle == 0.0 for (_, condition), angle in turned.items() if condition == "forward")


def test_a_turned_recording_keeps_its_vertical_and_flips_the_horizontal(tmp_path):
    time = np.arange(5) / 100.0
    write_trc(tmp_path / "t.trc", MarkerTable(time, {"A": np.array([[1.0, 0.9, 0.2]] * 5)}, 100.0))
    columns = {"time": time}
    for side in ("r", "l"):
        for kind, pattern in su.GRF_SIDE_COLUMNS.items():
            for axis, value in zip("xyz", (10.0, 700.0, 3.0) if kind != "point" else (1.5, 0.0, 0.1)):
                columns[pattern.format(side=side, axis=axis)] = value
    write_storage(tmp_path / "t.mot", pd.DataFrame(columns), in_degrees=False)
    demo_heading.turn_recording(tmp_path / "t.trc", tmp_path / "t.mot", 180.0)
    assert read_trc(tmp_path / "t.trc").positions_m["A"][0] == pytest.approx([-1.0, 0.9, -0.2])
    grf, _ = read_storage(tmp_path / "t.mot")
    assert grf["ground_force_r_vx"].iloc[0] == pytest.approx(-10.0) and grf["ground_force_l_vy"].iloc[0] == 700.0
    assert grf["ground_force_l_px"].iloc[0] == pytest.approx(-1.5) and grf["ground_torque_r_z"].iloc[0] == -3.0


@pytest.mark.slow
def test_the_pipeline_finds_each_generated_trials_heading(tmp_path):
    """Two generated subjects: S02's backward trial and static are turned, and the heading
    fitted to the planar demo model's pelvis markers says so, to a fraction of a degree."""
    small = {"seed": 11, "n_subjects": 2, "trial_duration_s": 2.8, "lead_in_s": 0.6}
    demo_model.build_model(params_dir=REPO / "models" / "retrorun_planar", out_dir=tmp_path)
    model = str(tmp_path / "retrorun_planar.osim")
    reference = heading.model_reference_markers(model)
    su.generate_subject(small, subject="S02", generic_model=model, inputs_dir=tmp_path, truth_dir=tmp_path / "truth")
    designed = demo_heading.turn_trials(small, subject="S02", inputs_dir=tmp_path)
    assert designed == {"forward_1": 0.0, "backward_1": 180.0, "static": 180.0}
    for trial, angle in designed.items():
        markers = apply_aliases(read_trc(tmp_path / f"S02_{trial}.trc"), {})
        found = heading.estimate_heading(markers, reference)
        assert abs(np.degrees(np.angle(np.exp(1j * np.radians(found.heading_deg - angle))))) < 0.5, trial
        assert found.from_travel == (trial != "static")
