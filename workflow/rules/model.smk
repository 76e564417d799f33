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
    log:
        log_path("build_demo_model", "model"),
    benchmark:
        benchmark_path("build_demo_model", "model")
    params:
        # the folder of the tables (model.yaml among them)
        params_dir=lambda wc, input: str(Path(input.tables[-1]).parent),
    script:
        "../../scripts/build_demo_model.py"
