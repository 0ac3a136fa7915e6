"""Where this repo's data lives.

Feast's DuckDB offline store resolves relative FileSource paths against the working
directory, not the repo, so sources use absolute paths anchored at this folder.
"""

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
