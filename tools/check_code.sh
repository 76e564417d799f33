#!/usr/bin/env bash
# The code checks CI runs before the tests (.ci/run); run them yourself with
#   bash tools/check_code.sh
# ruff (lint and format) and snakefmt are configured in pyproject.toml; `snakemake
# --lint` checks the workflow on the default (demo) config.
set -euo pipefail
cd "$(dirname "$0")/.."
ruff check .
ruff format --check .
snakefmt --check Snakefile workflow/rules
python tools/lint_workflow.py   # snakemake --lint, minus the conda/container lint (see the file)
