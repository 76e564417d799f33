"""The knee extension direction is read from the model: the demo model and a variant of it
whose knee coordinate is flexion-positive (built here by mirroring every function of the
knee coordinate) give opposite signs and the same extension moments."""

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SIDES = {"r": "_r", "l": "_l"}
QUADRICEPS = ["rect_fem", "vas_lat", "vas_med", "vas_int"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """(the demo model, its flexion-positive variant): the one place this file builds the
    demo model, whose module is moving."""
    from retrorun.demo import model as demo_model

    folder = tmp_path_factory.mktemp("knee_sign")
    original = demo_model.build_model(params_dir=REPO / "models" / "retrorun_planar", out_dir=folder)
    return Path(original), flexion_positive(Path(original), folder / "flexion_positive.osim")


def _mirror(function: ET.Element) -> None:
    """f(q) -> f(-q) in place."""
    if function.tag == "LinearFunction":
        slope, offset = (float(v) for v in function.find("coefficients").text.split())
        function.find("coefficients").text = f"{-slope!r} {offset!r}"
    elif function.find("x") is not None:  # SimmSpline, PiecewiseLinearFunction, NaturalCubicSpline
        xs = [-float(v) for v in function.find("x").text.split()][::-1]
        ys = [float(v) for v in function.find("y").text.split()][::-1]
        function.find("x").text = " ".join(repr(v) for v in xs)
        function.find("y").text = " ".join(repr(v) for v in ys)
    elif function.tag != "Constant":
        raise AssertionError(f"no mirror for a {function.tag} of the knee coordinate")


def flexion_positive(source: Path, target: Path) -> Path:
    tree = ET.parse(source)
    root = tree.getroot()
    knees = {f"knee_angle{suffix}" for suffix in SIDES.values()}
    for coordinate in root.iter("Coordinate"):
        if coordinate.get("name") in knees:
            low, high = (float(v) for v in coordinate.find("range").text.split())
            coordinate.find("range").text = f"{-high!r} {-low!r}"
            coordinate.find("default_value").text = repr(-float(coordinate.find("default_value").text))
    for axis in root.iter("TransformAxis"):
        if (axis.findtext("coordinates") or "").strip() in knees:
            _mirror(next(child for child in axis if child.get("name") == "function"))
    for element in root.iter():
        for child in list(element):
            if not child.tag.startswith("socket_") or not child.tag.endswith("coordinate"):
                continue
            if (child.text or "").rsplit("/", 1)[-1] not in knees:
                continue
            if element.tag == "ConditionalPathPoint":
                low, high = (float(v) for v in element.find("range").text.split())
                element.find("range").text = f"{-high!r} {-low!r}"
            elif element.tag == "MovingPathPoint":
                axis = child.tag[len("socket_")].lower()  # socket_x_coordinate -> x
                _mirror(element.find(f"{axis}_location")[0])
            else:
                raise AssertionError(f"{element.tag} depends on the knee: not mirrored")
    tree.write(target)
    return target


def test_the_extension_sign_is_read_from_each_model(models):
    from retrorun.model_properties import knee_extension_signs

    original, variant = models
    kwargs = dict(quadriceps=QUADRICEPS, knee_coordinate="knee_angle", sides=SIDES)
    assert knee_extension_signs(str(original), **kwargs) == {"r": 1.0, "l": 1.0}
    assert knee_extension_signs(str(variant), **kwargs) == {"r": -1.0, "l": -1.0}


def test_the_variant_is_the_same_knee_and_gives_the_same_extension_moment(models):
    """Inverse dynamics of one random state of every coordinate (the knee's mirrored in
    the variant): the knee moment times the sign read from each model is the same."""
    import opensim

    from retrorun.model_properties import knee_extension_signs

    original, variant = models
    results = {}
    for name, path in (("original", original), ("variant", variant)):
        model = opensim.Model(str(path))
        state = model.initSystem()
        order = speed_order(model, state)  # the order of the state's speeds and the solver's forces
        draws = dict(zip(sorted(order), np.random.default_rng(3).normal(0, 0.3, (len(order), 3))))
        udot = opensim.Vector(state.getNU(), 0.0)
        for index, coordinate_name in enumerate(order):
            coordinate = model.getCoordinateSet().get(coordinate_name)
            q, u, a = draws[coordinate_name]
            if coordinate_name.startswith("knee_angle"):
                q -= 0.6  # a flexed knee in the extension-positive convention
                if name == "variant":
                    q, u, a = -q, -u, -a
            coordinate.setValue(state, q, False)
            coordinate.setSpeedValue(state, u)
            udot.set(index, a)
        model.realizeVelocity(state)
        forces = opensim.InverseDynamicsSolver(model).solve(state, udot)
        signs = knee_extension_signs(str(path), quadriceps=QUADRICEPS, knee_coordinate="knee_angle", sides=SIDES)
        results[name] = {
            side: signs[side] * forces.get(order.index(f"knee_angle{suffix}")) for side, suffix in SIDES.items()
        }
        results[name]["lengths"] = [model.getMuscles().get(f"vas_lat{s}").getLength(state) for s in SIDES.values()]
    for side in SIDES:
        assert results["variant"][side] == pytest.approx(results["original"][side], abs=1e-6)
        assert results["original"][side] != pytest.approx(0.0, abs=1.0)  # a moment worth comparing
    np.testing.assert_allclose(results["variant"]["lengths"], results["original"]["lengths"], atol=1e-9)


def speed_order(model, state) -> list[str]:
    """Coordinate names in the order of the state's generalized speeds, found by setting
    each coordinate's speed alone."""
    names = [model.getCoordinateSet().get(k).getName() for k in range(model.getCoordinateSet().getSize())]
    order = [""] * state.getNU()
    for name in names:
        for other in names:
            model.getCoordinateSet().get(other).setSpeedValue(state, 0.0)
        model.getCoordinateSet().get(name).setSpeedValue(state, 1.0)
        u = state.getU()
        order[[k for k in range(state.getNU()) if u.get(k) == 1.0][0]] = name
    return order


def demo_inputs(folder: Path, *, generic_model: Path, n_subjects: int) -> tuple[Path, Path]:
    """The demo study's generated inputs and its sheets: the one place this file reads the
    synthetic generator, whose module is moving."""
    from retrorun.demo import design as demo_design
    from retrorun.demo import subjects as demo_subjects

    generator = {"n_subjects": n_subjects}
    inputs = folder / "inputs"
    subjects, trials = demo_design.study_sheets(generator, inputs_dir=inputs)
    for subject in subjects["subject"]:
        demo_subjects.generate_subject(
            generator,
            subject=subject,
            generic_model=generic_model,
            inputs_dir=inputs,
            truth_dir=folder / "truth" / subject,
        )
    subjects.to_csv(folder / "subjects.tsv", sep="\t", index=False)
    trials.to_csv(folder / "trials.tsv", sep="\t", index=False)
    return folder / "subjects.tsv", folder / "trials.tsv"


def study_config(folder: Path, *, model: Path, sheets: tuple[Path, Path]) -> Path:
    import yaml

    params = REPO / "models" / "retrorun_planar"
    demo = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config = {
        "study": "knee",
        "subjects": str(sheets[0]),
        "trials": str(sheets[1]),
        "model": {
            "osim": str(model),
            "scale_setup": str(params / "scale_setup.xml"),
            "ik_tasks": str(params / "ik_tasks.xml"),
            "external_loads": str(params / "external_loads.xml"),
        },
        "filter_hz": demo["filter_hz"],
        "static_optimization": demo["static_optimization"],
        "muscle_groups": demo["muscle_groups"],
        "analysis": {"qc_gate": "include"},
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
def test_a_flexion_positive_model_gives_the_same_study(models, tmp_path):
    """The demo study (one subject) run on the demo model and on its flexion-positive
    variant: the same knee extension moment curves and the same comparison table."""
    from workflow_runner import ok, snakemake

    original, variant = models
    sheets = demo_inputs(tmp_path / "data", generic_model=original, n_subjects=1)
    tables = {}
    for name, model in (("original", original), ("variant", variant)):
        workdir = tmp_path / name
        ok(snakemake(workdir, study_config(workdir, model=model, sheets=sheets)))
        results = workdir / "results" / "knee" / "tables"
        tables[name] = (pd.read_csv(results / "curves.csv"), pd.read_csv(results / "comparison.csv"))
    curves = {
        name: table[table["variable"] == "knee_extension_moment_nm_per_kg"].reset_index(drop=True)
        for name, (table, _) in tables.items()
    }
    assert len(curves["original"]) == 2 * 101 and curves["original"]["value"].max() > 1.5  # a running knee
    difference = (curves["variant"]["value"] - curves["original"]["value"]).abs().max()
    print("largest knee moment difference (N m/kg):", difference)
    assert difference < 1e-6
    numbers = ["mean_a", "mean_b", "difference_mean"]
    compared = {name: table.set_index(["group", "metric"])[numbers] for name, (_, table) in tables.items()}
    largest = (compared["variant"] - compared["original"]).abs().max().max()
    print("largest comparison difference:", largest)
    assert largest < 1e-6
