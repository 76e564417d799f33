"""Users' OpenSim setup files, read as templates.

Real setup files carry stale paths (a model file that is not there, ``Unassigned``,
a Windows folder). Only the *content* of a template is used here: the scale
measurement set and marker weights, the IK marker weights, and which GRF columns act
on which body. Every file path inside is ignored and set by the pipeline.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .formats import atomic_path


def _parse(path: str | Path, *, what: str) -> ET.Element:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} {path} does not exist", fix="check the path in the config")
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as err:
        raise InputError(
            f"{what} {path} is not valid XML: {err}", fix="open it in a text editor and fix the XML"
        ) from None


def _write(root: ET.Element, path: str | Path) -> None:
    tree = ET.ElementTree(root)
    ET.indent(tree)
    with atomic_path(path) as tmp:
        tree.write(tmp, encoding="UTF-8", xml_declaration=True)


def _document(element: ET.Element) -> ET.Element:
    doc = ET.Element("OpenSimDocument", Version="40000")
    doc.append(element)
    return doc


# --------------------------------------------------------------------- IK tasks


def ik_task_set(path: str | Path) -> ET.Element:
    """The IKTaskSet element of an IK setup XML or of a standalone IKTaskSet XML."""
    root = _parse(path, what="IK tasks file")
    found = root if root.tag == "IKTaskSet" else root.find(".//IKTaskSet")
    if found is None:
        raise InputError(
            f"IK tasks file {path} holds no <IKTaskSet>",
            fix="give model.ik_tasks an OpenSim IK setup XML or an IKTaskSet XML",
        )
    return copy.deepcopy(found)


def marker_weights(task_set: ET.Element) -> dict[str, float]:
    """Marker name -> weight for the applied IKMarkerTasks."""
    weights = {}
    for task in task_set.iter("IKMarkerTask"):
        if _text(task, "apply", "true").lower() == "true":
            weights[task.get("name")] = float(_text(task, "weight", "1"))
    return weights


def coordinate_tasks(task_set: ET.Element) -> list[str]:
    return [
        task.get("name") for task in task_set.iter("IKCoordinateTask") if _text(task, "apply", "true").lower() == "true"
    ]


# What the fast IK solver (fast_ik.py) implements of an IKTaskSet: the task types
# (opensim-core Tools/IKTaskSet: IKMarkerTask, IKCoordinateTask) and coordinate tasks'
# value types (from_file needs a coordinate file, which the pipeline never gives IK).
FAST_IK_TASK_TYPES = ("IKMarkerTask", "IKCoordinateTask")
FAST_IK_VALUE_TYPES = ("default_value", "manual_value")
FAST_IK_FIX = "set ik.solver: opensim in the config to use OpenSim's InverseKinematicsTool"


def fast_ik_task_problems(task_set: ET.Element, path: str | Path) -> list[str]:
    """Why the fast IK solver cannot run these IK tasks (empty when it can)."""
    problems = []
    for task in task_set.iter():
        if task.tag.startswith("IK") and task.tag.endswith("Task") and task.tag not in FAST_IK_TASK_TYPES:
            problems.append(
                f"IK tasks {path}: task type {task.tag} ('{task.get('name')}') is not implemented by the fast IK "
                f"solver (ik.solver: fast), which implements {', '.join(FAST_IK_TASK_TYPES)}: {FAST_IK_FIX}"
            )
    for task in task_set.iter("IKCoordinateTask"):
        if _text(task, "apply", "true").lower() != "true":
            continue
        value_type = _text(task, "value_type", "default_value")
        if value_type not in FAST_IK_VALUE_TYPES:
            problems.append(
                f"IK tasks {path}: coordinate task '{task.get('name')}' has value_type {value_type}, which the fast "
                f"IK solver (ik.solver: fast) does not implement (from_file needs a coordinate file, which the "
                f"pipeline does not give IK): {FAST_IK_FIX}, or give the task value_type default_value or "
                f"manual_value"
            )
    return problems


def write_ik_task_set(task_set: ET.Element, path: str | Path, *, keep_markers: set[str] | None = None) -> list[str]:
    """Write a standalone IKTaskSet; drop marker tasks whose marker is not in ``keep_markers``.

    Returns the names of the dropped marker tasks (markers the data do not have)."""
    task_set = copy.deepcopy(task_set)
    dropped = []
    if keep_markers is not None:
        for objects in task_set.iter("objects"):
            for task in list(objects):
                if task.tag == "IKMarkerTask" and task.get("name") not in keep_markers:
                    objects.remove(task)
                    dropped.append(task.get("name"))
    _write(_document(task_set), path)
    return dropped


def _text(element: ET.Element, tag: str, default: str) -> str:
    child = element.find(tag)
    return child.text.strip() if child is not None and child.text and child.text.strip() else default


# ---------------------------------------------------------------- scale setup


@dataclass
class ScaleTemplate:
    measurement_markers: set[str]
    measurement_bodies: set[str]
    placer_weights: dict[str, float]


def scale_template(path: str | Path) -> ScaleTemplate:
    """What a ScaleTool setup asks of the model and the static trial."""
    root = _parse(path, what="scale setup")
    tool = root if root.tag == "ScaleTool" else root.find(".//ScaleTool")
    if tool is None:
        raise InputError(
            f"scale setup {path} holds no <ScaleTool>", fix="give model.scale_setup an OpenSim ScaleTool setup XML"
        )
    markers, bodies = set(), set()
    for pair in tool.iter("MarkerPair"):
        names = (pair.findtext("markers") or "").split()
        markers.update(names)
    for body in tool.iter("BodyScale"):
        bodies.add(body.get("name"))
    placer = tool.find(".//MarkerPlacer")
    weights = marker_weights(placer) if placer is not None else {}
    return ScaleTemplate(markers, bodies, weights)


# -------------------------------------------------------------- external loads


@dataclass
class ExternalForceSpec:
    name: str
    applied_to_body: str
    force_identifier: str
    point_identifier: str
    torque_identifier: str
    force_expressed_in_body: str
    point_expressed_in_body: str

    def columns(self) -> dict[str, list[str]]:
        return {
            "force": [f"{self.force_identifier}{axis}" for axis in "xyz"],
            "point": [f"{self.point_identifier}{axis}" for axis in "xyz"] if self.point_identifier else [],
            "torque": [f"{self.torque_identifier}{axis}" for axis in "xyz"] if self.torque_identifier else [],
        }

    def missing_columns(self, available) -> list[str]:
        """The columns this force reads that ``available`` (a GRF file's columns) lacks."""
        return [c for cols in self.columns().values() for c in cols if c not in available]


def external_forces(path: str | Path) -> list[ExternalForceSpec]:
    root = _parse(path, what="external loads file")
    loads = root if root.tag == "ExternalLoads" else root.find(".//ExternalLoads")
    if loads is None:
        raise InputError(
            f"external loads file {path} holds no <ExternalLoads>",
            fix="give model.external_loads an OpenSim ExternalLoads XML",
        )
    specs = []
    for force in loads.iter("ExternalForce"):
        specs.append(
            ExternalForceSpec(
                name=force.get("name", ""),
                applied_to_body=_text(force, "applied_to_body", ""),
                force_identifier=_text(force, "force_identifier", ""),
                point_identifier=_text(force, "point_identifier", ""),
                torque_identifier=_text(force, "torque_identifier", ""),
                force_expressed_in_body=_text(force, "force_expressed_in_body", "ground"),
                point_expressed_in_body=_text(force, "point_expressed_in_body", "ground"),
            )
        )
    if not specs:
        raise InputError(f"external loads file {path} has no <ExternalForce>", fix="add one ExternalForce per foot")
    return specs


def write_external_loads(template: str | Path, path: str | Path, *, datafile: str | Path) -> None:
    """Copy an ExternalLoads template with its data file set to ``datafile`` and stale paths removed."""
    root = _parse(template, what="external loads file")
    loads = root if root.tag == "ExternalLoads" else root.find(".//ExternalLoads")
    loads = copy.deepcopy(loads)
    datafile = str(Path(datafile).resolve())
    _set_text(loads, "datafile", datafile)
    for force in loads.iter("ExternalForce"):
        _set_text(force, "data_source_name", datafile)
    for stale in ("external_loads_model_kinematics_file", "lowpass_cutoff_frequency_for_load_kinematics"):
        for element in loads.findall(stale):
            loads.remove(element)
    _write(_document(loads), path)


def _set_text(element: ET.Element, tag: str, text: str) -> None:
    child = element.find(tag)
    if child is None:
        child = ET.SubElement(element, tag)
    child.text = text
