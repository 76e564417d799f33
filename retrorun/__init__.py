"""retrorun: quadriceps vs hamstrings activation in forward and backward running, with OpenSim."""

__version__ = "0.1.0"
