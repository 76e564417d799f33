"""Config and sheet validation: every mistake names the file, row, column and the fix."""

from pathlib import Path

import pytest
import yaml

from retrorun.config import load_config, load_study
from retrorun.errors import ConfigError

SUBJECTS = (
    "subject\tmass_kg\theight_m\tstatic_markers\tstatic_start_s\tstatic_end_s\nS01\t70\t1.80\tdata/static.trc\t\t\n"
)
TRIALS = (
    "subject\ttrial\tcondition\tmarkers\tgrf\tstart_s\tend_s\n"
    "S01\tfwd1\tforward\tdata/fwd1.trc\tdata/fwd1.mot\t1.0\t2.0\n"
    "S01\tbwd1\tbackward\tdata/bwd1.trc\tdata/bwd1.mot\t\t\n"
)


def write_study(tmp_path: Path, *, subjects: str = SUBJECTS, trials: str = TRIALS, **config_changes) -> Path:
    config = {
        "study": "unit",
        "subjects": "subjects.tsv",
        "trials": "trials.tsv",
        "model": {"osim": "m.osim", "scale_setup": "s.xml", "ik_tasks": "ik.xml", "external_loads": "el.xml"},
        "muscle_groups": {"quadriceps": ["vas_lat"], "hamstrings": ["semimem"]},
    }
    config.update(config_changes)
    (tmp_path / "subjects.tsv").write_text(subjects)
    (tmp_path / "trials.tsv").write_text(trials)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_defaults_are_filled_and_paths_resolved_against_the_config_folder(tmp_path):
    prepared = load_config(write_study(tmp_path))
    config = prepared.values
    assert config["filter_hz"] == 12
    assert config["sides"] == {"r": "_r", "l": "_l"}
    assert config["static_optimization"]["max_isometric_force_scale"] == 1.0
    assert config["qc"]["ik_marker_max_max_m"] == 0.04
    assert config["model"]["osim"] == str(tmp_path / "m.osim")
    study = load_study(prepared)
    assert [t.name for t in study.trials] == ["fwd1", "bwd1"]
    assert study.trials[0].markers == tmp_path / "data" / "fwd1.trc"
    assert study.trials[0].start_s == 1.0
    assert [t.end_s is None for t in study.trials] == [False, True]


def test_the_study_holds_typed_subjects_and_trials(tmp_path):
    """Sheet cells become typed values once, in load_study: an empty cell is None (not
    NaN), a file a Path against the config's folder; the hidden keys stay out of the config."""
    from retrorun.config import Subject, Trial

    study = load_study(load_config(write_study(tmp_path)))
    assert study.subject("S01") == Subject(
        name="S01",
        mass_kg=70.0,
        height_m=1.8,
        static_markers=tmp_path / "data" / "static.trc",
        static_start_s=None,
        static_end_s=None,
    )
    backward = study.trial("S01", "bwd1")
    assert backward == Trial(
        subject="S01",
        name="bwd1",
        condition="backward",
        markers=tmp_path / "data" / "bwd1.trc",
        grf=tmp_path / "data" / "bwd1.mot",
        external_loads=None,
        start_s=None,
        end_s=None,
    )
    assert study.trial("S01", "fwd1").region == {"start_s": 1.0, "end_s": 2.0}
    assert str(study.results_dir) == "results/unit"
    assert not [key for key in study.config if key.startswith("_")]


def test_unknown_and_wrong_keys_are_reported_together(tmp_path):
    path = write_study(tmp_path, filter_hz=-3, filtr_hz=6)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    assert "filter_hz" in message and "filtr_hz" in message


def test_missing_muscle_group_is_named(tmp_path):
    path = write_study(tmp_path, muscle_groups={"quadriceps": ["vas_lat"], "calves": ["soleus"]})
    with pytest.raises(ConfigError, match="hamstrings"):
        load_config(path)


def test_non_numeric_mass_names_row_and_column(tmp_path):
    path = write_study(tmp_path, subjects=SUBJECTS.replace("\t70\t", "\tseventy\t"))
    with pytest.raises(ConfigError) as err:
        load_study(load_config(path))
    assert "row 2, column 'mass_kg'" in str(err.value)
    assert "subjects.tsv" in str(err.value)


def test_implausible_mass_is_caught(tmp_path):
    path = write_study(tmp_path, subjects=SUBJECTS.replace("\t70\t", "\t70000\t"))
    with pytest.raises(ConfigError, match=r"mass_kg 70000 .*is it in g or lb"):
        load_study(load_config(path))


def test_zero_mass_is_caught(tmp_path):
    path = write_study(tmp_path, subjects=SUBJECTS.replace("\t70\t", "\t0\t"))
    with pytest.raises(ConfigError, match="mass_kg"):
        load_study(load_config(path))


def test_trial_of_unknown_subject(tmp_path):
    path = write_study(tmp_path, trials=TRIALS.replace("S01\tbwd1", "S02\tbwd1"))
    with pytest.raises(ConfigError, match="subject 'S02' is not in .*subjects.tsv"):
        load_study(load_config(path))


def test_duplicate_trial_ids(tmp_path):
    path = write_study(tmp_path, trials=TRIALS.replace("bwd1", "fwd1"))
    with pytest.raises(ConfigError, match="trial 'fwd1' of subject 'S01' is listed twice"):
        load_study(load_config(path))


def test_missing_sheet_column(tmp_path):
    path = write_study(tmp_path, trials=TRIALS.replace("condition", "cond"))
    with pytest.raises(ConfigError, match="lacks the column.*condition"):
        load_study(load_config(path))


def test_window_end_before_start(tmp_path):
    path = write_study(tmp_path, trials=TRIALS.replace("1.0\t2.0", "2.0\t1.0"))
    with pytest.raises(ConfigError, match="end_s .* must be after start_s"):
        load_study(load_config(path))


def test_trial_without_grf_needs_a_c3d(tmp_path):
    path = write_study(tmp_path, trials=TRIALS.replace("data/fwd1.mot", ""))
    with pytest.raises(ConfigError, match="has no grf file"):
        load_study(load_config(path))


def test_sheet_path_missing(tmp_path):
    path = write_study(tmp_path)
    (tmp_path / "subjects.tsv").unlink()
    with pytest.raises(ConfigError, match="subjects sheet .* does not exist"):
        load_study(load_config(path))


def test_mass_range_comes_from_the_config(tmp_path):
    subjects = SUBJECTS.replace("\t70\t", "\t15\t")
    with pytest.raises(ConfigError, match="mass_kg 15 for subject 'S01' is outside 20-250 kg"):
        load_study(load_config(write_study(tmp_path, subjects=subjects)))
    study = load_study(load_config(write_study(tmp_path, subjects=subjects, sheets={"mass_kg_range": [10, 250]})))
    assert study.subjects[0].mass_kg == 15


def test_trial_named_static_clashes_with_a_static_c3d(tmp_path):
    subjects = SUBJECTS.replace("data/static.trc", "data/static.c3d")
    trials = TRIALS + "S01\tstatic\tforward\tdata/s.c3d\t\t\t\n"
    with pytest.raises(ConfigError, match="trial id 'static' clashes with the import of subject 'S01''s static C3D"):
        load_study(load_config(write_study(tmp_path, subjects=subjects, trials=trials)))


def test_nested_command_line_overrides_arrive_as_strings_and_are_typed(tmp_path):
    """snakemake --config static_optimization='{chunks: 3}' passes chunks as '3'."""
    from retrorun.config import prepare_config

    config = {
        "study": "s",
        "synthetic": {},
        "muscle_groups": {"quadriceps": ["a"], "hamstrings": ["b"]},
        "model": {"osim": "m.osim", "scale_setup": "s.xml", "ik_tasks": "i.xml", "external_loads": "e.xml"},
        "static_optimization": {"chunks": "3", "max_isometric_force_scale": "2.5"},
        "qc": {"saturated_frame_share_max": "0.1"},
    }
    prepared = prepare_config(config, base_dir=tmp_path, source="config.yaml").values
    assert prepared["static_optimization"]["chunks"] == 3
    assert prepared["static_optimization"]["max_isometric_force_scale"] == 2.5
    assert prepared["qc"]["saturated_frame_share_max"] == 0.1
    config["static_optimization"]["chunks"] = "three"
    with pytest.raises(ConfigError, match="chunks"):
        prepare_config(config, base_dir=tmp_path, source="config.yaml")
    # analysis.cycles is 'all' or a number: --config analysis='{cycles: 1}' gives '1'
    config["static_optimization"]["chunks"] = "3"
    for given, typed in (("1", 1), ("all", "all")):
        config["analysis"] = {"cycles": given}
        assert prepare_config(config, base_dir=tmp_path, source="config.yaml").values["analysis"]["cycles"] == typed
    config["analysis"] = {"cycles": "0"}
    with pytest.raises(ConfigError, match="analysis.cycles"):
        prepare_config(config, base_dir=tmp_path, source="config.yaml")


def test_a_given_config_file_is_the_whole_study_and_the_demo_only_the_fallback(tmp_path):
    from retrorun.config import study_config

    demo = tmp_path / "demo" / "config.yaml"
    demo.parent.mkdir()
    demo.write_text(
        yaml.safe_dump(
            {
                "study": "demo",
                "synthetic": {},
                "filter_hz": 10,
                "model": {"osim": "m.osim", "scale_setup": "s.xml", "ik_tasks": "i.xml", "external_loads": "e.xml"},
                "muscle_groups": {"quadriceps": ["a"], "hamstrings": ["b"]},
            }
        )
    )
    own = write_study(tmp_path)
    given = yaml.safe_load(own.read_text())  # what Snakemake hands over for --configfile own
    config = study_config(given, given_files=[own], command_line={}, demo_config=demo).values
    assert config["study"] == "unit" and "synthetic" not in config and config["filter_hz"] == 12
    assert config["model"]["osim"] == str(tmp_path / "m.osim")
    fallback = study_config(
        {"filter_hz": "8"}, given_files=[], command_line={"filter_hz": "8"}, demo_config=demo
    ).values
    assert fallback["study"] == "demo" and fallback["filter_hz"] == 8.0
    assert fallback["model"]["osim"] == str(demo.parent / "m.osim")
    with pytest.raises(ConfigError) as err:
        study_config(given | {"filter_hz": 0}, given_files=[own], command_line={"filter_hz": 0}, demo_config=demo)
    assert f"{own} with the --config values does not match" in str(err.value)


def test_schema_messages_quote_short_values_only(tmp_path):
    path = write_study(
        tmp_path, muscle_groups={"quadriceps": ["vas_lat"] * 30}, qc={"ik_marker_rms_max_m": -1, "ik_rms": 0.02}
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert "key 'muscle_groups' needs at least 2 entries (has 1)" in message
    assert "key 'muscle_groups.hamstrings' is missing" in message
    assert "key 'qc.ik_marker_rms_max_m': -1 is less than or equal to the minimum of 0" in message
    assert "unknown key 'qc.ik_rms'" in message
    assert "vas_lat" not in message


@pytest.mark.parametrize(
    "keys, said",
    [
        (("synthetic", "subjects", "trials"), "it has both 'synthetic'"),
        (("synthetic", "subjects"), "it has both 'synthetic'"),
        (("synthetic", "trials"), "it has both 'synthetic'"),
        (("subjects",), "it has 'subjects' but no 'trials'"),
        ((), "it has neither 'subjects'/'trials'"),
    ],
)
def test_a_study_is_either_its_sheets_or_the_synthetic_demo(tmp_path, keys, said):
    from retrorun.config import prepare_config

    config = {
        "study": "s",
        "muscle_groups": {"quadriceps": ["a"], "hamstrings": ["b"]},
        "model": {"osim": "m.osim", "scale_setup": "s.xml", "ik_tasks": "i.xml", "external_loads": "e.xml"},
    }
    config |= {key: {} if key == "synthetic" else f"{key}.tsv" for key in keys}
    with pytest.raises(ConfigError) as err:
        prepare_config(config, base_dir=tmp_path, source="config.yaml")
    problems = str(err.value).split("\n  what to change")[0].splitlines()[1:]
    assert len(problems) == 1 and said in problems[0], str(err.value)


def test_analysis_defaults_for_primary_outcomes_qc_gate_knee_sign_and_strength(tmp_path):
    config = load_config(write_study(tmp_path)).values
    assert config["analysis"]["primary_outcomes"][0] == "quadriceps_hamstrings.quadriceps_share_stance"
    assert config["analysis"]["test"] == "t" and config["analysis"]["max_speed_difference"] == 0.05
    assert config["analysis"]["qc_gate"] == "exclude"
    assert config["analysis"]["knee_extension_sign"] is None  # read from the model
    assert config["static_optimization"]["strength_scaling"] == "mass"


def test_a_primary_outcome_the_comparison_lacks_is_refused(tmp_path):
    path = write_study(tmp_path, analysis={"primary_outcomes": ["quadriceps.mean_stnce"]})
    with pytest.raises(ConfigError, match="quadriceps.mean_stnce") as err:
        load_config(path)
    assert "group.metric" in str(err.value)


def test_every_schema_reads_as_pyyaml_reads_it():
    """The schemas are parsed with libyaml where PyYAML has it (faster in every job):
    the same values as PyYAML's own parser, so every default and rule is unchanged."""
    from retrorun.config import SCHEMA_DIR, _parsed_schema

    paths = sorted(SCHEMA_DIR.glob("*.schema.yaml"))
    assert len(paths) >= 3
    for path in paths:
        assert _parsed_schema(path.name.split(".")[0]) == yaml.safe_load(path.read_text()), path.name
