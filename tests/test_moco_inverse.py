"""MocoInverse as a muscle solver (issue 24): its config is checked up front, and on one
cycle of the demo's planar model it converges, reports the fast solver's frames and
columns, and agrees with the fast SO to the degree measured (printed)."""

import json

import numpy as np
import pytest
from conftest import REPO
from test_config import write_study

from retrorun import formats, moco_inverse
from retrorun.config import load_config, variant_values
from retrorun.errors import ConfigError, MuscleError

# ------------------------------------------------------------------ config


def test_moco_inverse_settings_have_defaults(tmp_path):
    config = load_config(write_study(tmp_path, static_optimization={"solver": "moco_inverse"})).values
    settings = config["static_optimization"]["moco_inverse"]
    assert settings["compliant_tendons"][:2] == ["soleus", "gastroc"]
    assert settings["passive_fiber_forces"] is False
    assert settings["mesh_interval_s"] == 0.02
    assert settings["threads"] == 1


@pytest.mark.parametrize("exponent", [1.5, 1, 2.5])
def test_an_exponent_moco_cannot_take_is_refused_up_front(tmp_path, exponent):
    path = write_study(tmp_path, static_optimization={"solver": "moco_inverse", "activation_exponent": exponent})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "activation_exponent" in str(err.value) and "moco_inverse" in str(err.value)
    # the fast solver takes it
    load_config(write_study(tmp_path, static_optimization={"activation_exponent": exponent}))


@pytest.mark.parametrize(
    "settings, key",
    [
        ({"threads": 0}, "threads"),
        ({"mesh_interval_s": 0}, "mesh_interval_s"),
        ({"compliant_tendon": ["soleus"]}, "compliant_tendon"),
        ({"passive_fiber_forces": "yes"}, "passive_fiber_forces"),
    ],
)
def test_bad_moco_inverse_settings_are_refused(tmp_path, settings, key):
    path = write_study(tmp_path, static_optimization={"solver": "moco_inverse", "moco_inverse": settings})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert key in str(err.value)


def test_a_sensitivity_variant_is_checked_too(tmp_path):
    config = load_config(write_study(tmp_path, static_optimization={"activation_exponent": 1.5})).values
    with pytest.raises(ConfigError, match="moco_inverse"):
        variant_values(config, {"static_optimization.solver": "moco_inverse"}, source="test")
    values = variant_values(
        config, {"static_optimization": {"solver": "moco_inverse", "activation_exponent": 2}}, source="test"
    )
    assert values["static_optimization"]["moco_inverse"]["mesh_interval_s"] == 0.02


def test_the_solver_is_a_sensitivity_variant(tmp_path):
    """`sensitivity: {static_optimization.solver: [moco_inverse]}` plans a variant whose
    SO runs MocoInverse with the default settings (issue 24)."""
    from retrorun import sensitivity

    config = load_config(
        write_study(tmp_path, sensitivity={"static_optimization.solver": ["fast", "moco_inverse"]})
    ).values
    variants = sensitivity.plan_variants(config, source="test")
    solvers = {v.config["static_optimization"]["solver"] for v in variants.values()}
    assert "moco_inverse" in solvers


def test_compliant_muscles_are_matched_without_side_suffix():
    muscles = ["soleus_r", "soleus_l", "med_gas_r", "gastroc_l", "tib_ant_r", "soleus_extra_r"]
    names = ["soleus", "gastroc", "med_gas"]
    assert moco_inverse.compliant_muscles(muscles, names, ["_r", "_l"]) == [
        "soleus_r",
        "soleus_l",
        "med_gas_r",
        "gastroc_l",
    ]


# ------------------------------------------------------- one demo cycle (slow)


@pytest.fixture(scope="module")
def demo_cycle(tmp_path_factory):
    """A synthetic forward-running trial on the demo model (truth kinematics at the
    marker rate, GRF), its SO model and external loads, and its first right cycle."""
    import pandas as pd

    from retrorun.demo import subjects as demo_subjects

    root = tmp_path_factory.mktemp("moco_inverse")
    truth = demo_subjects.sample_trial(root, params_dir=REPO / "models" / "retrorun_planar", so_model=True)
    so_model, loads = truth["so_model"], truth["external_loads"]
    contacts = pd.read_csv(truth["forward_1/contacts"])
    right = contacts[contacts["side"] == "r"]["strike_s"].to_numpy()
    return {
        "root": root,
        "so_model": so_model,
        "coordinates": truth["forward_1/coordinates_sampled_mot"],
        "loads": loads,
        "window": (float(right[0]), float(right[1])),
    }


SETTINGS = {
    "compliant_tendons": ["soleus", "gastroc"],
    "passive_fiber_forces": False,
    "active_force_width_scale": 1.0,
    "fiber_damping": 0.01,
    "mesh_interval_s": 0.02,
    "convergence_tolerance": 1e-3,
    "constraint_tolerance": 1e-3,
    "max_iterations": 3000,
    "threads": 1,
}


@pytest.mark.slow
def test_moco_inverse_on_one_demo_cycle_agrees_with_fast_so(demo_cycle):
    """Converged, activations in [0, 1], the fast solver's frames and columns; the
    per-muscle correlation with the fast SO is measured and printed (no tuning to pass:
    the two solve different problems), and must at least be positive for the muscles
    that work. Measured: r 0.47-0.99 per muscle, median 0.88 (tibialis anterior lowest),
    38 IPOPT iterations, about 42 s of CPU on one core."""
    from retrorun import fast_so

    common = {
        "so_model_path": demo_cycle["so_model"],
        "coordinates_mot": demo_cycle["coordinates"],
        "external_loads_xml": demo_cycle["loads"],
        "time_range": demo_cycle["window"],
        "subject": "S01",
        "trial": "forward_1",
    }
    fast, _, problem = fast_so.static_optimization(**common, activation_exponent=2)
    activation, force, status = moco_inverse.solve(
        **common, settings=SETTINGS, activation_exponent=2, sides=["_r", "_l"], work_dir=demo_cycle["root"] / "work"
    )
    assert status["success"] and status["status"] == "Solve_Succeeded"
    assert np.isfinite(status["objective"])
    assert status["compliant_tendons"] == ["gastroc_r", "soleus_r", "gastroc_l", "soleus_l"]
    assert json.loads((demo_cycle["root"] / "work" / moco_inverse.STATUS_FILE).read_text())["success"]
    assert list(activation.columns) == list(fast.columns)
    assert list(force.columns) == list(fast.columns)
    assert activation["time"].to_numpy() == pytest.approx(fast["time"].to_numpy(), abs=1e-9)
    muscles = [name for name, is_muscle in zip(problem.actuators, problem.is_muscle) if is_muscle]
    values = activation[muscles].to_numpy()
    assert np.isfinite(values).all()
    assert values.min() >= -1e-6 and values.max() <= 1 + 1e-6
    correlations = {}
    for muscle in muscles:
        a, b = activation[muscle].to_numpy(), fast[muscle].to_numpy()
        if a.std() > 1e-3 and b.std() > 1e-3:
            correlations[muscle] = float(np.corrcoef(a, b)[0, 1])
    print("MocoInverse vs fast SO, Pearson r per muscle:", {k: round(v, 2) for k, v in correlations.items()})
    print("median r", np.median(list(correlations.values())), "status", status)
    assert len(correlations) >= len(muscles) // 2
    assert np.median(list(correlations.values())) > 0


@pytest.mark.slow
def test_a_solve_that_does_not_converge_fails_and_writes_nothing(demo_cycle, tmp_path):
    """Three IPOPT iterations cannot converge: MuscleError names the status; no table."""
    settings = dict(SETTINGS, max_iterations=3, compliant_tendons=[])
    with pytest.raises(MuscleError, match="did not converge"):
        moco_inverse.solve(
            so_model_path=demo_cycle["so_model"],
            coordinates_mot=demo_cycle["coordinates"],
            external_loads_xml=demo_cycle["loads"],
            time_range=demo_cycle["window"],
            settings=settings,
            activation_exponent=2,
            sides=["_r", "_l"],
            work_dir=tmp_path,
        )
    status = json.loads((tmp_path / moco_inverse.STATUS_FILE).read_text())
    assert status["success"] is False and status["iterations"] >= 3
    assert not (tmp_path / "moco_inverse_solution.sto").exists()
    # IPOPT's iterations are logged where the user can follow them
    assert "iter" in (tmp_path / moco_inverse.PROGRESS_FILE).read_text()
    # and its last iterate, to see what sits on a bound, is kept apart from a solution
    last = formats.read_storage(tmp_path / moco_inverse.FAILED_SOLUTION_FILE)[0]
    assert any(column.endswith("/activation") for column in last.columns) and len(last) > 2


@pytest.mark.slow
def test_a_model_with_locked_coordinates_is_solved(demo_cycle, tmp_path):
    """MocoInverse prescribes every coordinate, so a locked one (the Hamner model locks
    subtalar, mtp and wrist joints) left Simbody a constraint with no mobility: the set-up
    failed in FactorQTZ. Unlocked, the coordinate's equation of motion still has to be
    met, and the SO model gives a locked coordinate no reserve: on Hamner IPOPT's primal
    infeasibility stayed at 1.21 and the solve never converged. The demo's ankles locked
    and their reserves removed, as the SO model of such a model has them: the solve
    converges, the lock's moment carried by an actuator outside the cost."""
    import opensim as osim

    model = osim.Model(str(demo_cycle["so_model"]))
    joints = model.updJointSet()
    locked = []
    for j in range(joints.getSize()):
        joint = joints.get(j)
        if joint.getName().startswith("ankle"):
            joint.upd_coordinates(0).set_locked(True)
            locked.append(joint.get_coordinates(0).getName())
    assert len(locked) == 2
    forces = model.updForceSet()
    for name in [f"reserve_{c}" for c in locked]:
        assert forces.contains(name), name
        forces.remove(forces.getIndex(name))
    locked_model = tmp_path / "locked.osim"
    model.printToXML(str(locked_model))
    processed, _ = moco_inverse.build_model(
        so_model_path=locked_model,
        external_loads_xml=demo_cycle["loads"],
        compliant_tendons=[],
        sides=["_r", "_l"],
        passive_fiber_forces=False,
        active_force_width_scale=1.0,
    )
    state = processed.initSystem()
    assert not [c.getName() for c in processed.getCoordinateSet() if c.getLocked(state)]
    # the demo cycle converges in about 25 iterations; without the lock actuators it
    # cannot converge at all
    activation, force, status = moco_inverse.solve(
        so_model_path=locked_model,
        coordinates_mot=demo_cycle["coordinates"],
        external_loads_xml=demo_cycle["loads"],
        time_range=demo_cycle["window"],
        settings=dict(SETTINGS, max_iterations=150, compliant_tendons=[]),
        activation_exponent=2,
        sides=["_r", "_l"],
        work_dir=tmp_path / "work",
    )
    assert status["success"] and sorted(status["locked_coordinates"]) == sorted(locked)
    # the reported actuators are the SO model's: no lock actuator among them
    assert not [c for c in activation.columns if c.startswith(moco_inverse.LOCK_ACTUATOR_PREFIX)]
    assert list(force.columns) == list(activation.columns)
    muscles = [c for c in activation.columns if c != "time" and not c.startswith(("reserve_", "residual_", "ideal_"))]
    assert activation[muscles].to_numpy().max() <= 1.0 + 1e-6


# ------------------------------------------- a running cycle, Hamner (slow)


@pytest.mark.slow
def test_compliant_triceps_surae_converge_on_a_hamner_running_cycle(hamner_one_cycle, tmp_path):
    """The config's defaults (compliant triceps surae) on the Hamner example's first right
    running cycle (92 muscles, strength x3 as the example sets it), through the files
    the workflow wrote. Without fibre damping IPOPT wandered there (not converged after
    66-78 iterations, reserves of 130-165 N·m at hips, knees and ankles); with the
    default 0.01 (as OpenSim recommends for optimization) it converged in 64 iterations (605 s on one
    thread). Converged within 150 iterations, no frame with a saturated muscle (fast SO:
    4.7 %), reserves below QC's 5 % of the ID moment, and the quadriceps and hamstrings
    near the fast SO's (measured: means within 0.007)."""
    import pandas as pd

    from retrorun import qc, tables
    from retrorun.config import config_schema

    *_, results = hamner_one_cycle
    trial = results / "trials" / "subject02" / "run"
    so_model = next(trial.glob("so_chunks/0-of-*/work/so_model.osim"))
    cycles = pd.read_csv(trial / "cycles.csv")
    first = cycles[(cycles["status"] == "used") & (cycles["side"] == "r")].sort_values("start_s").iloc[0]
    defaults = {k: v["default"] for k, v in config_schema("static_optimization", "moco_inverse")["properties"].items()}
    activation, force, status = moco_inverse.solve(
        so_model_path=so_model,
        coordinates_mot=trial / "rra_kinematics.mot",
        external_loads_xml=trial / "external_loads.xml",
        time_range=(float(first["start_s"]), float(first["end_s"])),
        settings=dict(defaults, threads=2, max_iterations=150),
        activation_exponent=2,
        sides=["_r", "_l"],
        work_dir=tmp_path,
        subject="subject02",
        trial="run",
    )
    print("MocoInverse on the Hamner cycle:", {k: status[k] for k in ("iterations", "objective", "wall_s", "cpu_s")})
    assert status["success"] and sorted(status["compliant_tendons"]) == sorted(
        f"{m}_{side}" for m in ("soleus", "med_gas", "lat_gas") for side in "rl"
    )
    actuators = pd.read_csv(so_model.parents[1] / "so_actuators.csv")
    muscles = [c for c in activation.columns if c != "time" and c not in set(actuators["name"])]
    assert len(muscles) == 92
    rotational = dict(zip(actuators["name"], actuators["rotational"]))
    moco_activation = activation.rename(columns={"time": "time_s"})
    assert qc.saturation(moco_activation[["time_s", *muscles]], level=0.95)["saturated_frame_share"] == 0
    forces = tables.forces_table(force, muscles=muscles, rotational_actuators=rotational)
    id_forces = pd.read_csv(trial / "id_after_reduction.csv")
    assert qc.reserves(forces, actuators, id_forces)["reserve_peak_share"] < 0.05
    so = pd.read_csv(trial / "so_activations.csv")
    so = so[so["time_s"].between(first["start_s"] - 1e-9, first["end_s"] + 1e-9)]
    assert len(so) == len(activation)
    for group in (["rect_fem_r", "vas_med_r", "vas_int_r", "vas_lat_r"], ["semimem_r", "semiten_r", "bifemlh_r"]):
        moco_mean = float(activation[group].to_numpy().mean())
        so_mean = float(so[group].to_numpy().mean())
        print(group, "mean activation, MocoInverse", round(moco_mean, 3), "fast SO", round(so_mean, 3))
        assert moco_mean == pytest.approx(so_mean, abs=0.03)


# ------------------------------------------------ the workflow with it (slow)


@pytest.mark.slow
def test_the_demo_runs_with_moco_inverse_in_both_directions(tmp_path):
    """One demo subject, forward and backward, first cycle of each side, through the
    whole workflow with solver moco_inverse (measured: about 45-50 s of CPU and 320 MB per
    trial's solve, 6 min for the run on a loaded 2-core machine). Every trial's solve
    converged and says so, its activations are the muscles' in [0, 1], QC and the
    comparison have both trials, and the outcome groups stay near the demo's truth: the
    truth is rigid-tendon SO on the true motion, so MocoInverse cannot match it exactly
    (measured worst-cycle RMS 0.058-0.112 for quadriceps and hamstrings; its compliant
    triceps surae differs most, 0.09-0.22, and is not judged here)."""
    import pandas as pd
    from workflow_runner import ok, snakemake

    ok(
        snakemake(
            tmp_path,
            None,
            "--config",
            "synthetic={n_subjects: 1}",
            "residual_reduction={method: none}",
            "analysis={cycles: 1}",
            "static_optimization={solver: moco_inverse}",
        )
    )
    results = tmp_path / "results" / "demo"
    for trial in ("forward_1", "backward_1"):
        folder = results / "trials" / "S01" / trial
        status = json.loads((folder / "so_chunks" / "0-of-1" / "so_solver.json").read_text())
        assert status["solver"] == "moco_inverse" and status["success"], trial
        assert status["status"] == "Solve_Succeeded" and status["iterations"] > 0, trial
        assert "iter" in (folder / "so_chunks" / "0-of-1" / "work" / moco_inverse.PROGRESS_FILE).read_text()
        activations = pd.read_csv(folder / "so_activations.csv")
        muscles = [c for c in activations.columns if c != "time_s" and not c.startswith(("reserve", "residual"))]
        assert len(muscles) == 26, trial  # the demo model's muscles
        values = activations[muscles].to_numpy()
        assert np.isfinite(values).all() and values.min() >= -1e-6 and values.max() <= 1 + 1e-6, trial
    qc = pd.read_csv(results / "qc.csv")
    assert sorted(qc["trial"]) == ["backward_1", "forward_1"] and (qc["status"] == "done").all()
    assert qc["saturated_frame_share"].notna().all() and qc["reserve_peak_share"].notna().all()
    comparison = pd.read_csv(results / "tables" / "comparison.csv")
    so = comparison[comparison["source"] == "so"]
    assert len(so) and (so["n_subjects"] == 1).all() and so["difference_mean"].notna().all()
    truth = pd.read_csv(results / "validation" / "ground_truth.csv")
    groups = truth[
        (truth["check"] == "activation_rms_error")
        & truth["quantity"].isin(["quadriceps_worst_cycle", "hamstrings_worst_cycle"])
    ]
    assert len(groups) == 4
    print(groups[["trial", "quantity", "value"]].to_string(index=False))
    assert (groups["value"] < 0.15).all()


def test_a_moco_inverse_chunk_requests_its_configured_time_and_threads(tmp_path):
    """On a cluster the job that solves SO asks for moco_inverse.runtime_min and .threads;
    the other solvers keep 30 min and one thread. In one chunk SO is a stage of
    trial_analysis, whose own 5 minutes come on top."""
    import re

    from workflow_runner import ok, snakemake

    def resources(rule: str, *settings: str) -> set[str]:
        result = snakemake(
            tmp_path, None, "-n", "-p", "--config", "synthetic={n_subjects: 1}", *settings, "--until", rule
        )
        ok(result)
        blocks = re.split(r"\n(?=\s*(?:local)?rule \w+:)", result.stdout + result.stderr)
        found = set()
        for block in blocks:
            if re.match(rf"\s*rule {rule}:", block):
                threads = re.search(r"threads: (\d+)", block)
                runtime = re.search(r"runtime=(\d+)", block)
                found.add((threads.group(1) if threads else "1", runtime.group(1)))
        return found

    moco = "solver: moco_inverse, moco_inverse: {runtime_min: 77, threads: 2}"
    assert resources("static_optimization_chunk", f"static_optimization={{chunks: 2, {moco}}}") == {("2", "77")}
    assert resources("static_optimization_chunk", "static_optimization={chunks: 2}") == {("1", "30")}
    # trial_analysis's own 5 minutes, and 5 for the demo's error budget, one of its stages
    apart = "layout={one_job_per_subject: false}"
    assert resources("trial_analysis", f"static_optimization={{{moco}}}", apart) == {("2", str(77 + 5 + 5))}
    assert resources("trial_analysis", apart) == {("1", str(30 + 5 + 5))}
    # the demo's subject as one job (EMG): every trial's minutes (2 trials: the motion's 15
    # and the truth's 10, the analysis's as above); on the run's 2 cores MocoInverse's 2
    # threads for one trial at a time, else the 2 trials side by side
    assert resources("subject_S01", f"static_optimization={{{moco}}}") == {("2", str(2 * (25 + 77 + 5 + 5)))}
    assert resources("subject_S01") == {("2", str(2 * (25 + 30 + 5 + 5)))}
