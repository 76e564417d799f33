"""The methods section of a study, written from its own config and run (results/<study>/methods.md).

Every number in the text is read from the validated config (defaults filled in), the
study's sheets, the model file, the software that ran and the QC table: change a
setting and the text changes with it. Each paragraph cites its source; the reference
list holds exactly the works cited. The filter is described by retrorun/filtering.py
itself (``filtering.METHODS_DESCRIPTION``), beside the code it describes.
"""

from __future__ import annotations

import importlib.metadata
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from . import __version__, filtering, stats
from .qc import CHECKS

REFERENCES = {
    "Anderson & Pandy 2001": "Anderson FC, Pandy MG (2001). Static and dynamic optimization solutions for gait are "
    "practically equivalent. J Biomech 34:153-161.",
    "Arnström et al. 2022": "Arnström D, Bemporad A, Axehill D (2022). A dual active-set solver for embedded "
    "quadratic programming using recursive LDLᵀ updates. IEEE Trans Automat Contr 67:4362-4369.",
    "Bisseling & Hof 2006": "Bisseling RW, Hof AL (2006). Handling of impact forces in inverse dynamics. "
    "J Biomech 39:2438-2444.",
    "Crowninshield & Brand 1981": "Crowninshield RD, Brand RA (1981). A physiologically based criterion of muscle "
    "force prediction in locomotion. J Biomech 14:793-801.",
    "De Groote et al. 2016": "De Groote F, Kinney AL, Rao AV, Fregly BJ (2016). Evaluation of direct collocation "
    "optimal control problem formulations for solving the muscle redundancy problem. Ann Biomed Eng 44:2922-2936.",
    "Dembia et al. 2020": "Dembia CL, Bianco NA, Falisse A, Hicks JL, Delp SL (2020). OpenSim Moco: "
    "musculoskeletal optimal control. PLoS Comput Biol 16:e1008493.",
    "Delp et al. 1990": "Delp SL, Loan JP, Hoy MG, Zajac FE, Topp EL, Rosen JM (1990). An interactive "
    "graphics-based model of the lower extremity to study orthopaedic surgical procedures. IEEE Trans Biomed Eng "
    "37:757-767.",
    "Delp et al. 2007": "Delp SL, Anderson FC, Arnold AS, Loan P, Habib A, John CT, Guendelman E, Thelen DG (2007). "
    "OpenSim: open-source software to create and analyze dynamic simulations of movement. IEEE Trans Biomed Eng "
    "54:1940-1950.",
    "Hamner et al. 2010": "Hamner SR, Seth A, Delp SL (2010). Muscle contributions to propulsion and support "
    "during running. J Biomech 43:2709-2716.",
    "Handsfield et al. 2014": "Handsfield GG, Meyer CH, Hart JM, Abel MF, Blemker SS (2014). Relationships of 35 "
    "lower limb muscles to height and body mass quantified using MRI. J Biomech 47:631-638.",
    "Harris et al. 2020": "Harris CR, Millman KJ, van der Walt SJ, et al. (2020). Array programming with NumPy. "
    "Nature 585:357-362.",
    "Hicks et al. 2015": "Hicks JL, Uchida TK, Seth A, Rajagopal A, Delp SL (2015). Is my model good enough? Best "
    "practices for verification and validation of musculoskeletal models and simulations of movement. "
    "J Biomech Eng 137:020905.",
    "Holm 1979": "Holm S (1979). A simple sequentially rejective multiple test procedure. Scand J Stat 6:65-70.",
    "Jaric 2002": "Jaric S (2002). Muscle strength testing: use of normalisation for body size. Sports Med 32:615-631.",
    "Kristianslund et al. 2012": "Kristianslund E, Krosshaug T, van den Bogert AJ (2012). Effect of low pass "
    "filtering on joint moments from inverse dynamics: implications for injury prevention. J Biomech 45:666-671.",
    "Lakens 2013": "Lakens D (2013). Calculating and reporting effect sizes to facilitate cumulative science: a "
    "practical primer for t-tests and ANOVAs. Front Psychol 4:863.",
    "Mölder et al. 2021": "Mölder F, Jablonski KP, Letcher B, et al. (2021). Sustainable data analysis with "
    "Snakemake. F1000Research 10:33.",
    "Pataky 2012": "Pataky TC (2012). One-dimensional statistical parametric mapping in Python. Comput Methods "
    "Biomech Biomed Engin 15:295-301.",
    "Rajagopal et al. 2016": "Rajagopal A, Dembia CL, DeMers MS, Delp DD, Hicks JL, Delp SL (2016). Full-body "
    "musculoskeletal model for muscle-driven simulation of human gait. IEEE Trans Biomed Eng 63:2068-2079.",
    "Seth et al. 2018": "Seth A, Hicks JL, Uchida TK, et al. (2018). OpenSim: simulating musculoskeletal dynamics "
    "and neuromuscular control to study human and animal movement. PLoS Comput Biol 14:e1006223.",
    "Student 1908": "Student (1908). The probable error of a mean. Biometrika 6:1-25.",
    "Virtanen et al. 2020": "Virtanen P, Gommers R, Oliphant TE, et al. (2020). SciPy 1.0: fundamental algorithms "
    "for scientific computing in Python. Nat Methods 17:261-272.",
    "Wilcoxon 1945": "Wilcoxon F (1945). Individual comparisons by ranking methods. Biometrics Bull 1:80-83.",
}
# A generic model's publication, by a piece of its file name (lower case); others get a note to cite it.
MODEL_SOURCES = {
    "hamner": "Hamner et al. 2010",
    "gait2392": "Delp et al. 1990",
    "gait2354": "Delp et al. 1990",
    "rajagopal": "Rajagopal et al. 2016",
}
DEMO_MODEL = "retrorun_planar"
SOFTWARE = ("opensim", "snakemake", "spm1d", "numpy", "scipy", "daqp")


def software_versions() -> dict[str, str]:
    """Versions of the software that ran (retrorun from the package itself)."""
    versions = {"retrorun": __version__}
    for name in SOFTWARE:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def model_summary(osim_path: str | Path) -> dict:
    """File name, muscle and coordinate counts of an OpenSim model, read from its XML."""
    root = ET.parse(osim_path).getroot()
    # the model's own objects, not the <defaults> templates some files carry
    muscles = [e for fs in root.iter("ForceSet") for e in fs.findall("objects/*") if e.tag.endswith("Muscle")]
    coordinates = [e for e in root.iter("Coordinate") if e.get("name")]
    return {"file": Path(osim_path).name, "n_muscles": len(muscles), "n_coordinates": len(coordinates)}


def _in_compare_order(per_condition: pd.Series, compare: list[str]) -> pd.Series:
    order = [c for c in compare if c in per_condition.index] + sorted(set(per_condition.index) - set(compare))
    return per_condition[order]


def _cite(*keys: str) -> str:
    return "(" + "; ".join(keys) + ")"


def _n(value: float) -> str:
    return f"{value:g}"


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def _list(items) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _model_paragraph(config: dict, model: dict, subjects: pd.DataFrame) -> str:
    file = model["file"]
    source = next((key for part, key in MODEL_SOURCES.items() if part in file.lower()), None)
    if DEMO_MODEL in file:
        origin = "(retrorun's planar running model; models/retrorun_planar/README.md cites each parameter)"
    elif source:
        origin = f"{_cite(source)}"
    else:
        origin = "[cite the model's publication]"
    masses = subjects["mass_kg"].astype(float)
    mass = _n(masses.min()) if masses.min() == masses.max() else f"{_n(masses.min())}-{_n(masses.max())}"
    text = (
        f"The generic musculoskeletal model {file} {origin}, with {_count(model['n_muscles'], 'muscle')} and "
        f"{_count(model['n_coordinates'], 'coordinate')}, was scaled to each subject "
        f"(body mass {mass} kg) with OpenSim's ScaleTool "
        f"{_cite('Delp et al. 2007')}: segment scale factors from marker distances in a static trial "
        f"({Path(config['model']['scale_setup']).name}), then the model markers placed by inverse kinematics of "
        "the static pose. "
    )
    gaps = config["gaps"]
    policy = (
        "left out of IK in those frames"
        if gaps["long_gap_policy"] == "ignore_marker"
        else "made the trial fail, naming marker and frames"
    )
    text += (
        f"Marker gaps up to {_n(gaps['max_gap_s'])} s were filled by a cubic spline; longer gaps were {policy}. "
        f"Joint angles were computed by OpenSim's inverse kinematics with the marker weights of "
        f"{Path(config['model']['ik_tasks']).name}"
    )
    if config.get("ik", {}).get("solver") == "fast":
        text += (
            ", the same weighted least-squares problem as OpenSim's InverseKinematicsTool solved at each frame by "
            "bounded Levenberg-Marquardt on OpenSim's marker positions and Jacobians, warm-started from the "
            "previous frame."
        )
    else:
        text += "."
    return text


def _c3d_sentence(config: dict, trials: pd.DataFrame) -> str:
    """How C3D recordings were imported, when the study has any."""
    if "markers" not in trials or not trials["markers"].astype(str).str.lower().str.endswith(".c3d").any():
        return ""
    c3d = config["c3d"]
    sides = (
        "the fixed side of each plate (" + ", ".join(f"plate {p}: {s}" for p, s in c3d["plate_sides"].items()) + ")"
        if c3d["plate_sides"]
        else "the foot whose markers were nearest its centre of pressure"
    )
    return (
        f" C3D recordings were imported with markers in metres from their POINT:UNITS, each force plate's force, "
        f"centre of pressure and free moment computed from its channels where its vertical force reached "
        f"{_n(c3d['cop_threshold_n'])} N, and each plate contact given to {sides}."
    )


def _filter_paragraph(config: dict) -> str:
    description = filtering.METHODS_DESCRIPTION.format(cutoff_hz=config["filter_hz"])
    return (
        f"The joint angles from inverse kinematics and the ground reaction forces were low-pass filtered with "
        f"{description}, the same cut-off for both, since mismatched cut-offs create impact artefacts in the joint "
        f"moments {_cite('Bisseling & Hof 2006', 'Kristianslund et al. 2012')}. Force-plate samples below "
        f"{_n(config['grf']['contact_threshold_n'])} N of vertical force were set to zero before filtering and the "
        f"centre of pressure was held at its nearest in-contact value. Inverse kinematics and inverse dynamics "
        f"covered the analysed cycles and {_n(config['ik_margin_s'])} s on each side."
    )


def _events_paragraph(config: dict, counts: pd.DataFrame | None) -> str:
    analysis = config["analysis"]
    if analysis["unit"] == "cycle":
        unit = "gait cycles (foot strike to the next foot strike of the same foot)"
    else:
        unit = "stance phases (foot strike to toe off of one plate contact, the other foot unloaded)"
    chosen = (
        "every complete one in each trial's region"
        if analysis["cycles"] == "all"
        else f"the first {analysis['cycles']} per side in each trial's region"
    )
    text = (
        f"Foot strike and toe off were taken where the unfiltered vertical ground reaction force of each foot "
        f"crossed {_n(analysis['contact_threshold_n'])} N; contacts shorter than {_n(analysis['min_contact_s'])} s "
        f"were ignored. The analysed units were {unit}, {chosen}, with a plausible duration of "
        f"{_n(analysis['min_cycle_s'])}-{_n(analysis['max_cycle_s'])} s; each was time-normalised to 0-100 %."
    )
    if counts is not None and len(counts) and "n_used" in counts:
        used = _in_compare_order(counts.groupby("condition")["n_used"].sum(), analysis["compare"])
        text += " Units analysed: " + ", ".join(f"{int(n)} {condition}" for condition, n in used.items()) + "."
    return text


def _dynamics_paragraph(config: dict) -> str:
    reduction = config["residual_reduction"]
    loads = Path(config["model"]["external_loads"]).name
    text = (
        f"Joint moments were computed by OpenSim's inverse dynamics {_cite('Delp et al. 2007')} with the ground "
        f"reaction forces applied as in {loads}. "
    )
    if reduction["method"] == "none":
        text += "No residual reduction was applied: static optimization ran on the scaled model and kinematics."
    elif reduction["method"] == "mass_com":
        text += (
            "Residuals were reduced by the closed-form mass and centre-of-mass adjustment of OpenSim's residual "
            f"reduction algorithm {_cite('Delp et al. 2007')}: over whole cycles, the mean vertical residual force "
            f"gave a total mass change (refused and flagged above {_n(reduction['max_mass_change_kg'])} kg) and the "
            f"mean horizontal residual moments a shift of the {reduction['adjusted_body']} centre of mass, capped at "
            f"{_n(reduction['max_com_shift_m'])} m per axis; inverse dynamics was then repeated on the adjusted model."
        )
    else:
        text += (
            f"Residuals were reduced per trial by OpenSim's residual reduction algorithm (RRA) "
            f"{_cite('Delp et al. 2007')}, over the analysed cycles and {_n(reduction['rra_margin_s'])} s on each "
            f"side, with residual forces of optimal force {_n(reduction['rra_residual_force_optimal_force'])} N and "
            f"residual moments of {_n(reduction['rra_residual_moment_optimal_force'])} N·m per unit control, moving "
            f"the {reduction['adjusted_body']} centre of mass; static optimization used RRA's kinematics and model."
        )
    return text


def _so_paragraph(config: dict, versions: dict) -> str:
    so = config["static_optimization"]
    p = so["activation_exponent"]
    text = (
        f"Muscle activations were estimated by static optimization, minimising the sum of activations raised to "
        f"the power {_n(p)} at each frame subject to the joint accelerations of inverse kinematics "
        f"{_cite('Crowninshield & Brand 1981', 'Anderson & Pandy 2001')}, with rigid tendons and each muscle's "
        f"force-length-velocity relation. Reserve actuators of optimal force {_n(so['reserve_optimal_force'])} N·m "
        f"per unit control acted on every coordinate a muscle crosses, residual actuators of "
        f"{_n(so['residual_optimal_force'])} (N or N·m per unit control) on the root joint's coordinates, and ideal "
        f"actuators of {_n(so['unmuscled_optimal_force'])} N·m on coordinates no muscle crosses. "
    )
    if so["solver"] == "moco_inverse":
        moco = so["moco_inverse"]
        compliant = ", ".join(moco["compliant_tendons"])
        text = (
            "Muscle activations were estimated by OpenSim Moco's MocoInverse "
            f"{_cite('Dembia et al. 2020')}: with the inverse-kinematics coordinates prescribed, the integral of "
            f"the sum of controls raised to the power {_n(p)} was minimised by direct collocation (mesh interval "
            f"{_n(moco['mesh_interval_s'])} s, convergence tolerance {_n(moco['convergence_tolerance'])}), the "
            f"muscles being DeGroote-Fregly muscles with activation dynamics {_cite('De Groote et al. 2016')}, "
            + (
                f"with compliant tendons in {compliant} {_cite('Hamner et al. 2010')} and rigid tendons elsewhere"
                if compliant
                else "with rigid tendons"
            )
            + (", with passive fibre forces" if moco["passive_fiber_forces"] else ", without passive fibre forces")
            + ". Reserve actuators of optimal force "
            f"{_n(so['reserve_optimal_force'])} N·m per unit control acted on every coordinate a muscle crosses, "
            f"residual actuators of {_n(so['residual_optimal_force'])} (N or N·m per unit control) on the root "
            f"joint's coordinates, and ideal actuators of {_n(so['unmuscled_optimal_force'])} N·m on coordinates "
            "no muscle crosses."
        )
    elif so["solver"] == "fast":
        text += (
            "OpenSim's static optimization problem was rebuilt per frame from the model (mass matrix, muscle path "
            "moment arms, force per unit activation) and solved as a quadratic program by DAQP "
            f"{versions.get('daqp', 'unknown')} {_cite('Arnström et al. 2022')}."
        )
    else:
        text += "It was solved by OpenSim's StaticOptimization analysis."
    law = so["strength_scaling"]
    scale = so["max_isometric_force_scale"]
    strength = f"Maximum isometric forces were those of the model multiplied by {_n(scale)}"
    if law == "none":
        strength += ", the same for every subject."
    elif law == "mass":
        strength += (
            f" and scaled to each subject's body mass m as F0 (m/m0)^(2/3), m0 being the generic model's mass "
            f"{_cite('Jaric 2002')}."
        )
    else:
        strength += (
            " and scaled to each subject's body mass m and height h as F0 (m h)/(m0 h0) / (l/l0), l/l0 being each "
            f"muscle's optimal fibre length over the generic one and h0 = {_n(so['reference_height_m'])} m "
            f"{_cite('Handsfield et al. 2014')}."
        )
    return text + " " + strength


def _outcomes_paragraph(config: dict) -> str:
    analysis = config["analysis"]
    groups = "; ".join(f"{name}: {', '.join(muscles)}" for name, muscles in config["muscle_groups"].items())
    weighting = (
        "the mean of its muscles' activations"
        if analysis["weighting"] == "mean"
        else "the mean of its muscles' activations weighted by maximum isometric force"
    )
    return (
        f"Each muscle group's activation per side was {weighting} ({groups}). The knee extension moment was "
        f"normalised to body mass. The primary outcomes were {_list(analysis['primary_outcomes'])}."
    )


def _qc_paragraph(config: dict, qc: pd.DataFrame) -> str:
    t = config["qc"]
    text = (
        "Each trial was checked against the thresholds of OpenSim's best practices "
        f"{_cite('Hicks et al. 2015')}: scaling marker error RMS <= {_n(100 * t['scale_marker_rms_max_m'])} cm and "
        f"maximum <= {_n(100 * t['scale_marker_max_max_m'])} cm; IK marker error RMS <= "
        f"{_n(100 * t['ik_marker_rms_max_m'])} cm and maximum <= {_n(100 * t['ik_marker_max_max_m'])} cm; peak "
        f"residual force <= {_n(100 * t['residual_force_max_share_of_peak_grf'])} % of peak GRF; peak residual "
        f"moment <= {_n(t['residual_moment_max_nm'])} N·m"
    )
    text += f" and <= {_n(100 * t['residual_moment_max_share_of_com_height_x_peak_grf'])} % of COM height x peak GRF"
    if config["residual_reduction"]["method"] == "rra":
        text += (
            f"; RRA kinematic change RMS <= {_n(t['kinematic_change_rms_max_deg'])} deg and "
            f"{_n(t['kinematic_change_rms_max_cm'])} cm"
        )
    text += (
        f"; peak reserve moment <= {_n(100 * t['reserve_peak_share_max'])} % of the peak joint moment; and at most "
        f"{_n(100 * t['saturated_frame_share_max'])} % of frames with an activation >= "
        f"{_n(t['saturation_activation'])}."
    )
    ran = qc[qc["status"] != "failed"] if len(qc) else qc
    failed = len(qc) - len(ran)
    passed = int(ran["pass"].astype(str).str.lower().isin(["true", "1"]).sum()) if len(ran) else 0
    text += f" Of {_count(len(qc), 'trial')}, {len(ran)} ran through" + (
        f" ({failed} failed at a processing stage)" if failed else ""
    )
    text += f" and {passed} passed every check."
    flags = pd.Series(
        [f for cell in ran.get("flags", pd.Series(dtype=str)).fillna("") for f in str(cell).split(";") if f]
    )
    if len(flags):
        counts = flags.value_counts()
        text += (
            " Trials failing each check: "
            + "; ".join(f"{CHECKS[flag].name if flag in CHECKS else flag} {n}" for flag, n in counts.items())
            + "."
        )
    if config["analysis"]["qc_gate"] == "exclude":
        text += f" Trials failing a check were excluded from the statistics ({_count(len(ran) - passed, 'trial')})."
    else:
        text += f" All {len(ran)} trials entered the statistics, whether or not they passed (qc_gate include)."
    return text


def _statistics_paragraph(config: dict, comparison: pd.DataFrame | None) -> str:
    analysis = config["analysis"]
    a, b = analysis["compare"]
    alpha = analysis["alpha"]
    level = 100 * (1 - alpha)
    primary = analysis["primary_outcomes"]
    n_secondary = None
    if comparison is not None and "family" in comparison:
        n_secondary = int((comparison["family"] == "secondary").sum())
    # an empty comparison (one condition, too few subjects) has no rows to count
    secondary = f"the other {n_secondary} outcomes" if n_secondary else "all other outcomes"
    also_95 = "" if round(level, 6) == 95 else " (and 95 %)"
    cycles = _count(analysis["min_cycles"], "analysed cycle")
    return (
        f"Cycle values were averaged per subject and condition; subjects with at least {cycles} in both {a} and "
        f"{b} entered the paired comparison ({b} minus {a}), which needed at least {analysis['min_subjects']} "
        f"subjects. Each outcome was compared by a paired t-test {_cite('Student 1908')} and a Wilcoxon signed-rank "
        f"test {_cite('Wilcoxon 1945')} (which can reach p < {_n(alpha)} only from "
        f"{stats.wilcoxon_min_subjects(alpha)} subjects on), with the mean difference, its {_n(level)} % confidence "
        f"interval{also_95} and Cohen's dz {_cite('Lakens 2013')}; ratios were compared on the log scale and "
        f"reported as the ratio of geometric means with its {_n(level)} % confidence interval. p-values were "
        f"Holm-adjusted {_cite('Holm 1979')} within two families: the {len(primary)} primary outcomes and "
        f"{secondary}. The group activation and knee moment curves were compared by a paired SPM t-test "
        f"{_cite('Pataky 2012')}. The significance level was alpha = {_n(alpha)}."
    )


def _software_paragraph(versions: dict) -> str:
    return (
        f"The analysis ran in retrorun {versions['retrorun']}, a Snakemake {versions['snakemake']} workflow "
        f"{_cite('Mölder et al. 2021')}, with OpenSim {versions['opensim']} "
        f"{_cite('Delp et al. 2007', 'Seth et al. 2018')}, NumPy {versions['numpy']} {_cite('Harris et al. 2020')}, "
        f"SciPy {versions['scipy']} {_cite('Virtanen et al. 2020')} and spm1d {versions['spm1d']} "
        f"{_cite('Pataky 2012')}."
    )


def methods_text(
    config: dict,
    *,
    versions: dict,
    model: dict,
    subjects: pd.DataFrame,
    trials: pd.DataFrame,
    qc: pd.DataFrame,
    counts: pd.DataFrame | None = None,
    comparison: pd.DataFrame | None = None,
) -> str:
    """The methods section (Markdown) of the study ``config`` (validated, defaults filled)."""
    per_condition = _in_compare_order(trials.groupby("condition").size(), config["analysis"]["compare"])
    design = (
        f"{_count(len(subjects), 'subject')} ran {_count(len(trials), 'trial')}: "
        + ", ".join(f"{n} {condition}" for condition, n in per_condition.items())
        + "."
    )
    sections = [
        ("Software", _software_paragraph(versions)),
        ("Participants and trials", design),
        ("Model, scaling and kinematics", _model_paragraph(config, model, subjects) + _c3d_sentence(config, trials)),
        ("Filtering", _filter_paragraph(config)),
        ("Gait events and cycles", _events_paragraph(config, counts)),
        ("Inverse dynamics and residual reduction", _dynamics_paragraph(config)),
        ("Static optimization and muscle strength", _so_paragraph(config, versions)),
        ("Outcomes", _outcomes_paragraph(config)),
        ("Quality checks", _qc_paragraph(config, qc)),
        ("Statistics", _statistics_paragraph(config, comparison)),
    ]
    body = "\n\n".join(f"### {title}\n\n{text}" for title, text in sections)
    cited = sorted({key for key in REFERENCES if key in body})
    references = "\n".join(f"- {REFERENCES[key]}" for key in cited)
    return f"## Methods: {config['study']}\n\n{body}\n\n### References\n\n{references}\n"


def cited_keys(text: str) -> list[str]:
    """Every (Author year) key cited in a methods text."""
    found = []
    for group in re.findall(r"\(([^()]*\d{4}[^()]*)\)", text):
        found += [part.strip() for part in group.split(";")]
    return [key for key in found if key in REFERENCES]
