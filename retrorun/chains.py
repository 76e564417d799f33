"""How a chain of stages (workflow/rules/common.smk, Stage; run by scripts/run_stages.py)
hands each stage its inputs. The chain's job declares each file once, under the name of
the first stage that reads it; the chain's params say where each other input comes from:
an earlier stage's output (`links`), another stage's declared input (`shared`), or a file
another chain wrote, listed in that chain's manifest (`via_manifest`). Keys are
`<stage>__<input name>`."""

from __future__ import annotations

from collections.abc import Mapping


def stage_inputs(chain: Mapping, declared: Mapping, stage: str) -> dict:
    """{input name: file or files} that ``stage`` reads, given the job's declared inputs
    by name (``declared``) and the chain params (``chain``)."""
    prefix = f"{stage}__"
    outputs = {
        f"{name}__{key}": path for name in chain["stages"] for key, path in chain["written"][name]["output"].items()
    }

    def own(items: Mapping) -> dict:
        return {key[len(prefix) :]: value for key, value in items.items() if key.startswith(prefix)}

    def looked_up(names: Mapping, files: Mapping) -> dict:
        return {
            key: [files[other] for other in others] if isinstance(others, list) else files[others]
            for key, others in own(names).items()
        }

    return (
        own(declared)
        | looked_up(chain["links"], outputs)
        | looked_up(chain["shared"], declared)
        | own(chain["via_manifest"])
    )
