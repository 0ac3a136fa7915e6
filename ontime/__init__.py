"""ontime's kernel: the settings model, the contract engine, repo and service access, errors.

Every room imports it; it imports no room. The CLI lives in ``ontime_cli`` (the front door).
"""

__version__ = "0.1.0"
