"""The built-in demo: a synthetic forward/backward running study with known truth.

- ``design``: the config, the subjects (body, speed, timing, joint ranges) and the sheets;
- ``motion``: joint angles, designed GRF and the whole-body motion consistent with it;
- ``subjects``: one subject on disk (true model, skin markers with mismatch, GRF, truth files);
- ``truth``: inverse dynamics, static optimization and outcomes on the truth;
- ``checks``: the pipeline's outputs against the truth and against the literature;
- ``model``: the demo's generic planar model, built from its parameter tables.
"""
