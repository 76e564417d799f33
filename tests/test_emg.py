"""EMG: reading, processing, normalisation, cycle metrics, agreement, up-front checks."""

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, random_decimals, shared

from retrorun import analysis, emg, emg_agreement, filtering, formats
from retrorun.errors import InputError

RATE = 2000.0
SETTINGS = {
    "channels": {"vl": ["vaslat_r"], "bf": ["bflh_r"], "glmax": ["glmax1_r", "glmax2_r", "glmax3_r"]},
    "signal": "raw",
    "band_pass_hz": [20, 450],
    "envelope_low_pass_hz": 6,
    "normalise": "subject_peak",
    "time_offset_s": 0.0,
    "envelope_rate_hz": 500,
    "on_threshold": 0.25,
    "max_lag_s": 0.15,
}
SIDES = {"r": "_r", "l": "_l"}


def modulated_noise(envelope, seed=0, offset=0.0):
    """Raw-like EMG: zero-mean broadband noise (the motor unit carrier) times an envelope."""
    carrier = np.random.default_rng(seed).standard_normal(envelope.size)
    return offset + envelope * carrier


def known_envelope(time_s, period_s=0.8):
    return 0.2 + np.clip(np.sin(2 * np.pi * time_s / period_s), 0, None) ** 2


def test_known_envelope_modulating_noise_comes_back():
    time_s = np.arange(0, 4.0, 1 / RATE)
    truth = known_envelope(time_s)
    raw = modulated_noise(truth)
    found = emg.raw_to_envelope(raw, rate_hz=RATE, band_pass_hz=[20, 450], low_pass_hz=6)
    inner = slice(int(0.5 * RATE), int(3.5 * RATE))  # away from the filters' edges
    r = np.corrcoef(found[inner], truth[inner])[0, 1]
    assert r >= 0.95


def test_offset_is_removed():
    time_s = np.arange(0, 3.0, 1 / RATE)
    raw = modulated_noise(known_envelope(time_s))
    plain = emg.raw_to_envelope(raw, rate_hz=RATE, band_pass_hz=[20, 450], low_pass_hz=6)
    shifted = emg.raw_to_envelope(raw + 2.5, rate_hz=RATE, band_pass_hz=[20, 450], low_pass_hz=6)
    # a 2.5 V offset is 2.5x the signal's peak: left in, it would dominate the rectified signal
    assert np.max(np.abs(shifted - plain)) < 1e-6 * np.max(plain)
    assert np.max(emg.raw_to_envelope(np.full(4000, 3.0), rate_hz=RATE, band_pass_hz=[20, 450], low_pass_hz=6)) < 1e-9


def _cycles(starts, duration=0.8, side="r"):
    return pd.DataFrame(
        {
            "side": side,
            "cycle": range(len(starts)),
            "start_s": starts,
            "end_s": [s + duration for s in starts],
            "duration_s": duration,
            "stance_pct": 40.0,
            "status": "used",
        }
    )


def test_subject_peak_normalisation_keeps_a_2x_contrast():
    time_s = np.arange(0, 2.4, 1 / 500)
    base = known_envelope(time_s)
    forward = pd.DataFrame({"time_s": time_s, "vl": 2.0 * base})
    backward = pd.DataFrame({"time_s": time_s, "vl": 1.0 * base})
    cycles = _cycles([0.0, 0.8])
    trials = [({"condition": "forward"}, forward, cycles), ({"condition": "backward"}, backward, cycles)]
    settings = SETTINGS | {"channels": {"vl": ["vaslat_r"]}}
    divisors = emg.subject_peaks(trials, settings, SIDES)
    peaks = {}
    for info, table, c in trials:
        normalised = emg.normalise(table, divisors)
        peaks[info["condition"]] = emg.cycle_mean(normalised, c, "vl", "r").max()
    assert peaks["forward"] == pytest.approx(1.0)
    assert peaks["forward"] / peaks["backward"] == pytest.approx(2.0)
    # a per-trial peak would have made both 1: the contrast is what subject_peak keeps
    assert set(divisors["divisor"]) == {divisors["peak"].max()}


def test_emg_metrics_come_from_the_so_metric_function():
    pct = np.linspace(0, 100, 101)
    q = 0.5 + 0.4 * np.sin(pct / 100 * 2 * np.pi)
    h = 0.3 + 0.2 * np.cos(pct / 100 * 2 * np.pi)
    curves = pd.DataFrame(
        {
            "side": "r",
            "cycle": 0,
            "pct": pct,
            emg.group_curve_column("quadriceps"): q,
            emg.group_curve_column("hamstrings"): h,
        }
    )
    cycles = _cycles([0.0])
    found = emg.cycle_metrics(curves, cycles, {"quadriceps": [], "hamstrings": []}, stance_units=False)
    assert set(found["source"]) == {"emg"}
    expected = analysis.activation_metric_values(
        pct, {"quadriceps": q, "hamstrings": h}, stance_pct=40.0, duration_s=0.8, stance_units=False
    )
    got = {(g, m): v for g, m, v in found[["group", "metric", "value"]].itertuples(index=False)}
    assert got == pytest.approx({k: v for k, (v, _) in expected.items()})
    assert ("quadriceps_hamstrings", "ratio_mean_stance") in got


def test_one_electrode_for_several_muscles_counts_once_in_a_group():
    members = emg.group_channels(
        SETTINGS, {"hips": ["glmax1", "glmax2", "glmax3"], "hamstrings": ["bflh"]}, SIDES, present=["glmax", "bf"]
    )
    assert members == {("hips", "r"): ["glmax"], ("hamstrings", "r"): ["bf"]}


def test_duplicate_columns_warned_and_counted_once(tmp_path):
    time_s = np.arange(0, 1.0, 1 / RATE)
    signal = modulated_noise(known_envelope(time_s))
    table = pd.DataFrame({"time_s": time_s, "vl": signal, "bf": signal, "glmax": signal * 0.5})
    recording = emg.Recording(table=table, rate_hz=RATE, units={}, path="x.csv")
    problems, warnings = emg.check_recording(recording, SETTINGS, covers=None)
    assert not problems
    assert len(warnings) == 1 and "vl, bf" in warnings[0]
    processed = emg.process(recording, SETTINGS, start_s=0.1, end_s=0.9, rate_hz=500)
    assert list(processed.columns) == ["time_s", "vl", "glmax"]


def test_per_source_keeps_holm_families_apart():
    rows = []
    for source, shift in (("so", 0.5), ("emg", 0.0)):
        for subject in range(6):
            for condition, add in (("forward", 0.0), ("backward", shift + 0.01 * subject)):
                for metric in ("mean_stance", "peak"):
                    rows.append(
                        {
                            "source": source,
                            "subject": f"s{subject}",
                            "condition": condition,
                            "group": "quadriceps",
                            "metric": metric,
                            "mean": 1.0 + add + 0.03 * ((subject * 7) % 5),
                            "sd": 0.1,
                            "n_cycles": 3,
                        }
                    )
    subjects = pd.DataFrame(rows)
    kwargs = dict(compare=["forward", "backward"], min_cycles=1, min_subjects=3, primary_outcomes=["quadriceps.peak"])
    both = analysis.per_source(analysis.comparison, subjects, **kwargs)
    so_alone = analysis.comparison(subjects[subjects["source"] == "so"].drop(columns="source"), **kwargs)
    so_rows = both[both["source"] == "so"].drop(columns="source").reset_index(drop=True)
    pd.testing.assert_frame_equal(so_rows, so_alone)
    assert set(both["source"]) == {"so", "emg"}


def test_agreement_recovers_a_known_lag_and_perfect_on_off():
    pct = np.linspace(0, 100, 101)
    duration_s = 1.0
    emg_curve = np.clip(np.sin(2 * np.pi * pct / 100), 0, None)
    # SO follows the EMG 40 ms later (the electromechanical delay)
    so_curve = np.interp(pct - 4.0, pct, emg_curve, period=100.0)
    found = emg_agreement.compare_curves(
        pct, so_curve[None, :], emg_curve[None, :], duration_s=duration_s, settings=SETTINGS
    )
    assert found["lag_ms"] == pytest.approx(40.0, abs=2.0)
    assert found["r_at_lag"] > 0.999
    assert found["r_mean_cycle"] < found["r_at_lag"]
    assert emg_agreement.on_off_agreement_pct(emg_curve, emg_curve + 0.1, threshold=0.25) == 100.0


# ------------------------------------------------------------------ bad input


def _recording(time_s, labels=("vl", "bf", "glmax"), rate=RATE):
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"time_s": time_s} | {label: rng.standard_normal(len(time_s)) for label in labels})
    return emg.Recording(table=table, rate_hz=rate, units={}, path="trial1_emg.csv")


def test_missing_file_refused(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        emg.read_emg(tmp_path / "absent.csv", subject="s1", trial="t1")


def test_unreadable_file_refused(tmp_path):
    path = tmp_path / "emg.csv"
    path.write_text("time,vl\n0.0,0.1\n0.0005,not-a-number\n")
    with pytest.raises(InputError, match="not numeric"):
        emg.read_emg(path, subject="s1", trial="t1")
    with pytest.raises(InputError, match="unknown format '.xlsx'"):
        (tmp_path / "emg.xlsx").write_text("x")
        emg.read_emg(tmp_path / "emg.xlsx")


def test_time_not_increasing_refused():
    time_s = np.arange(0, 1, 1 / RATE)
    time_s[100] = time_s[99]
    problems, _ = emg.check_recording(_recording(time_s), SETTINGS, covers=None)
    assert len(problems) == 1 and "time does not increase" in problems[0] and "trial1_emg.csv" in problems[0]


def test_emg_shorter_than_the_analysed_span_refused():
    problems, _ = emg.check_recording(_recording(np.arange(0, 1, 1 / RATE)), SETTINGS, covers=(0.2, 1.5))
    assert len(problems) == 1 and "spans 0.000-1.000 s" in problems[0] and "0.200-1.500" in problems[0]
    shifted = SETTINGS | {"time_offset_s": 0.5}  # the same record on the markers' clock 0.5 s later covers it
    assert not emg.check_recording(_recording(np.arange(0, 1.1, 1 / RATE)), shifted, covers=(0.6, 1.5))[0]


def test_absent_channel_refused_listing_the_present_ones():
    problems, _ = emg.check_recording(_recording(np.arange(0, 1, 1 / RATE), labels=("vl", "BF")), SETTINGS, covers=None)
    assert len(problems) == 1
    assert "no channel(s) bf, glmax" in problems[0] and "its channels: vl, BF" in problems[0]


def test_muscle_absent_from_the_model_refused_with_the_closest_name():
    config = {"emg": SETTINGS | {"channels": {"vl": ["vas_lat_r"]}}, "sides": SIDES}
    problems = emg.check_settings(config, {"vaslat_r", "vasmed_r", "bflh_r"})
    assert problems == ["config emg.channels.vl: muscle 'vas_lat_r' is not in the model (closest: 'vaslat_r')"]


def test_band_pass_edge_at_nyquist_refused():
    recording = _recording(np.arange(0, 1, 1 / 900.0), rate=900.0)
    problems, _ = emg.check_recording(recording, SETTINGS, covers=None)
    assert len(problems) == 1
    assert "900 Hz" in problems[0] and "emg.band_pass_hz" in problems[0] and "trial1_emg.csv" in problems[0]
    # an envelope file is not band-passed: no such limit
    assert not emg.check_recording(recording, SETTINGS | {"signal": "envelope"}, covers=None)[0]


def test_mvc_without_an_mvc_file_refused():
    trial = SimpleNamespace(subject="s1", name="t1", emg=Path("t1.csv"), markers=Path("t1.trc"))
    subject = SimpleNamespace(name="s1", emg_mvc=None)
    study = SimpleNamespace(config={"emg": SETTINGS | {"normalise": "mvc"}}, trials=[trial], subjects=[subject])
    problems = emg.check_normalisation(study)
    assert len(problems) == 1 and "subject s1" in problems[0] and "emg_mvc" in problems[0]
    study.config["emg"]["normalise"] = "subject_peak"
    assert emg.check_normalisation(study) == []


def test_trc_with_double_tabs_in_its_header_is_read(tmp_path):
    # OpenSim's Moco walking example writes "100.0\t\t100.0\t\t..." under single-tab keys
    path = tmp_path / "m.trc"
    path.write_text(
        "PathFileType  4\t(X/Y/Z)\tm.trc\n"
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames\n"
        "  100.0\t\t  100.0\t\t    2\t\t     1\t\t mm\t  100.0\t      1\t    2\n"
        "Frame#\tTime\tA\t\t\n\t\tX1\tY1\tZ1\n\n"
        "1\t0.00\t1000\t2000\t3000\n2\t0.01\t1000\t2000\t3000\n"
    )
    from retrorun.formats import read_trc

    markers = read_trc(path)
    assert markers.marker_names == ["A"]


@pytest.mark.slow  # reads the recording's markers, GRF and EMG (about 15 s on 2 busy cores)
def test_refused_by_the_study_check_before_any_job(tmp_path):
    """snakemake -n's check (validate_study_inputs) names the file and the present channels."""
    shared("emg", "rajagopal-walk", "electromyography.sto")
    from retrorun.config import load_config, load_study
    from retrorun.errors import ConfigError
    from retrorun.validation import validate_study_inputs

    example = REPO / "config" / "examples" / "rajagopal-walk-emg"
    config = load_config(example / "config.yaml", overrides={"emg": {"channels": {"vastus": ["vaslat_r"]}}})
    with pytest.raises(ConfigError, match=r"no channel\(s\) vastus.*its channels: soleus, gastrocnemius"):
        validate_study_inputs(load_study(config), load_model=False)


# ------------------------------------------------------------------ reference files


def test_c3d_analog_channels_raw_path():
    path = shared("emg", "pyomeca-raw", "markers_analogs.c3d")
    recording = emg.read_emg(path)
    assert recording.rate_hz == 2000.0 and recording.units["Biceps.EMG4"] == "V"
    assert len(recording.table) == 11600 and "Delt_ant.EMG1" in recording.labels
    settings = SETTINGS | {"channels": {"Biceps.EMG4": ["x_r"], "Sensor 1.IM EMG1": ["y_r"]}}
    settings["channels"] = {c: ["x_r"] for c in ("Biceps.EMG4", "Triceps.EMG5")}
    processed = emg.process(recording, settings, start_s=0.5, end_s=5.0, rate_hz=500)
    assert list(processed.columns) == ["time_s", "Biceps.EMG4", "Triceps.EMG5"]
    biceps = processed["Biceps.EMG4"].to_numpy()
    raw = recording.table["Biceps.EMG4"].to_numpy()
    assert (biceps >= 0).all() and biceps.max() < np.abs(raw).max()
    # the envelope of a zero-mean raw signal is of its rectified mean's size, not of its offset
    assert 0.3 < biceps.mean() / np.abs(raw - raw.mean()).mean() < 3.0
    zeros = [c for c in recording.labels if c.startswith("Sensor")]
    assert zeros and set(emg.dead_channels(recording.table, zeros)) == set(zeros)


def test_100_hz_envelope_file():
    path = shared("emg", "ceinms-run", "emgFilt.sto")
    recording = emg.read_emg(path)
    assert recording.rate_hz == pytest.approx(100.0)
    assert recording.labels[:2] == ["soleus_r", "med_gas_r"] and len(recording.labels) == 9
    settings = SETTINGS | {"signal": "envelope", "channels": {"soleus_r": ["soleus_r"]}}
    problems, _ = emg.check_recording(recording, settings, covers=(1.0, 50.0))
    assert not problems
    processed = emg.process(recording, settings, start_s=1.0, end_s=2.0, rate_hz=500)
    # an envelope is only resampled: at the file's own samples it is the file
    at = processed.set_index(processed["time_s"].round(6))["soleus_r"]
    source = recording.table.set_index(recording.table["time_s"].round(6))["soleus_r"]
    assert at.loc[1.5] == pytest.approx(source.loc[1.5])


def test_emg_subject_ratio_sums_over_cycles_with_so_durations():
    """The EMG Q:H ratio of a subject is summed over its cycles like SO's (analysis.subject_means),
    with the cycle durations only SO rows carry; EMG gets no cycle rows of its own."""
    rows = []
    for cycle, (q, h) in enumerate([(1.0, 1.0), (3.0, 0.5)]):
        base = {"subject": "s1", "condition": "forward", "trial": "t1", "side": "r", "cycle": cycle, "note": ""}
        rows += [
            base | {"source": "so", "group": "cycle", "metric": "duration_s", "value": 1.0},
            base | {"source": "so", "group": "cycle", "metric": "stance_pct", "value": 40.0},
            base | {"source": "emg", "group": "quadriceps", "metric": "integrated_stance_s", "value": q},
            base | {"source": "emg", "group": "hamstrings", "metric": "integrated_stance_s", "value": h},
            base | {"source": "emg", "group": "quadriceps_hamstrings", "metric": "ratio_mean_stance", "value": q / h},
        ]
    means = analysis.per_source(analysis.subject_means, pd.DataFrame(rows), shared_groups=[analysis.CYCLE_GROUP])
    emg_rows = means[means["source"] == "emg"].set_index(["group", "metric"])
    assert emg_rows.loc[("quadriceps_hamstrings", "ratio_mean_stance"), "mean"] == pytest.approx(4.0 / 1.5)
    assert "cycle" not in set(emg_rows.index.get_level_values("group"))
    assert set(means.loc[means["source"] == "so", "group"]) == {"cycle"}


def test_demo_emg_truth_compares_only_activation_outcomes():
    """EMG has no knee moment: the demo's EMG truth rows hold the activation outcomes only,
    each with EMG's and the truth's relative forward-backward change."""
    from retrorun.demo import emg as demo_emg

    emg_means = pd.DataFrame(
        [
            {"subject": "s1", "condition": c, "group": "quadriceps", "metric": "mean_stance", "mean": v}
            for c, v in (("forward", 1.0), ("backward", 1.2))
        ]
    )
    truth = pd.DataFrame(
        [
            {"subject": "s1", "condition": c, "side": "r", "group": g, "metric": m, "value": v}
            for c, v in (("forward", 1.0), ("backward", 1.5))
            for g, m in (("quadriceps", "mean_stance"), ("knee", "peak_extension_moment_nm_per_kg"))
        ]
    )
    outcomes = ["quadriceps.mean_stance", "knee.peak_extension_moment_nm_per_kg"]
    rows = demo_emg.difference_rows(emg_means, truth, outcomes=outcomes, compare=["forward", "backward"], side="r")
    assert [row["channel"] for row in rows] == ["quadriceps.mean_stance"]
    assert rows[0]["emg"] == pytest.approx(0.2) and rows[0]["truth"] == pytest.approx(0.5) and rows[0]["pass"]


def test_the_envelope_low_pass_is_at_minus_3_db_at_its_cut_off():
    """envelope_low_pass_hz means what filter_hz means: the -3 dB point of the zero-lag
    filter as applied. A 100 Hz carrier whose amplitude is modulated at f comes back with
    its modulation scaled by the low-pass's gain at f (rectification keeps the envelope;
    its 200 Hz harmonics are filtered out); at 6 Hz that gain is 10^(-3/20) = 0.708 of the
    slow modulation's (each pass at 6 Hz, as before, gave 0.5: -6 dB)."""
    rate_hz, cut_hz = 2000.0, 6.0
    t = np.arange(0, 10, 1 / rate_hz)

    def modulation_amplitude(f_hz):
        raw = (1 + 0.2 * np.sin(2 * np.pi * f_hz * t)) * np.sin(2 * np.pi * 100 * t)
        envelope = emg.raw_to_envelope(raw, rate_hz=rate_hz, band_pass_hz=[20, 450], low_pass_hz=cut_hz)
        middle = slice(int(2 * rate_hz), int(8 * rate_hz))  # away from the filters' edges
        basis = np.column_stack([np.sin(2 * np.pi * f_hz * t), np.cos(2 * np.pi * f_hz * t), np.ones_like(t)])[middle]
        coefficients, *_ = np.linalg.lstsq(basis, envelope[middle], rcond=None)
        return np.hypot(*coefficients[:2])

    gain = modulation_amplitude(cut_hz) / modulation_amplitude(0.5)
    assert 20 * np.log10(gain) == pytest.approx(-3.01, abs=0.1)


ENVELOPE_SETTINGS = dict(rate_hz=RATE, band_pass_hz=[20, 450], low_pass_hz=6)


def scipy_envelope(values, *, rate_hz, band_pass_hz, low_pass_hz):
    """raw_to_envelope as it was computed with SciPy's band-pass."""
    from scipy import signal

    values = np.asarray(values, dtype=float)
    sos = signal.butter(emg.FILTER_ORDER, list(band_pass_hz), btype="bandpass", fs=rate_hz, output="sos")
    band = signal.sosfiltfilt(sos, values - np.mean(values))
    return np.clip(filtering.lowpass(np.abs(band), rate_hz=rate_hz, cutoff_hz=low_pass_hz), 0.0, None)


@pytest.fixture(params=["python", "scipy"])
def filter_path(request, monkeypatch):
    """The band-pass on its Python path or on SciPy's (filtering.PYTHON_FILTER_LIMIT)."""
    monkeypatch.setattr(filtering, "PYTHON_FILTER_LIMIT", float("inf") if request.param == "python" else 0)
    return request.param


@pytest.mark.parametrize("rate_hz", [1000.0, 1111.1, 2000.0, 2400.0])
@pytest.mark.parametrize("band_pass_hz", [(20, 450), (10, 400), (30, 300)])
def test_the_envelope_is_the_scipy_computation_bit_for_bit(filter_path, rate_hz, band_pass_hz):
    for seed, (seconds, low_pass_hz, offset) in enumerate(
        [(2.15, 6.0, 0.0), (3.0, 10.0, -1.7), (28 / rate_hz, 6.0, 5.0)]
    ):
        time_s = np.arange(round(seconds * rate_hz)) / rate_hz
        raw = modulated_noise(known_envelope(time_s), seed=seed, offset=offset) * 10.0 ** (seed - 1)
        settings = dict(rate_hz=rate_hz, band_pass_hz=band_pass_hz, low_pass_hz=low_pass_hz)
        assert np.array_equal(emg.raw_to_envelope(raw, **settings), scipy_envelope(raw, **settings)), seconds


def test_a_recording_too_short_for_the_band_pass_is_refused_saying_so():
    # SciPy's sosfiltfilt refuses it too ("must be greater than padlen, which is 27")
    with pytest.raises(ValueError, match="27 samples is too short .* more than 27 samples"):
        emg.raw_to_envelope(np.random.default_rng(0).standard_normal(27), **ENVELOPE_SETTINGS)
    assert emg.raw_to_envelope(np.random.default_rng(0).standard_normal(28), **ENVELOPE_SETTINGS).shape == (28,)


DEMO_CHANNELS = {"vl": ["vas_lat_r"], "ham": ["semimem_r", "semiten_r"], "gas": ["gastroc_r"], "ta": ["tib_ant_r"]}


def demo_activations() -> pd.DataFrame:
    """True activations like the demo truth's: 100 Hz over 1.55 s."""
    time_s = np.arange(156) / 100.0
    muscles = [m for ms in DEMO_CHANNELS.values() for m in ms]
    phases = np.linspace(0, np.pi, len(muscles))
    return pd.DataFrame(
        {"time_s": time_s}
        | {m: 0.05 + 0.4 * np.sin(2 * np.pi * time_s / 0.7 + p) ** 2 for m, p in zip(muscles, phases)}
    )


def test_the_demo_emg_is_the_scipy_construction_bit_for_bit(filter_path, monkeypatch):
    """The demo's raw EMG and its envelopes, as they were made with SciPy's butter and
    sosfilt (the calls the synthesis made, in its place)."""
    from scipy import signal

    from retrorun.demo import emg as demo_emg

    def synthesize():
        return demo_emg.synthesize(
            demo_activations(), DEMO_CHANNELS, rng=np.random.default_rng(2026), flat=list(DEMO_CHANNELS)[-1]
        )

    raw, parameters = synthesize()
    with monkeypatch.context() as patch:
        patch.setattr(
            demo_emg,
            "filtering",
            SimpleNamespace(
                bandpass_sos=lambda order, band, rate_hz: signal.butter(
                    order, band, btype="bandpass", fs=rate_hz, output="sos"
                ),
                sosfilt=signal.sosfilt,
            ),
        )
        scipy_raw, scipy_parameters = synthesize()
    pd.testing.assert_frame_equal(parameters, scipy_parameters, check_exact=True)
    assert list(raw.columns) == list(scipy_raw.columns) and np.array_equal(raw.to_numpy(), scipy_raw.to_numpy())
    for channel in list(DEMO_CHANNELS)[:-1]:  # the last is flat
        settings = dict(rate_hz=demo_emg.RATE_HZ, band_pass_hz=[20, 450], low_pass_hz=6)
        assert np.array_equal(emg.raw_to_envelope(raw[channel], **settings), scipy_envelope(raw[channel], **settings))


def test_emg_processing_and_the_demo_synthesis_do_not_import_scipy_signal():
    # a second of CPU in every job that processes or synthesizes EMG
    script = (
        "import sys\n"
        "import numpy as np, pandas as pd\n"
        "from retrorun import emg\n"
        "raw = np.random.default_rng(0).standard_normal(round(3.0 * 2000))\n"
        "emg.raw_to_envelope(raw, rate_hz=2000.0, band_pass_hz=[20, 450], low_pass_hz=6.0)\n"
        "from retrorun.demo import emg as demo_emg\n"
        "time_s = np.arange(101) / 100.0\n"
        "activations = pd.DataFrame({'time_s': time_s, 'vas_lat_r': 0.3 + 0.2 * np.sin(time_s)})\n"
        "demo_emg.synthesize(activations, {'vl': ['vas_lat_r']}, rng=np.random.default_rng(1))\n"
        "assert 'scipy.signal' not in sys.modules, 'scipy.signal imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO)


def test_agreement_by_variant_sets_each_variant_beside_the_main_run():
    row = {
        "subject": "S01",
        "condition": "forward",
        "trial": "forward_1",
        "side": "r",
        "kind": "channel",
        "so_muscles": "soleus_r",
        "n_cycles": 2,
        "r_cycle_median": 0.5,
        "lag_ms": 10,
        "r_at_lag": 0.9,
        "on_off_agreement_pct": 80.0,
    }
    main = pd.DataFrame([dict(row, name="soleus", r_mean_cycle=0.6), dict(row, name="vastus", r_mean_cycle=0.2)])
    variant = pd.DataFrame([dict(row, name="vastus", r_mean_cycle=0.5), dict(row, name="soleus", r_mean_cycle=0.7)])
    empty = pd.DataFrame(columns=emg_agreement.COLUMNS)
    table = emg_agreement.by_variant(main, {"solver-moco": variant, "nothing": empty}, main_name="main")
    assert list(table.columns) == ["variant", *emg_agreement.COLUMNS, "r_change_vs_main"]
    assert list(table["variant"]) == ["main", "main", "solver-moco", "solver-moco"]
    changes = dict(zip(table["variant"] + "/" + table["name"], table["r_change_vs_main"].round(6)))
    assert changes == {"main/soleus": 0, "main/vastus": 0, "solver-moco/vastus": 0.3, "solver-moco/soleus": 0.1}


# ------------------------------------------- delimited text: C parser vs python engine
# read_emg reads CSV/TSV through formats.read_delimited_numbers (pandas' C parser) when the
# data are plain numbers, and through pd.read_csv(sep=None, engine="python") otherwise;
# the Recording, or the error, must be the same bit for bit either way.

TEXT_FILES = {
    "comma": b"time,vl,bf\n0,0.1,0.2\n0.001,0.3,0.4\n0.002,-0.5,6e-3\n",
    "semicolon": b"time;vl;bf\n0;0.1;0.2\n0.001;0.3;0.4\n",
    "tab": b"time\tvl\tbf\n0\t0.1\t0.2\n0.001\t0.3\t0.4\n",
    "CRLF line ends": b"time,vl\r\n0,0.1\r\n0.001,0.2\r\n",
    "CRLF header, LF data": b"time,vl\r\n0,0.1\n0.001,0.2\r\n",
    "CR line ends": b"time,vl\r0,0.1\r0.001,0.2\r",
    "a CR inside the header": b"time\rx,vl\n0,0.1\n0.001,0.2\n",
    "a CR inside the data": b"time,vl\n0,0.1\r0.001,0.2\n",
    "BOM": b"\xef\xbb\xbftime,vl\n0,0.1\n0.001,0.2\n",
    "BOM, semicolon": b"\xef\xbb\xbftime;vl\n0;0.1\n0.001;0.2\n",
    "UTF-8 header": "time,vl µV\n0,0.1\n0.001,0.2\n".encode(),
    "Latin-1 header": "time,vl µV\n0,0.1\n0.001,0.2\n".encode("latin-1"),
    "header only": b"time,vl,bf\n",
    "header only, no line end": b"time,vl,bf",
    "empty file": b"",
    "blank first line": b"\ntime,vl\n0,0.1\n0.001,0.2\n",
    "one data row": b"time,vl\n0,0.1\n",
    "no line end at the end": b"time,vl\n0,0.1\n0.001,0.2",
    "text cell": b"time,vl\n0,0.1\n0.001,not-a-number\n",
    "NaN words": b"time,vl\n0,nan\n0.001,NaN\n0.002,-Nan\n0.003,NA\n",
    "empty cells": b"time,vl,bf\n0,,0.2\n0.001,0.3,\n0.002,,\n",
    "an empty column": b"time,vl,bf\n0,,1\n0.001,,2\n",
    "an empty time cell": b"time,vl\n0,1\n,2\n0.002,3\n",
    "quoted header": b'"time","vl","bf"\n0,1,2\n0.001,3,4\n',
    "quoted header with the delimiter inside": b'"time","vl,bf","x"\n0,1,2\n0.001,3,4\n',
    "quoted cells": b'time,vl\n"0","1"\n"0.001","2"\n',
    "spaces after delimiters": b"time, vl, bf\n0, 0.1, 0.2\n0.001, 0.3, 0.4\n",
    "spaces in the data only": b"time,vl\n0, 0.1\n0.001 ,0.3\n",
    "spaces around names": b" time_s , vl \n0,0.1\n0.001,0.2\n",
    "a tab in a comma file": b"time,vl\n0,\t1\n0.001,2\n",
    "time column not first": b"vl,Time,bf\n0.1,0,0.2\n0.3,0.001,0.4\n",
    "time_s column last": b"vl;bf;time_s\n0.1;0.2;0\n0.3;0.4;0.001\n",
    "no time column": b"t0,vl\n0,0.1\n0.001,0.2\n",
    "duplicate names": b"time,vl,vl,bf\n0,1,2,3\n0.001,4,5,6\n",
    "an empty name": b"time,,bf\n0,1,2\n0.001,3,4\n",
    "integers": b"time,vl\n0,1\n1,2\n2,-3\n",
    "integer -0": b"time,vl\n0,-0\n1,2\n",
    "integer -0 and an empty cell": b"time,vl\n0,-00\n1,\n",
    "float -0": b"time,vl\n0,-0.0\n1,2\n",
    "exponent -0": b"time,vl\n0,1e-0\n1,2e-00\n",
    "large integers": b"time,vl,bf\n0,9007199254740993,18446744073709551615\n1,-9007199254740993,9223372036854775808\n",
    "integers beyond 64 bits": b"time,vl\n0,123456789012345678901234567890\n1,2\n",
    "25-digit decimals": b"time,vl\n0.000000000000000000000000e+00,9.669363727051634438e-03\n"
    b"5.000000000000000104e-04,1.056233746518316259e-02\n",
    "17-digit and extreme values": b"time,vl,bf\n0,0.1000000000000000055511,1.7976931348623157e308\n"
    b"1,2.2250738585072011e-308,4.9e-324\n",
    "overflow and underflow": b"time,vl\n0,1e400\n1,1e-400\n2,-1e400\n",
    "number spellings": b"time,vl\n0,.5\n1,5.\n2,+3\n3,1E5\n4,1e+05\n5,-.5e-3\n",
    "malformed numbers": b"time,vl\n0,1-2\n1,1.2.3\n",
    "lone signs and exponents": b"time,vl\n0,-\n1,+\n2,e\n",
    "blank lines": b"time,vl\n\n0,1\n\n1,2\n\n\n",
    "blank lines between rows": b"time,vl\n0,1\n\n1,2\n\n\n",
    "blank lines, CRLF": b"time,vl\r\n\r\n0,1\r\n\r\n1,2\r\n",
    "lines of delimiters": b"time,vl,bf\n0,1,2\n,,\n1,3,4\n",
    "short rows": b"time,vl,bf\n0,1,2\n1,3\n2\n",
    "a longer row later": b"time,vl,bf\n0,1,2\n1,3,4,5\n",
    "first row longer than the header": b"time,vl\n0,1,2\n1,3,4\n",
    "first row shorter than the header": b"time,vl,bf\n0,1\n1,3,4\n",
    "trailing delimiters": b"time,vl,\n0,1,\n1,2,\n",
    "trailing delimiters in the data only": b"time,vl\n0,1,\n1,2,\n",
    "a single column": b"time\n0\n0.001\n",
    "no header": b"0,0.1\n0.001,0.2\n0.002,0.3\n",
    "decimal commas": b"time;vl\n0;0,1\n0,001;0,2\n",
    "decimal commas, tabs": b"time\tvl\n0\t0,1\n0,001\t0,2\n",
    "pipes": b"time|vl\n0|0.1\n0.001|0.2\n",
    "spaces": b"time vl\n0 0.1\n0.001 0.2\n",
    "time not increasing": b"time,vl\n0,1\n0,2\n",
}
# plain numbers under a header: these must take the C parser (the others may not)
FAST_TEXT_FILES = {
    "comma",
    "semicolon",
    "tab",
    "CRLF line ends",
    "CRLF header, LF data",
    "one data row",
    "no line end at the end",
    "empty cells",
    "an empty column",
    "an empty time cell",
    "an empty name",
    "duplicate names",
    "quoted header",
    "quoted header with the delimiter inside",
    "spaces around names",
    "no header",
    "time column not first",
    "time_s column last",
    "no time column",
    "time not increasing",
    "integers",
    "large integers",
    "integers beyond 64 bits",
    "float -0",
    "25-digit decimals",
    "17-digit and extreme values",
    "overflow and underflow",
    "number spellings",
    "blank lines between rows",
    "lines of delimiters",
    "short rows",
    "trailing delimiters",
}


def _read_emg_outcome(path, monkeypatch, *, fast: bool):
    """read_emg(path), or (exception class, text, fix); ``fast`` False: the python engine
    reads every delimited file, as before read_delimited_numbers."""
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(emg, "read_delimited_numbers", lambda path: None, raising=False)
        try:
            return emg.read_emg(path)
        except Exception as err:  # compared, whatever it is
            return (type(err).__name__, str(err), getattr(err, "fix", None))


def _bits(values) -> bytes:
    return np.ascontiguousarray(np.asarray(values, dtype=float)).tobytes()


def _assert_same_reading(path, monkeypatch):
    fast = _read_emg_outcome(path, monkeypatch, fast=True)
    slow = _read_emg_outcome(path, monkeypatch, fast=False)
    if isinstance(slow, tuple) or isinstance(fast, tuple):
        assert fast == slow, path
        return
    pd.testing.assert_frame_equal(fast.table, slow.table, check_exact=True)
    assert list(fast.table.columns) == list(slow.table.columns)
    assert [fast.table[c].dtype for c in fast.table] == [slow.table[c].dtype for c in slow.table]
    assert _bits(fast.table.to_numpy()) == _bits(slow.table.to_numpy()), path  # signs of zeros, NaN bits
    assert _bits(fast.rate_hz) == _bits(slow.rate_hz) and fast.units == slow.units and fast.path == slow.path


def _write_text_case(folder: Path, case: str) -> Path:
    path = folder / ("emg.tsv" if case.startswith("tab") else "emg.csv")
    path.write_bytes(TEXT_FILES[case])
    return path


@pytest.mark.parametrize("case", sorted(TEXT_FILES))
def test_delimited_text_read_the_same_by_both_parsers(tmp_path, monkeypatch, case):
    _assert_same_reading(_write_text_case(tmp_path, case), monkeypatch)


@pytest.mark.parametrize("case", sorted(TEXT_FILES))
def test_plain_numbers_take_the_c_parser(tmp_path, case):
    path = _write_text_case(tmp_path, case)
    assert (formats.read_delimited_numbers(path) is not None) == (case in FAST_TEXT_FILES)


def test_files_sharing_a_first_line_read_the_same_by_both_parsers(tmp_path, monkeypatch):
    """The delimiter and names found in a first line are remembered (per line and width of
    the first data row): files with that line and other rows still read as the python
    engine reads them, whatever was read before."""
    bodies = ["0,1,2\n1,3,4\n", "5,6,7\n", "0,1\n1,2,3\n", "0,1,2,3\n1,2,3,4\n", "0,1,2\n1,2,3,4\n", "0,,\n"]
    for round_ in range(2):
        for k, body in enumerate(bodies):
            path = tmp_path / f"emg{round_}{k}.csv"
            path.write_text("time,vl,bf\n" + body)
            _assert_same_reading(path, monkeypatch)
            assert (formats.read_delimited_numbers(path) is not None) == (k in (0, 1, 5))


def _write_random_decimals(path: Path) -> Path:
    """Random decimals of 1-25 significant digits, some with exponents, 1 % empty cells."""
    cells = random_decimals(2, 30000, 25, exponent_share=0.5, empty_share=0.01)
    rows = [",".join([str(i), *cells[i : i + 5]]) for i in range(0, len(cells), 5)]
    path.write_text("time,a,b,c,d,e\n" + "\n".join(rows) + "\n")
    return path


def _write_benchmark_emg(path: Path) -> Path:
    """The EMG file tools/benchmark_scale.py --emg writes for every trial (write_emg)."""
    time_s = np.round(np.arange(0, 5.4, 0.001), 4)
    rows = [f"{t:.4f},{0.5 + 0.4 * np.sin(7 * t):.4f},{0.5 + 0.4 * np.cos(7 * t):.4f}" for t in time_s]
    path.write_text("time_s,vastus_lateralis,biceps_femoris\n" + "\n".join(rows) + "\n")
    return path


def test_random_decimals_read_the_same_by_both_parsers(tmp_path, monkeypatch):
    """Both engines round correctly."""
    _assert_same_reading(_write_random_decimals(tmp_path / "emg.csv"), monkeypatch)


def test_benchmark_emg_file_read_the_same_by_both_parsers(tmp_path, monkeypatch):
    _assert_same_reading(_write_benchmark_emg(tmp_path / "emg.csv"), monkeypatch)


def test_random_decimals_and_the_benchmark_emg_file_take_the_c_parser(tmp_path):
    assert formats.read_delimited_numbers(_write_random_decimals(tmp_path / "random.csv")) is not None
    assert formats.read_delimited_numbers(_write_benchmark_emg(tmp_path / "benchmark.csv")) is not None


def _shared_emg_files():
    root = shared("emg")
    suffixes = {".csv", ".tsv", ".txt", ".sto", ".mot", ".c3d"}
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in suffixes and p.name.lower() != "readme.txt")
    c3d = shared().joinpath("c3d")
    return paths + sorted(c3d.glob("*.c3d")) if c3d.is_dir() else paths


def test_every_shared_emg_file_read_the_same_by_both_parsers(monkeypatch):
    paths = _shared_emg_files()
    assert paths
    for path in paths:
        _assert_same_reading(path, monkeypatch)


# Every shared storage file (EMG envelopes; GRF, its long rows of long numbers) rewritten
# as delimited text, each number as the file spells it: CSV, semicolons with CRLF, TSV
# (all plain numbers: the C parser), and CSV with a space after each comma (the python engine).
AS_TEXT = {"comma": (",", "\n", True), "semicolon, CRLF": (";", "\r\n", True), "tab": ("\t", "\n", True)}
AS_TEXT["comma and space"] = (", ", "\n", False)


def _shared_storage_as_text(folder: Path, variant: str) -> list[tuple[Path, bool]]:
    """(rewritten file, whether it is plain numbers) of each shared storage file."""
    delimiter, line_end, plain = AS_TEXT[variant]
    paths = [p for p in _shared_emg_files() if p.suffix in {".sto", ".mot"}]
    assert paths
    written = []
    for path in paths:
        lines = path.read_text().splitlines()
        end = next(i for i, line in enumerate(lines) if line.strip().lower() == "endheader")
        rows = [line.split() for line in lines[end + 1 :] if line.strip()]
        text_path = folder / f"{path.parent.name}_{path.stem}.csv"
        text_path.write_bytes("".join(delimiter.join(cells) + line_end for cells in rows).encode())
        written.append((text_path, plain))
    return written


@pytest.mark.parametrize("variant", sorted(AS_TEXT))
def test_shared_emg_files_as_delimited_text_read_the_same_by_both_parsers(tmp_path, monkeypatch, variant):
    for path, _ in _shared_storage_as_text(tmp_path, variant):
        _assert_same_reading(path, monkeypatch)


@pytest.mark.parametrize("variant", sorted(AS_TEXT))
def test_shared_emg_files_as_plain_delimited_numbers_take_the_c_parser(tmp_path, variant):
    for path, plain in _shared_storage_as_text(tmp_path, variant):
        assert (formats.read_delimited_numbers(path) is not None) == plain, path
