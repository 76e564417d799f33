"""OpenSim's messages in the job's log (Python logging), without its noise and without
its console copy; OpenSim itself imported only by the jobs that use it.

A job that never touches OpenSim (EMG processing, the study's tables and figures) would
pay 0.25 s of CPU to import it for nothing, so retrorun.jobs does not import it: the log
is forwarded as soon as OpenSim is imported (forward_once_imported).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import re
import sys

# OpenSim's messages reach the job's log through Python logging, less two kinds of
# noise: "Couldn't find file" for every display mesh a model names when its Geometry
# folder is absent (meshes are drawn, never computed with: 79 per load of the Hamner
# model, over 1000 per trial) and the model summary IK and ID print on every run
# ("MODEL: ..."), and the assembler's refusal to run when no coordinate is free to move
# ("number of parameters=0": MocoInverse prescribes every coordinate, so each model copy
# it builds says it twice, 48 lines per solve of the Rajagopal model; with nothing to move
# there is nothing to assemble). Every other warning and error of OpenSim is kept.
_NOISE = re.compile(
    r"^\s*(Couldn't find file '[^']*\.(vtp|stl|obj|ply|osg)'\.?|MODEL: .*"
    r"|Model unable to assemble.*number of parameters=0\b.*)$",
    re.S,
)
_opensim_log = logging.getLogger("retrorun.opensim")
_SINK = None  # kept referenced: OpenSim holds only a pointer to it


def is_noise(message: str) -> bool:
    return bool(_NOISE.match(message))


def forward_to_logging() -> None:
    """OpenSim's warnings and errors (less the noise) to Python logging, once per process."""
    global _SINK
    if _SINK is not None:
        return
    import opensim as osim

    class ForwardToLogging(osim.LogSink):
        def sinkImpl(self, message):
            if not is_noise(message):
                _opensim_log.warning("OpenSim: %s", message.strip())

        def flushImpl(self):
            pass

    osim.Logger.setLevelString("warn")
    _SINK = ForwardToLogging()
    osim.Logger.addSink(_SINK)


class _ForwardAfterImport(importlib.abc.MetaPathFinder):
    """Finds OpenSim as Python would, and forwards its log right after it is imported."""

    def find_spec(self, name, path=None, target=None):
        if name != "opensim":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            execute = spec.loader.exec_module

            def exec_module(module):
                execute(module)
                forward_to_logging()

            spec.loader.exec_module = exec_module
        return spec


def forward_once_imported() -> None:
    """Forward OpenSim's log now if OpenSim is imported, else as soon as it is."""
    if "opensim" in sys.modules:
        forward_to_logging()
    elif not any(isinstance(finder, _ForwardAfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ForwardAfterImport())


@contextlib.contextmanager
def quiet_console():
    """OpenSim's own console copy of its messages (stdout, which its Logger cannot turn
    off alone) goes to /dev/null meanwhile; they reach Python logging (forward_to_logging)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
