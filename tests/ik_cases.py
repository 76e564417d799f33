"""IK cases for comparing the fast IK solver with OpenSim's InverseKinematicsTool on the
same model, markers and tasks (tests/test_fast_ik.py, tests/test_fast_ik_c3d.py,
tools/benchmark_fast_ik.py).

Each case is a model as the pipeline's IK sees it (scaled to the subject where the data
have a static trial), a trial's markers turned so the runner faces the model's +X (as the
heading step does), an IK task set with the tasks for absent markers dropped, and a time
range. Shared data (../shared/data) are found by conftest.shared's rule; the demo case is
built from the repository's demo model."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from test_c3d import GAIT2392_ALIASES

from retrorun import fast_ik, formats, opensim_tools, templates
from retrorun.heading import face_model, turn_markers
from retrorun.markers import apply_aliases, prepare_markers

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"

# name -> (folder, model, marker set, scale setup, static trc, mass, height, static window,
#          trial trc, IK tasks, default time range)
SHARED_CASES = {
    "hamner": (
        "hamner-run",
        "FullBodyModel_Hamner2010_v2_0.osim",
        None,
        "Setup_Scale.xml",
        "subject02_static.trc",
        65.9,
        1.83,
        None,
        "subject02_running.trc",
        "Tasks_IK.xml",
        (1.0, 2.0),
    ),
    "gait2392": (
        "gait2392-walk",
        "gait2392_thelen2003muscle.osim",
        "gait2392_Scale_MarkerSet.xml",
        "subject01_Setup_Scale.xml",
        "subject01_static.trc",
        72.6,
        1.8034,
        (1.0, 2.0),
        "subject01_walk1.trc",
        "subject01_Setup_IK.xml",
        (0.6, 1.6),
    ),
    # already scaled (opensim-core's Moco example); coupled patellae; no static trial
    "rajagopal": (
        "emg/rajagopal-walk",
        "subject_walk_scaled.osim",
        None,
        None,
        None,
        None,
        None,
        None,
        "markers_walk.trc",
        "ik_tasks_walk.xml",
        (0.5, 1.5),
    ),
}


def shared_available(name: str) -> bool:
    folder, model = SHARED_CASES[name][:2]
    return (SHARED / folder / model).is_file()


def prepare_shared(name: str, root: Path, time_range: tuple[float, float] | None = None) -> dict:
    folder, _, _, _, _, _, _, _, trc, tasks, default_range = SHARED_CASES[name]
    data = SHARED / folder
    return _trial(root, scaled_model(name, root), data / trc, data / tasks, time_range or default_range)


def scaled_model(
    name: str, root: Path, *, static_window: tuple[float, float] | None = None, height_m: float | None = None
) -> Path:
    """The case's model scaled to its subject's static trial as the pipeline scales it (the
    model as it is where the data have no static trial); the window and height can be the
    ones a study's subjects.tsv gives."""
    folder, model, marker_set, scale_setup, static, mass, height, window, _, _, _ = SHARED_CASES[name]
    data = SHARED / folder
    root.mkdir(parents=True, exist_ok=True)
    model_path = data / model
    static_window = static_window or window
    height = height_m or height
    if scale_setup is not None:
        markers = formats.read_trc(data / static)
        window = static_window or (markers.time_s[0], markers.time_s[-1])
        heading = face_model(
            markers.window(*window), str(model_path), str(data / marker_set) if marker_set else None, "s", "static"
        )
        formats.write_trc(root / "static.trc", turn_markers(markers, heading))
        model_path = root / "scaled_model.osim"
        opensim_tools.scale(
            generic_model=str(data / model),
            marker_set=str(data / marker_set) if marker_set else None,
            scale_setup=str(data / scale_setup),
            static_trc=str(root / "static.trc"),
            mass_kg=mass,
            height_m=height,
            time_range=window,
            out_model=str(model_path),
            work_dir=str(root / "scale"),
            subject="s",
        )
    return model_path


# walking2.c3d's lab markers that have a counterpart in gait2392's marker set: one torso
# marker, no posterior pelvis markers
C3D_ALIASES = GAIT2392_ALIASES
# the IK span the pipeline plans for tests/test_c3d.py's trial (region 2.2-3.3 s and the
# default 0.5 s margins): markers leave the volume in its last 0.5 s
C3D_TIME_RANGE = (1.696, 3.804)


def prepare_c3d(root: Path, time_range: tuple[float, float] = C3D_TIME_RANGE) -> dict:
    """tests/test_c3d.py's IK case without Snakemake: gait2392 scaled to subject01's static
    trial (walking2.c3d has none) with that study's static window and height, walking2.c3d's
    markers renamed by C3D_ALIASES, gaps handled by the config's defaults, turned to face the
    model's +X, and an IK task of weight 1 for each aliased marker. The markers leave some
    coordinates undetermined: the torso's turn about the line from the lumbar joint to the
    sternum in every frame, more where markers leave the volume."""
    from retrorun import c3d

    model_path = scaled_model("gait2392", root, static_window=(0.5, 0.6), height_m=1.80)
    recorded = c3d.read_c3d(SHARED / "c3d" / "walking2.c3d", cop_threshold_n=20).markers
    window = apply_aliases(recorded.window(*time_range), C3D_ALIASES)
    heading = face_model(window, str(model_path), None, "s", "walk2")
    markers = prepare_markers(turn_markers(window, heading), aliases={}, gaps={}, subject="s", trial="walk2")
    formats.write_trc(root / "markers.trc", markers)
    tasks = "".join(
        f'<IKMarkerTask name="{name}"><apply>true</apply><weight>1</weight></IKMarkerTask>'
        for name in C3D_ALIASES.values()
    )
    (root / "ik_tasks.xml").write_text(
        f'<?xml version="1.0"?>\n<OpenSimDocument Version="40000"><IKTaskSet name="c3d">'
        f"<objects>{tasks}</objects></IKTaskSet></OpenSimDocument>\n"
    )
    return _case(root, model_path, markers, time_range)


def prepare_demo(root: Path, time_range: tuple[float, float] = (0.6, 1.6)) -> dict:
    """The demo's model as one synthetic subject's true model, and that subject's forward trial."""
    from retrorun.demo import subjects as demo_subjects

    truth = demo_subjects.sample_trial(root, params_dir=REPO / "models" / "retrorun_planar")
    return _trial(
        root,
        truth["model"],
        truth["trc"],
        REPO / "models" / "retrorun_planar" / "ik_tasks.xml",
        time_range,
    )


def _trial(root: Path, model_path: Path, trc: Path, tasks: Path, time_range: tuple[float, float]) -> dict:
    markers = formats.read_trc(trc).window(time_range[0] - 0.05, time_range[1] + 0.05)
    heading = face_model(markers, str(model_path), None, "s", "trial")
    markers = turn_markers(markers, heading)
    formats.write_trc(root / "markers.trc", markers)
    task_set = templates.ik_task_set(tasks)
    templates.write_ik_task_set(task_set, root / "ik_tasks.xml", keep_markers=set(markers.marker_names))
    return _case(root, model_path, markers, time_range)


def run_both(case: dict) -> dict:
    """OpenSim's IK and the fast IK on the case; CPU seconds of each (time.process_time,
    model loading included) and their results as tables."""
    root = case["root"]
    started = time.process_time()
    opensim_tools.inverse_kinematics(
        model_path=str(case["model"]),
        trc=str(case["trc"]),
        task_set_file=str(case["tasks"]),
        time_range=case["time_range"],
        out_mot=str(root / "opensim.mot"),
        work_dir=str(root),
        name="opensim",
        subject="s",
        trial="t",
    )
    opensim_cpu = time.process_time() - started
    started = time.process_time()
    fast_ik.inverse_kinematics(
        model_path=str(case["model"]),
        markers=case["markers"],
        task_set_file=str(case["tasks"]),
        time_range=case["time_range"],
        out_mot=str(root / "fast.mot"),
        work_dir=str(root),
        name="fast",
    )
    fast_cpu = time.process_time() - started
    out = {"opensim_cpu_s": opensim_cpu, "fast_cpu_s": fast_cpu}
    for solver in ("opensim", "fast"):
        out[solver] = formats.read_storage(root / f"{solver}.mot")[0]
        out[f"{solver}_errors"] = formats.read_storage(root / f"{solver}_ik_marker_errors.sto")[0]
        out[f"{solver}_locations"] = formats.read_storage(root / f"{solver}_ik_model_marker_locations.sto")[0]
    return out


def angle_differences(run: dict) -> pd.Series:
    """RMS over frames of fast minus OpenSim, per coordinate (deg for rotational, m otherwise)."""
    reference, fast = run["opensim"], run["fast"]
    columns = [c for c in reference.columns if c != "time"]
    difference = fast[columns].to_numpy() - reference[columns].to_numpy()
    return pd.Series(np.sqrt((difference**2).mean(axis=0)), index=columns).sort_values(ascending=False)


def rotational(model_path: Path) -> dict[str, bool]:
    return opensim_tools.coordinate_motion_types(opensim_tools.load_model(str(model_path)))


def _case(root: Path, model_path: Path, markers, time_range: tuple[float, float]) -> dict:
    """A case's files as prepare_* write them (markers.trc, ik_tasks.xml in ``root``)."""
    return {
        "root": root,
        "model": model_path,
        "markers": markers,
        "trc": root / "markers.trc",
        "tasks": root / "ik_tasks.xml",
        "time_range": time_range,
    }
