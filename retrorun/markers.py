"""Marker data as OpenSim will see it: lab names mapped to model names, gaps handled."""
from __future__ import annotations

from .formats import MarkerTable


def prepare_markers(markers: MarkerTable, *, aliases: dict[str, str], gaps: dict, subject: str, trial: str) -> MarkerTable:
    """Rename markers by ``aliases`` (lab name -> model name) and fill or mark gaps per ``gaps``."""
    if aliases:
        from .aliases import apply_aliases

        markers = apply_aliases(markers, aliases, source=markers.source)
    try:
        from .gaps import fill_gaps
    except ImportError:  # TEMPORARY until gaps lands
        return markers
    return fill_gaps(markers, subject=subject, trial=trial, **gaps)
