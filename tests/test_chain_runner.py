"""The runner of a subject's chains (retrorun.chains.run_parts, scripts/run_subject.py):
each chain runs as its own job would, side by side in worker processes (forked, or
started afresh where forking is unsafe), and a chain that fails is reported without
stopping the others or losing their outputs."""

import json

import pytest

from retrorun import chains, jobs

STAGE_SCRIPT = """
from pathlib import Path
from retrorun import jobs
with jobs.job(snakemake) as log:
    text = Path(snakemake.input.source).read_text()
    if "fail" in text:
        raise RuntimeError(f"cannot read {snakemake.input.source}")
    Path(snakemake.output.result).write_text(text.upper())
"""


def part(tmp_path, trial: str, text: str) -> dict:
    """A one-stage chain of trial `trial` reading a file holding `text`."""
    source = tmp_path / "inputs" / f"{trial}.txt"
    source.parent.mkdir(exist_ok=True)
    source.write_text(text)
    folder = tmp_path / "trials" / trial
    written = {
        "output": {"result": str(folder / "result.txt")},
        "log": str(tmp_path / "logs" / "upper" / f"{trial}.log"),
        "benchmark": str(tmp_path / "benchmarks" / "upper" / f"{trial}.tsv"),
    }
    chain = {
        "stages": ["upper"],
        "scripts": {"upper": "upper"},
        "written": {"upper": written},
        "links": {},
        "shared": {},
        "via_manifest": {},
        "params": {"upper": {"trial_dir": str(folder)}},
    }
    return {
        "name": f"chain S01 {trial}",
        "wildcards": {"subject": "S01", "trial": trial},
        "chain": chain,
        "files": {"upper__source": str(source)},
        "threads": 1,
        "log": str(tmp_path / "logs" / "chains" / f"{trial}.log"),
        "manifest": str(folder / ".chain.manifest"),
    }


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "started_afresh"])
def test_chains_run_side_by_side_and_a_failing_one_stops_no_other(tmp_path, monkeypatch, fork):
    monkeypatch.setattr(jobs, "fork_is_safe", lambda: fork)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "upper.py").write_text(STAGE_SCRIPT)
    monkeypatch.setenv("RETRORUN_REUSE_STAGES", "1")
    parts = [part(tmp_path, "T1", "fail here"), part(tmp_path, "T2", "fine"), part(tmp_path, "T3", "also fine")]
    common = {"resources": None, "config": {}, "scriptdir": str(tmp_path / "scripts")}

    outcomes = chains.run_parts(parts, common, workers=2)

    assert [o["name"] for o in outcomes] == ["chain S01 T1", "chain S01 T2", "chain S01 T3"]
    assert "RuntimeError: cannot read" in outcomes[0]["failed"]
    assert outcomes[1]["failed"] is None and outcomes[2]["failed"] is None
    for trial, text in (("T2", "FINE"), ("T3", "ALSO FINE")):
        folder = tmp_path / "trials" / trial
        assert (folder / "result.txt").read_text() == text
        manifest = json.loads((folder / ".chain.manifest").read_text())
        assert manifest["upper"]["output"]["result"] == str(folder / "result.txt")
        assert (tmp_path / "benchmarks" / "upper" / f"{trial}.tsv").is_file()
    # the failed chain: its log names the stage, its trial has the error record
    assert "upper: FAILED" in (tmp_path / "logs" / "chains" / "T1.log").read_text()
    record = jobs.read_error_record(jobs.error_record_path(tmp_path / "trials" / "T1"))
    assert record["rule_stage"] == "upper" and record["trial"] == "T1"
    assert not (tmp_path / "trials" / "T1" / ".chain.manifest").exists()

    # again: the chains that ran get their outputs back; the mended one runs
    (tmp_path / "inputs" / "T1.txt").write_text("mended")
    again = chains.run_parts(parts, common, workers=1)
    assert [o["failed"] for o in again] == [None, None, None]
    assert "upper: ran" in (tmp_path / "logs" / "chains" / "T1.log").read_text()
    assert "upper: reused" in (tmp_path / "logs" / "chains" / "T2.log").read_text()
    assert (tmp_path / "trials" / "T1" / "result.txt").read_text() == "MENDED"
