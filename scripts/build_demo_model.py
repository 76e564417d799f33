"""Rule build_demo_model: the built-in planar running model from its parameter tables."""

from pathlib import Path

from retrorun import jobs
from retrorun.demo import model as demo_model

with jobs.job(snakemake) as log:
    out = Path(snakemake.output.model)
    written = demo_model.build_model(params_dir=snakemake.params.params_dir, out_dir=out.parent)
    if written.resolve() != out.resolve():
        raise RuntimeError(
            f"build_model wrote {written}, the rule declares {out}: the output must be named {demo_model.MODEL_FILE}"
        )
    log.info("wrote %s from the tables in %s", written, snakemake.params.params_dir)
