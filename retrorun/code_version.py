"""What the code that computed a result was: the retrorun package's source. The
validation cache and the reuse of chained stages both key on it, so an edit to any
module invalidates both."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path


@cache
def package_source_digest() -> str:
    """SHA-256 of every module of the retrorun package, by path and content."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for source in sorted(package.rglob("*.py")):
        digest.update(str(source.relative_to(package)).encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()
