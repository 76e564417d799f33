"""The README's commands, typed as a user would, from the root of a clone.

No --directory here (the other workflow tests use it): the study is given with
--configfile and must be the whole study, with nothing of the demo's config/config.yaml
merged into it. Also: `-s path/to/Snakefile` from the study's own folder, --directory,
the SLURM profile, and what a config that fails the schema is told.
"""

import pytest
import yaml
from conftest import shared
from workflow_runner import clone_repository, ok, planned_jobs, run_in

HAMNER = "config/examples/hamner-run/config.yaml"
SNAKEMAKE_MERGE_NOTE = "is extended by additional config"  # Snakemake's note when configs are merged
LOCALRULES_WARNING = "localrules directive specifies rules that are not present"


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    return clone_repository(tmp_path_factory.mktemp("user"))


def user_study(folder, **changes):
    """A study of the user's own, in its own folder, every path relative to it: one
    subject of the Hamner et al. (2010) recordings, its running trial listed as forward
    and (for a two-condition plan) once more as backward."""
    data = shared("hamner-run")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").symlink_to(data)
    (folder / "sheets").mkdir()
    (folder / "sheets" / "subjects.tsv").write_text(
        "subject\tmass_kg\theight_m\tstatic_markers\nS01\t65.9\t1.83\tdata/subject02_static.trc\n"
    )
    (folder / "sheets" / "trials.tsv").write_text(
        "subject\ttrial\tcondition\tmarkers\tgrf\tstart_s\tend_s\n"
        "S01\tfwd\tforward\tdata/subject02_running.trc\tdata/subject02_running_grf.mot\t0.7\t1.6\n"
        "S01\tbwd\tbackward\tdata/subject02_running.trc\tdata/subject02_running_grf.mot\t0.7\t1.6\n"
    )
    config = own_config() | changes
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder / "config.yaml"


def own_config():
    return {
        "study": "my-study",
        "subjects": "sheets/subjects.tsv",
        "trials": "sheets/trials.tsv",
        "model": {
            "osim": "data/FullBodyModel_Hamner2010_v2_0.osim",
            "scale_setup": "data/Setup_Scale.xml",
            "ik_tasks": "data/Tasks_IK.xml",
            "external_loads": "data/External_Loads.xml",
        },
        "muscle_groups": {
            "quadriceps": ["rect_fem", "vas_med", "vas_int", "vas_lat"],
            "hamstrings": ["semimem", "semiten", "bifemlh", "bifemsh"],
        },
    }


def output_of(result):
    return result.stdout + result.stderr


def assert_own_study_planned(result, study, *, trials):
    ok(result)
    jobs = planned_jobs(result)
    assert jobs.get("scale_model") == 1 and jobs.get("trial") == trials, jobs
    assert "synthesize_study" not in jobs and "build_demo_model" not in jobs, jobs
    assert f"results/{study}/qc.csv" in result.stdout
    text = output_of(result)
    assert SNAKEMAKE_MERGE_NOTE not in text and LOCALRULES_WARNING not in text, text[-3000:]


def test_hamner_example_dry_run_from_the_clone_root(clone):
    shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")
    result = run_in(clone, clone, "-n", "--configfile", HAMNER)
    assert_own_study_planned(result, "hamner-run", trials=1)


def test_own_study_in_its_own_folder_with_relative_paths(clone, tmp_path):
    config = user_study(tmp_path / "study")
    # README step 3, from the root of the clone
    assert_own_study_planned(run_in(clone, clone, "-n", "--configfile", str(config)), "my-study", trials=2)
    # from the study's folder, naming the Snakefile
    assert_own_study_planned(
        run_in(config.parent, clone, "-n", "-s", str(clone / "Snakefile"), "--configfile", "config.yaml"),
        "my-study",
        trials=2,
    )


@pytest.mark.slow
def test_results_land_in_the_working_directory(clone, tmp_path):
    """Where the README says: results/<study>/ in the folder snakemake runs in, or in --directory."""
    # residual reduction none: one trial's job (asked for by its manifest) is enough to
    # see where outputs go, and without RRA it takes seconds
    config = user_study(tmp_path / "study", residual_reduction={"method": "none"})
    study = config.parent
    trial_job = "results/my-study/trials/S01/fwd/.trial.manifest"
    grf = "results/my-study/trials/S01/fwd/grf.csv"
    ok(run_in(study, clone, trial_job, "--cores", "1", "-s", str(clone / "Snakefile"), "--configfile", "config.yaml"))
    assert (study / grf).is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ok(
        run_in(
            tmp_path,
            clone,
            trial_job,
            "--cores",
            "1",
            "-s",
            str(clone / "Snakefile"),
            "--directory",
            str(elsewhere),
            "--configfile",
            str(config),
        )
    )
    assert (elsewhere / grf).is_file()
    assert not (clone / "results" / "my-study").exists() and not (tmp_path / "results").exists()


def test_slurm_profile_dry_run_needs_no_running_slurm(clone):
    shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")
    result = run_in(clone, clone, "-n", "--profile", "workflow/profiles/slurm", "--configfile", HAMNER)
    assert_own_study_planned(result, "hamner-run", trials=1)


def test_demo_runs_without_a_configfile(clone):
    result = run_in(clone, clone, "-n", "--config", 'synthetic={"n_subjects": 2}')
    ok(result)
    jobs = planned_jobs(result)
    # with EMG each subject is one job, which scales it first (SUBJECT_IN_ONE_JOB)
    assert jobs.get("synthesize_study") == 1 and jobs.get("validate_ground_truth") == 1, jobs
    assert jobs.get("subject_S01") == 1 and jobs.get("subject_S02") == 1 and "scale_model" not in jobs, jobs
    assert "results/demo/qc.csv" in result.stdout and LOCALRULES_WARNING not in output_of(result)


@pytest.mark.parametrize(
    "change, sentence",
    [
        ({"synthetic": {"seed": 1}}, "it has both 'synthetic'"),
        ({"subjects": None, "trials": None}, "it has neither 'subjects'/'trials'"),
        ({"trials": None}, "it has 'subjects' but no 'trials'"),
    ],
)
def test_schema_failure_names_the_given_file_and_says_what_to_change(clone, tmp_path, change, sentence):
    config = {k: v for k, v in (own_config() | change).items() if v is not None}
    config["filtr_hz"] = 10
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = run_in(clone, clone, "-n", "--configfile", str(path))
    assert result.returncode != 0
    text = output_of(result)
    assert "[config]" in text, text[-3000:]
    message = text[text.index("[config]") :].strip()
    assert message.startswith(f"[config] {path} does not match the config schema")
    assert sentence in message
    assert "unknown key 'filtr_hz' (did you mean 'filter_hz'?)" in message
    assert "config/config.yaml" not in message and "'muscle_groups': {" not in message  # no dump of the config
    assert len(message.splitlines()) <= 6, message
