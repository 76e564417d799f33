"""Group activations per side: the mean of the group's muscles, optionally weighted by
each muscle's max isometric force (a strong vastus counts more than a weak one)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import AnalysisError


def group_column(group: str, side: str) -> str:
    return f"{group}_{side}"


# config `chains` (front, rear) -> the analysis group each becomes (retrorun.analysis)
CHAIN_GROUPS = {"front": "front_chain", "rear": "rear_chain"}


def analysis_groups(config: dict) -> dict[str, list[str]]:
    """The groups the analysis computes: config ``muscle_groups`` and, when config
    ``chains`` is given, ``front_chain`` and ``rear_chain`` (analysed like any group)."""
    chains = config.get("chains") or {}
    return dict(config["muscle_groups"]) | {
        CHAIN_GROUPS[name]: list(chains[name]) for name in CHAIN_GROUPS if name in chains
    }


def check_group_muscles(
    names, *, groups: dict[str, list[str]], sides: dict[str, str], where: str, key: str = "muscle_groups"
) -> list[str]:
    """Every muscle of config muscle_groups (or ``key``, e.g. chains) must be in ``names``
    (the model's muscles, or the columns of a stage's activations) with every side
    suffix: a group silently missing a muscle would change its mean without anyone noticing."""
    present = set(names)
    return [
        f"config {key}.{group}: muscle '{muscle}{suffix}' (side {side}) is not in {where} "
        f"(its muscles: {', '.join(sorted(present - {'time_s'})[:12])}...)"
        for group, muscles in groups.items()
        for muscle in muscles
        for side, suffix in sides.items()
        if f"{muscle}{suffix}" not in present
    ]


def group_muscles(
    columns,
    *,
    groups: dict[str, list[str]],
    sides: dict[str, str],
    source: str = "",
    subject: str = "",
    trial: str = "",
) -> dict[tuple[str, str], list[str]]:
    """(group, side) -> the activation columns of that group's muscles on that side
    (every one must be there: check_group_muscles)."""
    problems = check_group_muscles(columns, groups=groups, sides=sides, where=f"the activations {source}".rstrip())
    if problems:
        raise AnalysisError(
            "; ".join(problems),
            subject=subject,
            trial=trial,
            fix="name muscles in config muscle_groups exactly as the model does, without the side suffix",
        )
    return {
        (group, side): [f"{muscle}{suffix}" for muscle in muscles]
        for group, muscles in groups.items()
        for side, suffix in sides.items()
    }


def group_activations(
    activations: pd.DataFrame,
    *,
    groups: dict[str, list[str]],
    sides: dict[str, str],
    weights: dict[str, float] | None = None,
    source: str = "",
    subject: str = "",
    trial: str = "",
) -> pd.DataFrame:
    """``time_s`` and one column ``<group>_<side>`` per group and side.

    ``weights`` (muscle column -> weight, e.g. max isometric force in N) gives a
    weighted mean; ``None`` the plain mean.
    """
    members = group_muscles(
        activations.columns, groups=groups, sides=sides, source=source, subject=subject, trial=trial
    )
    out = pd.DataFrame({"time_s": activations["time_s"].to_numpy()})
    for (group, side), names in members.items():
        if weights is None:
            out[group_column(group, side)] = activations[names].mean(axis=1).to_numpy()
            continue
        lacking = [name for name in names if name not in weights]
        if lacking:
            raise AnalysisError(
                f"no max isometric force for {', '.join(lacking)} in the model",
                fix="use analysis.weighting: mean, or a model that has these muscles",
                subject=subject,
                trial=trial,
            )
        w = pd.Series({name: float(weights[name]) for name in names})
        out[group_column(group, side)] = (activations[names] * w).sum(axis=1).to_numpy() / w.sum()
    return out


def above_floor(activations: pd.DataFrame, floors: dict[str, float]) -> pd.DataFrame:
    """Each muscle's activation minus its floor (``floors``: column -> the model's
    ``min_control``), never below 0; columns without a floor are kept as they are."""
    out = activations.copy()
    columns = [column for column in floors if column in out]
    if columns:
        # one array for all muscles (a pandas call per muscle cost 40 ms per table); below 0
        # -> 0, NaN and -0.0 kept, as Series.clip(lower=0.0) does
        values = out[columns].to_numpy(dtype=float) - np.array([float(floors[c]) for c in columns])
        out[columns] = np.where(values < 0.0, 0.0, values)
    return out


def max_isometric_forces(model_path: str, muscles: list[str]) -> dict[str, float]:
    """Max isometric force (N) of each named muscle in an OpenSim model."""
    from .model_properties import muscle_properties

    return {name: props["max_isometric_force_n"] for name, props in muscle_properties(model_path, muscles).items()}
