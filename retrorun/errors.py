"""One exception class per processing stage, each with an actionable message.

A message says what is wrong (naming subject, trial, file and column where known)
and what to change; the stage classes let a failed trial report which stage failed.
"""

from __future__ import annotations


class RetrorunError(Exception):
    """Base class: ``str(err)`` is the whole message, ``err.fix`` what to change."""

    stage = "retrorun"

    def __init__(self, message: str, *, fix: str = "", subject: str = "", trial: str = "", opensim_message: str = ""):
        self.message = message
        self.fix = fix
        self.subject = subject
        self.trial = trial
        self.opensim_message = opensim_message
        where = "/".join(part for part in (subject, trial) if part)
        text = f"[{self.stage}] " + (f"{where}: " if where else "") + message
        if fix:
            text += f"\n  what to change: {fix}"
        if opensim_message:
            text += f"\n  OpenSim said: {opensim_message.strip()}"
        super().__init__(text)

    def __reduce__(self):
        # rebuilt from its parts, not from its text (which the constructor would format
        # again): an error raised in a worker process (the up-front checks' pool, the demo's
        # synthesis) reaches the job as it was raised
        return _rebuild, (type(self), self.message, self.fix, self.subject, self.trial, self.opensim_message)

    def as_record(self) -> dict:
        return {
            "stage": self.stage,
            "subject": self.subject,
            "trial": self.trial,
            "message": self.message,
            "fix": self.fix,
            "opensim_message": self.opensim_message,
        }


def _rebuild(cls, message: str, fix: str, subject: str, trial: str, opensim_message: str) -> RetrorunError:
    return cls(message, fix=fix, subject=subject, trial=trial, opensim_message=opensim_message)


class InputError(RetrorunError):
    """A study file (sheet, TRC, MOT, C3D, template) is missing or malformed."""

    stage = "input"


class ConfigError(RetrorunError):
    """The config or a sheet does not match its schema or the model."""

    stage = "config"


class ScalingError(RetrorunError):
    stage = "scaling"


class KinematicsError(RetrorunError):
    stage = "inverse_kinematics"


class DynamicsError(RetrorunError):
    stage = "inverse_dynamics"


class ResidualReductionError(RetrorunError):
    stage = "residual_reduction"


class MuscleError(RetrorunError):
    stage = "static_optimization"


class AnalysisError(RetrorunError):
    stage = "analysis"
