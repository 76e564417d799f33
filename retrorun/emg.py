"""Measured muscle activity (surface EMG): reading, processing, normalising, and its
curves and cycle metrics beside static optimization's.

Processing of raw EMG (``emg.signal: raw``): the offset (the channel's mean) removed, a
zero-lag Butterworth band-pass (default 20-450 Hz: a 20 Hz high-pass removes movement
artefact with little loss of EMG power, De Luca et al. 2010, J Biomech 43:1573; 450 Hz
keeps the surface EMG band, Hermens et al. 2000, J Electromyogr Kinesiol 10:361,
SENIAM), full-wave rectification, and a zero-lag low-pass to the linear envelope
(default 6 Hz, the envelope cut-off of Winter 2009, Biomechanics and Motor Control of
Human Movement, 4th ed.). ``signal: envelope`` takes envelopes processed elsewhere and
only resamples them.

Normalisation (``emg.normalise``): ``subject_peak`` divides each channel by the peak of
its cycle-mean envelope over all of that subject's trials, both conditions (the larger
of the conditions' mean-cycle peaks), so one divisor serves both conditions and a
forward-backward contrast keeps its size; dividing each trial by its own peak would set
every trial's peak to 1 and erase that contrast. ``mvc`` divides by the peak envelope of
the subject's maximal voluntary contraction file (subjects sheet ``emg_mvc``).

A channel maps to one or more model muscles (full names with side suffix); one
electrode standing for several muscles (e.g. the three gluteus maximus bundles) counts
once: in a group it is one member, and it is compared with the mean of its muscles.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import cycle_plan as plan
from . import cycles as cyc
from . import filtering
from .c3d import open_c3d
from .errors import AnalysisError, ConfigError, InputError
from .formats import read_delimited_numbers, read_storage, read_storage_time_bounds, read_trc_times

SOURCE = "emg"
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
STORAGE_SUFFIXES = (".sto", ".mot")
TIME_NAMES = ("time", "time_s", "t")
FILTER_ORDER = 4  # Butterworth order of each pass (filtfilt doubles it, zero lag)
ENVELOPE_COLUMN_PREFIX = "emg_"


def channel_column(channel: str) -> str:
    """The column of a channel's envelope in cycle_curves.csv."""
    return f"{ENVELOPE_COLUMN_PREFIX}{channel}"


def group_curve_column(group: str) -> str:
    """The column of a group's EMG curve (the cycle's own side) in cycle_curves.csv."""
    return f"{ENVELOPE_COLUMN_PREFIX}{group}_activation"


@dataclass
class Recording:
    """One EMG file: ``table`` holds ``time_s`` and one column per channel label."""

    table: pd.DataFrame
    rate_hz: float
    units: dict[str, str]
    path: str

    @property
    def labels(self) -> list[str]:
        return [c for c in self.table.columns if c != "time_s"]


def enabled(config: dict) -> bool:
    """Whether the study maps any EMG channel to model muscles."""
    return bool(config.get("emg", {}).get("channels"))


def emg_source(trial, config: dict) -> Path | None:
    """The file a trial's EMG is read from: its ``emg`` cell, else its C3D (analog channels),
    else None (no EMG)."""
    if not enabled(config):
        return None
    if trial.emg:
        return Path(trial.emg)
    if str(trial.markers).lower().endswith(".c3d"):
        return Path(trial.markers)
    return None


# ------------------------------------------------------------------------ reading


def read_emg(path: str | Path, *, subject: str = "", trial: str = "") -> Recording:
    """An EMG file: CSV/TSV (time column in s first or named time/time_s), OpenSim
    .sto/.mot, or a C3D's analog channels."""
    path = Path(path)
    where = {"subject": subject, "trial": trial}
    if not path.is_file():
        raise InputError(f"EMG file {path} does not exist", fix="correct the emg column of the sheet", **where)
    suffix = path.suffix.lower()
    if suffix == ".c3d":
        return read_c3d_analogs(path, subject=subject, trial=trial)
    if suffix in STORAGE_SUFFIXES:
        table, _ = read_storage(path)
        table = table.rename(columns={"time": "time_s"})
    elif suffix in TEXT_SUFFIXES:
        try:
            table = read_delimited_numbers(path)  # the same table, sooner, when its cells are plain numbers
            if table is None:
                table = pd.read_csv(path, sep=None, engine="python")
        except Exception as err:
            raise InputError(
                f"EMG file {path} cannot be read as delimited text ({err})",
                fix="export it as CSV or TSV with a header row",
                **where,
            ) from None
        time_column = next((c for c in table.columns if str(c).strip().lower() in TIME_NAMES), table.columns[0])
        table = table.rename(columns={time_column: "time_s"})
        table = table[["time_s", *[c for c in table.columns if c != "time_s"]]]
        try:
            table = table.astype(float)
        except ValueError:
            raise InputError(
                f"EMG file {path}: a cell is not numeric", fix="export the file again, numbers only", **where
            ) from None
    else:
        raise InputError(
            f"EMG file {path}: unknown format '{suffix}'",
            fix="give CSV/TSV (.csv, .tsv, .txt), OpenSim .sto/.mot or C3D",
            **where,
        )
    table.columns = [str(c).strip() for c in table.columns]
    time_s = table["time_s"].to_numpy(dtype=float)
    rate = 1.0 / float(np.median(np.diff(time_s))) if time_s.size > 1 and np.all(np.diff(time_s) > 0) else np.nan
    return Recording(table=table, rate_hz=rate, units={}, path=str(path))


def read_c3d_analogs(path: str | Path, *, subject: str = "", trial: str = "") -> Recording:
    """The analog channels of a C3D (labels ANALOG:LABELS, rate ANALOG:RATE, units
    ANALOG:UNITS), time from the first frame (POINT / TRIAL:ACTUAL_START_FIELD)."""
    c3d = open_c3d(path, subject=subject, trial=trial)
    parameters = c3d["parameters"]
    analog = parameters.get("ANALOG", {})
    labels = [str(label).strip() for label in analog.get("LABELS", {}).get("value", [])]
    rate = float(analog.get("RATE", {}).get("value", [np.nan])[0])
    units = [str(u).strip() for u in analog.get("UNITS", {}).get("value", [])]
    data = np.asarray(c3d["data"]["analogs"], dtype=float)  # (1, channels, samples)
    if not labels or data.size == 0 or not rate > 0:
        raise InputError(
            f"{path} holds no analog channels (ANALOG:LABELS / ANALOG:RATE)",
            subject=subject,
            trial=trial,
            fix="give the EMG as its own file in the emg column of the trials sheet",
        )
    values = data[0]
    first_frame = int(parameters.get("TRIAL", {}).get("ACTUAL_START_FIELD", {}).get("value", [1])[0] or 1)
    point_rate = float(parameters.get("POINT", {}).get("RATE", {}).get("value", [rate])[0])
    start_s = (first_frame - 1) / point_rate if point_rate > 0 else 0.0
    table = pd.DataFrame(values.T, columns=labels)
    table.insert(0, "time_s", start_s + np.arange(values.shape[1]) / rate)
    return Recording(
        table=table,
        rate_hz=rate,
        units={label: units[k] if k < len(units) else "" for k, label in enumerate(labels)},
        path=str(path),
    )


def duplicate_channels(table: pd.DataFrame, labels) -> list[list[str]]:
    """Groups of bit-identical columns among ``labels`` (one electrode recorded twice)."""
    seen: dict[bytes, list[str]] = {}
    for label in labels:
        seen.setdefault(np.ascontiguousarray(table[label].to_numpy(dtype=float)).tobytes(), []).append(label)
    return [group for group in seen.values() if len(group) > 1]


# ------------------------------------------------------------------------ checks


def channel_side(muscles: list[str], sides: dict[str, str]) -> str | None:
    """The side whose suffix every muscle of a channel carries; None when mixed."""
    found = {side for m in muscles for side, suffix in sides.items() if suffix and m.endswith(suffix)}
    return found.pop() if len(found) == 1 else None


def check_settings(config: dict, model_muscles: set[str] | None) -> list[str]:
    """Problems with config ``emg`` itself: muscles absent from the model (closest name),
    channels of mixed or unknown side."""
    settings = config.get("emg", {})
    problems = []
    for channel, muscles in settings.get("channels", {}).items():
        if channel_side(muscles, config["sides"]) is None:
            problems.append(
                f"config emg.channels.{channel}: muscles {', '.join(muscles)} do not all end in one side suffix "
                f"of config sides ({config['sides']}); one electrode belongs to one side"
            )
        for muscle in muscles:
            if model_muscles is not None and muscle not in model_muscles:
                close = difflib.get_close_matches(muscle, sorted(model_muscles), n=1)
                problems.append(
                    f"config emg.channels.{channel}: muscle '{muscle}' is not in the model"
                    + (f" (closest: '{close[0]}')" if close else "")
                )
    return problems


def check_recording(
    recording: Recording, settings: dict, *, covers: tuple[float, float] | None, key: str = "emg"
) -> tuple[list[str], list[str]]:
    """(problems, warnings) of one EMG file against config ``emg``: time increasing,
    every configured channel present, band-pass below Nyquist, the record (shifted by
    ``time_offset_s``) covering ``covers`` (start, end in s)."""
    problems, warnings = [], []
    path = recording.path
    time_s = recording.table["time_s"].to_numpy(dtype=float)
    if time_s.size < 2 or not np.all(np.diff(time_s) > 0):
        bad = int(np.argmax(np.diff(time_s) <= 0)) if time_s.size > 1 else 0
        problems.append(
            f"EMG file {path}: time does not increase (row {bad + 2} of the data: "
            f"{time_s[bad + 1] if time_s.size > 1 else 'only one row'} s after {time_s[bad]} s); export it again"
        )
        return problems, warnings
    missing = [c for c in settings["channels"] if c not in recording.labels]
    if missing:
        problems.append(
            f"EMG file {path} has no channel(s) {', '.join(missing)} named in config emg.channels; its channels: "
            f"{', '.join(recording.labels)}"
        )
    nyquist = recording.rate_hz / 2.0
    if settings["signal"] == "raw":
        for name, value in (
            ("emg.band_pass_hz", max(settings["band_pass_hz"])),
            ("emg.envelope_low_pass_hz", settings["envelope_low_pass_hz"]),
        ):
            if value >= nyquist:
                problems.append(
                    f"EMG file {path} is sampled at {recording.rate_hz:g} Hz (Nyquist {nyquist:g} Hz): config {name} "
                    f"edge {value:g} Hz is at or above it; lower {name} below {nyquist:g} Hz"
                )
    if covers is not None:
        offset = settings["time_offset_s"]
        start, end = time_s[0] + offset, time_s[-1] + offset
        if start > covers[0] + 1e-6 or end < covers[1] - 1e-6:
            problems.append(
                f"EMG file {path} spans {start:.3f}-{end:.3f} s (with emg.time_offset_s {offset:g}) but the trial "
                f"is analysed over {covers[0]:.3f}-{covers[1]:.3f} s: give the whole recording, or set start_s/end_s "
                "of the trial inside the EMG"
            )
    present = [c for c in settings["channels"] if c in recording.labels]
    for group in duplicate_channels(recording.table, present):
        warnings.append(
            f"EMG file {path}: channels {', '.join(group)} are bit-identical copies of one electrode; "
            f"counted once, as {group[0]}"
        )
    return problems, warnings


def check_normalisation(study) -> list[str]:
    """``normalise: mvc`` needs every subject with EMG to have an MVC file."""
    config = study.config
    if not enabled(config) or config["emg"]["normalise"] != "mvc":
        return []
    with_emg = {t.subject for t in study.trials if emg_source(t, config)}
    return [
        f"subject {s.name}: config emg.normalise is mvc but the subjects sheet gives no emg_mvc file; add the "
        "column emg_mvc with the subject's MVC recording, or set emg.normalise: subject_peak"
        for s in study.subjects
        if s.name in with_emg and not s.emg_mvc
    ] + [
        f"subject {s.name}: MVC file {s.emg_mvc} does not exist"
        for s in study.subjects
        if s.name in with_emg and s.emg_mvc and not Path(s.emg_mvc).is_file()
    ]


# ------------------------------------------------------------------------ processing


def raw_to_envelope(values, *, rate_hz: float, band_pass_hz, low_pass_hz: float) -> np.ndarray:
    """Linear envelope of raw EMG: offset removed, zero-lag band-pass (SciPy's butter and
    sosfiltfilt, bit for bit, retrorun.filtering), full-wave rectified, zero-lag low-pass
    whose -3 dB point as applied is ``low_pass_hz`` (the pipeline's one low-pass,
    retrorun.filtering, as for filter_hz). A recording too short for the band-pass's
    padding (SciPy's padlen: 27 samples at FILTER_ORDER 4) is refused with a ValueError."""
    values = np.asarray(values, dtype=float)
    centred = values - np.mean(values)
    band = filtering.sosfiltfilt(filtering.bandpass_sos(FILTER_ORDER, band_pass_hz, rate_hz=rate_hz), centred)
    envelope = filtering.lowpass(np.abs(band), rate_hz=rate_hz, cutoff_hz=low_pass_hz)
    # a zero-lag low-pass of a non-negative signal can ring a little below zero
    return np.clip(envelope, 0.0, None)


def dead_channels(table: pd.DataFrame, labels) -> list[str]:
    """Channels with no signal in a file (all NaN or constant: an electrode off or unplugged)."""
    dead = []
    for label in labels:
        values = table[label].to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        if finite.size < 2 or np.ptp(finite) == 0:
            dead.append(label)
    return dead


def process(recording: Recording, settings: dict, *, start_s: float, end_s: float, rate_hz: float) -> pd.DataFrame:
    """``time_s`` on a uniform grid at ``rate_hz`` over ``start_s``-``end_s`` and the
    processed (not yet normalised) envelope of every configured channel with a signal;
    a duplicate column counts once (its first label)."""
    offset = settings["time_offset_s"]
    time_s = recording.table["time_s"].to_numpy(dtype=float) + offset
    grid = np.arange(start_s, end_s + 0.5 / rate_hz, 1.0 / rate_hz)
    grid = grid[grid <= end_s + 1e-9]
    out = pd.DataFrame({"time_s": grid})
    labels = [c for c in settings["channels"] if c in recording.labels]
    copies = {label for group in duplicate_channels(recording.table, labels) for label in group[1:]}
    dead = set(dead_channels(recording.table, labels))
    for label in labels:
        if label in copies or label in dead:
            continue
        values = recording.table[label].to_numpy(dtype=float)
        if settings["signal"] == "raw":
            envelope = raw_to_envelope(
                values,
                rate_hz=recording.rate_hz,
                band_pass_hz=settings["band_pass_hz"],
                low_pass_hz=settings["envelope_low_pass_hz"],
            )
        else:
            envelope = values
        out[label] = np.interp(grid, time_s, envelope)
    return out


# ------------------------------------------------------------------------ normalisation


def cycle_mean(table: pd.DataFrame, cycles: pd.DataFrame, channel: str, side: str) -> np.ndarray | None:
    """Mean over a trial's used cycles of ``side`` of a channel's envelope (0-100 %)."""
    used = cycles[(cycles["status"] == plan.USED) & (cycles["side"] == side)]
    curves = [
        cyc.time_normalise(table["time_s"], table[channel], start_s=row.start_s, end_s=row.end_s)
        for row in used.itertuples()
    ]
    return np.mean(curves, axis=0) if curves else None


def subject_peaks(trials: list[tuple[dict, pd.DataFrame, pd.DataFrame]], settings: dict, sides) -> pd.DataFrame:
    """Per channel: the peak of its cycle-mean envelope in each condition over all of a
    subject's trials, and the divisor (the largest). ``trials``: (info with condition,
    processed envelopes, cycles.csv) per trial."""
    rows = []
    for channel, muscles in settings["channels"].items():
        side = channel_side(muscles, sides)
        by_condition: dict[str, list[tuple[np.ndarray, int]]] = {}
        for info, table, cycles in trials:
            if channel not in table:
                continue
            used = int(((cycles["status"] == plan.USED) & (cycles["side"] == side)).sum())
            mean = cycle_mean(table, cycles, channel, side)
            if mean is not None:
                by_condition.setdefault(info["condition"], []).append((mean, used))
        for condition, parts in by_condition.items():
            weights = np.array([n for _, n in parts], dtype=float)
            mean = np.average(np.array([m for m, _ in parts]), axis=0, weights=weights)
            rows.append(
                {"channel": channel, "condition": condition, "peak": float(mean.max()), "n_cycles": int(weights.sum())}
            )
    table = pd.DataFrame(rows, columns=["channel", "condition", "peak", "n_cycles"])
    table["divisor"] = table.groupby("channel")["peak"].transform("max") if len(table) else []
    return table


def mvc_peaks(recording: Recording, settings: dict) -> pd.DataFrame:
    """Per channel: the peak processed envelope of a subject's MVC recording."""
    time_s = recording.table["time_s"]
    rate = float(recording.rate_hz)
    processed = process(recording, settings, start_s=float(time_s.iloc[0]), end_s=float(time_s.iloc[-1]), rate_hz=rate)
    rows = [
        {"channel": c, "condition": "mvc", "peak": float(processed[c].max()), "n_cycles": 0}
        for c in settings["channels"]
        if c in processed
    ]
    table = pd.DataFrame(rows, columns=["channel", "condition", "peak", "n_cycles"])
    table["divisor"] = table["peak"]
    return table


def normalise(processed: pd.DataFrame, divisors: pd.DataFrame, *, subject: str = "", trial: str = "") -> pd.DataFrame:
    """Each channel of a trial's processed envelopes divided by its subject divisor."""
    out = processed.copy()
    by_channel = divisors.drop_duplicates("channel").set_index("channel")["divisor"]
    for channel in [c for c in processed.columns if c != "time_s"]:
        divisor = float(by_channel.get(channel, np.nan))
        if not divisor > 0:
            raise AnalysisError(
                f"EMG channel {channel} has no positive normalisation divisor ({divisor})",
                fix="check the channel records a signal in this subject's cycles (or its MVC file)",
                subject=subject,
                trial=trial,
            )
        out[channel] = processed[channel] / divisor
    return out


# ------------------------------------------------------------------------ cycles


def group_channels(settings: dict, groups: dict[str, list[str]], sides: dict[str, str], present) -> dict:
    """(group, side) -> the channels (present in a trial) with at least one of the
    group's muscles on that side; each electrode once."""
    out = {}
    for group, muscles in groups.items():
        for side, suffix in sides.items():
            names = {f"{m}{suffix}" for m in muscles}
            members = [c for c, ms in settings["channels"].items() if c in present and names & set(ms)]
            if members:
                out[(group, side)] = members
    return out


def cycle_curves(
    envelopes: pd.DataFrame, cycles: pd.DataFrame, settings: dict, groups: dict[str, list[str]], sides
) -> pd.DataFrame:
    """side, cycle, pct, ``emg_<channel>`` of every channel and ``emg_<group>_activation``
    (the mean of the group's electrodes on the cycle's side) per used cycle."""
    present = [c for c in envelopes.columns if c != "time_s"]
    members = group_channels(settings, groups, sides, present)
    parts = []
    for row in cycles[cycles["status"] == plan.USED].itertuples():
        curve = cyc.normalise_table(envelopes, start_s=row.start_s, end_s=row.end_s)
        out = pd.DataFrame({"side": row.side, "cycle": int(row.cycle), "pct": curve["pct"]})
        for channel in present:
            out[channel_column(channel)] = curve[channel]
        for (group, side), channels in members.items():
            if side == row.side:
                out[group_curve_column(group)] = curve[channels].mean(axis=1)
        parts.append(out)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["side", "cycle", "pct"])


def check_settings_schema(settings: dict) -> list[str]:
    """Cross-key checks the schema cannot express."""
    low, high = settings["band_pass_hz"]
    problems = []
    if not 0 < low < high:
        problems.append(f"config emg.band_pass_hz {settings['band_pass_hz']}: needs 0 < low < high")
    if settings["on_threshold"] <= 0 or settings["on_threshold"] >= 1:
        problems.append("config emg.on_threshold must lie between 0 and 1 (share of each curve's range)")
    return problems


def raise_problems(problems: list[str]) -> None:
    if problems:
        raise ConfigError(
            "EMG input:\n  - " + "\n  - ".join(problems), fix="correct the files or config as each line says"
        )


def analysed_bounds(trial) -> tuple[float, float] | None:
    """Where a trial's cycles can lie, known before any job: its start_s/end_s region
    within the markers' record and the GRF's (None for a C3D: analogs and points share one record)."""
    if str(trial.markers).lower().endswith(".c3d"):
        return None
    try:
        time_s = read_trc_times(trial.markers).time_s
        start, end = float(time_s[0]), float(time_s[-1])
        if trial.grf:
            grf_start, grf_end = read_storage_time_bounds(trial.grf)
            start, end = max(start, grf_start), min(end, grf_end)
    except InputError:
        return None  # the markers' and GRF's own checks report it
    if trial.start_s is not None:
        start = max(start, trial.start_s)
    if trial.end_s is not None:
        end = min(end, trial.end_s)
    return start, end


def recording_files(path, trial) -> list:
    """The files check_recording_file reads: the EMG and, for a trial, its markers and GRF
    (analysed_bounds)."""
    return [path, trial.markers, trial.grf] if trial is not None else [path]


def check_recording_file(*, path, where: str, settings: dict, trial) -> tuple[list[str], list[str]]:
    """(problems, warnings) of one EMG file (a trial's, or a subject's MVC file: trial
    None), each naming ``where``."""
    try:
        recording = read_emg(path)
    except InputError as err:
        return [f"{where}: {err.message} ({err.fix})"], []
    found, warned = check_recording(recording, settings, covers=analysed_bounds(trial) if trial else None)
    return [f"{where}: {p}" for p in found], [f"{where}: {w}" for w in warned]


def check_study(
    study, model_muscles: set[str] | None, *, generated=lambda path: False, check_files=None
) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the study's EMG before any job: config emg against the
    model, every trial's EMG file, the MVC files. Files the workflow writes itself
    (``generated``: the demo's) are checked by rule process_emg instead.
    ``check_files(calls)``: the results of check_recording_file(**call) for each call, in
    order (retrorun.validation remembers each file's and reads the unknown ones in
    parallel); by default they are checked here, one after another."""
    config = study.config
    if not enabled(config):
        return [], []
    settings = config["emg"]
    problems = check_settings_schema(settings) + check_settings(config, model_muscles)
    warnings = []
    problems += check_normalisation(study)
    recordings = [(f"subject {t.subject}, trial {t.name}", emg_source(t, config), t) for t in study.trials]
    recordings += [(f"subject {s.name}, MVC", s.emg_mvc, None) for s in study.subjects if s.emg_mvc]
    calls = [
        dict(path=path, where=where, settings=settings, trial=trial)
        for where, path, trial in recordings
        if not (path is None or generated(path) or (trial is None and not Path(path).is_file()))
    ]
    results = check_files(calls) if check_files else [check_recording_file(**call) for call in calls]
    for found, warned in results:
        problems += found
        warnings += warned
    return problems, warnings


def cycle_metrics(curves: pd.DataFrame, cycles: pd.DataFrame, groups, *, stance_units: bool) -> pd.DataFrame:
    """A trial's EMG cycle metrics (``source`` emg), computed by the same function as SO's
    (analysis.activation_metric_values) from the EMG group curves of each used cycle."""
    from . import analysis

    rows = []
    for row in cycles[cycles["status"] == plan.USED].itertuples():
        own = curves[(curves["side"] == row.side) & (curves["cycle"] == int(row.cycle))]
        group_curves = {
            g: own[group_curve_column(g)].to_numpy(dtype=float)
            for g in groups
            if group_curve_column(g) in own and own[group_curve_column(g)].notna().all()
        }
        if own.empty or not group_curves:
            continue
        values = analysis.activation_metric_values(
            own["pct"].to_numpy(dtype=float),
            group_curves,
            stance_pct=float(row.stance_pct),
            duration_s=float(row.duration_s),
            stance_units=stance_units,
        )
        rows += [
            {"source": SOURCE, "side": row.side, "cycle": int(row.cycle), "group": g, "metric": m}
            | {"value": float(v), "note": note}
            for (g, m), (v, note) in values.items()
        ]
    return pd.DataFrame(rows, columns=analysis.METRIC_COLUMNS)
