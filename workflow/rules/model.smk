# The built-in generic planar running model, built from its parameter tables
# (models/retrorun_planar/, every number with its source). The demo config names its
# output as model.osim; the config's paths are absolute, so the output is too.
from retrorun.demo.model import MODEL_FILE, parameter_files

DEMO_MODEL_PARAMS = Path(workflow.basedir, "models", "retrorun_planar").resolve()


rule build_demo_model:
    input:
        tables=[str(p) for p in parameter_files(DEMO_MODEL_PARAMS)],
    output:
        model=str(DEMO_MODEL_PARAMS / "generated" / MODEL_FILE),
    params:
        params_dir=str(DEMO_MODEL_PARAMS),
    log:
        log_path("build_demo_model", "model"),
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=lambda wc, attempt: 5 * attempt,
    script:
        "../../scripts/build_demo_model.py"
