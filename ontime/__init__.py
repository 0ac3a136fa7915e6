"""ontime: a feature-store-centred ML platform (CLI, settings and the shared contract library)."""

__version__ = "0.1.0"
