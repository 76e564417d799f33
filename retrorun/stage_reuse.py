"""Reusing a chained stage's outputs when nothing it depends on changed.

A job that chains stages (scripts/run_stages.py) reruns as a whole when Snakemake sees
any of its inputs, params or scripts change, and Snakemake deletes all of its outputs
before it runs. Each stage keeps hard links of its outputs and a copy of its log in a
hidden folder beside its log (`<log folder>/.<name>.reuse/`), under a key: the stage,
its script's and the retrorun package's source, the versions of the libraries that
compute, its params, its wildcards and threads, its output paths, and the content of
every input file. A stage whose key is unchanged gets its outputs back as links instead
of running, so a setting that one stage of a chain reads reruns that stage and the ones
after it whose inputs then change, as if each stage were a job of its own.

Content, not modification times: a stage whose input was rewritten with the same bytes
(an earlier stage rerun to the same result) is reused.

`RETRORUN_REUSE_STAGES=0` in the environment turns reuse off (every stage runs, and its
outputs are kept for later runs).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from functools import cache
from importlib import metadata
from pathlib import Path

from .code_version import package_source_digest

# the libraries a stage's numbers depend on
LIBRARIES = ("opensim", "numpy", "scipy", "pandas", "ezc3d")
KEY_FILE = "key.json"
# the first line of a reused stage's log (tools/stage_times.py looks for it)
REUSED_NOTE = "[retrorun] outputs of this stage reused"
ENVIRONMENT_SWITCH = "RETRORUN_REUSE_STAGES"


def enabled() -> bool:
    return os.environ.get(ENVIRONMENT_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


@cache
def code_digest() -> str:
    """The retrorun package's source and the computing libraries' versions."""
    digest = hashlib.sha256(package_source_digest().encode())
    for library in LIBRARIES:
        try:
            version = metadata.version(library)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{library}={version}\0".encode())
    return digest.hexdigest()


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, of a folder's files (names and bytes), or 'absent'."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(item.relative_to(path)).encode() + b"\0")
            digest.update(item.read_bytes())
    elif path.is_file():
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    else:
        return "absent"
    return digest.hexdigest()


def stage_key(
    *, stage: str, script: str | os.PathLike, params: dict, inputs: dict, outputs: dict, wildcards: dict, threads: int
) -> str:
    """The stage's key. ``inputs`` and ``outputs``: {name: path or list of paths}."""

    def files(named: dict, content: bool) -> dict:
        listed = {k: v if isinstance(v, (list, tuple)) else [v] for k, v in named.items()}
        return {k: [[str(p), file_digest(p)] if content else str(p) for p in v] for k, v in listed.items()}

    text = json.dumps(
        {
            "stage": stage,
            "script": file_digest(script),
            "code": code_digest(),
            "params": params,
            "wildcards": dict(wildcards),
            "threads": threads,
            "inputs": files(inputs, content=True),
            "outputs": files(outputs, content=False),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def store_folder(log: str | os.PathLike) -> Path:
    log = Path(log)
    return log.parent / f".{log.stem}.reuse"


def _flat(outputs: dict) -> list[Path]:
    paths = []
    for value in outputs.values():
        paths.extend(Path(p) for p in (value if isinstance(value, (list, tuple)) else [value]))
    return paths


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or one without hard links
        shutil.copy2(source, target)


def restore(key: str, outputs: dict, log: str | os.PathLike, *, not_before: float = 0.0) -> bool:
    """Put back the stage's outputs kept under ``key``; False if there are none.
    ``not_before``: the newest modification time of the job's inputs. A restored output
    is made at least that new, or Snakemake would see an output older than an input and
    plan the job again on every run; it is not made newer, or every job downstream would
    rerun as if it had changed."""
    store = store_folder(log)
    key_file = store / KEY_FILE
    if not enabled() or not key_file.is_file():
        return False
    kept = json.loads(key_file.read_text())
    if kept.get("key") != key:
        return False
    paths = _flat(outputs)
    stored = [store / str(i) for i in range(len(paths))]
    if not all(p.is_file() for p in stored) or not (store / "log").is_file():
        return False
    for source, target in zip(stored, paths):
        _link(source, target)
        if target.stat().st_mtime < not_before:
            os.utime(target, (not_before, not_before))
    text = (store / "log").read_text(errors="replace")
    note = f"{REUSED_NOTE}: inputs, params and code unchanged since {kept['kept']}\n"
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    Path(log).write_text(note + text)
    return True


def keep(key: str, outputs: dict, log: str | os.PathLike) -> None:
    """Keep the stage's outputs and log under ``key``, replacing what was kept before."""
    store = store_folder(log)
    paths = _flat(outputs)
    if not all(p.is_file() for p in paths):
        return  # a folder output, or one the stage did not write: nothing to reuse
    partial = store.with_name(store.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for index, path in enumerate(paths):
        _link(path, partial / str(index))
    if Path(log).is_file():
        shutil.copyfile(log, partial / "log")
    else:
        (partial / "log").write_text("")
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    (partial / KEY_FILE).write_text(json.dumps({"key": key, "kept": stamp}))
    shutil.rmtree(store, ignore_errors=True)
    partial.rename(store)
