"""Where this repo's data lives.

Feast's DuckDB offline store resolves relative FileSource paths against the working
directory, not the repo, so sources use absolute paths anchored at this folder. On a
cluster the tables live in an object store instead: ``ONTIME_DATA_URI`` (e.g.
``s3a://bucket/ontime/data``), read when ``ontime apply`` records the sources.
"""

import os
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
DATA_URI_ENV = "ONTIME_DATA_URI"


def table_path(relative: str) -> str:
    """The path a source reads ``relative`` (e.g. ``raw/shipments.parquet``) from."""
    root = os.environ.get(DATA_URI_ENV, "").strip().rstrip("/")
    return f"{root}/{relative}" if root else str(DATA / relative)
