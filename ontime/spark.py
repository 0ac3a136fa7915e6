"""Spark settings that come from the environment, with single-machine defaults.

A Spark profile names its settings as ``${ONTIME_SPARK_...}`` in ``spark_conf``; Feast
substitutes them when it reads the file but leaves an unset one in place. So before a Spark
profile is read, each unset variable gets its default here: the whole machine
(``local[*]``) and a driver heap that fits beside the other processes. Export a variable to
point at a cluster (``ONTIME_SPARK_MASTER=spark://host:7077``, ``yarn``, ``k8s://...``).
"""

from __future__ import annotations

import os
import sys

SPARK_ENV_DEFAULTS = {
    "ONTIME_SPARK_MASTER": "local[*]",
    "ONTIME_SPARK_DRIVER_MEMORY": "4g",
    "ONTIME_SPARK_SHUFFLE_PARTITIONS": "8",
}


def apply_spark_defaults(profile_text: str) -> list[str]:
    """Set every unset ``ONTIME_SPARK_*`` variable the profile names; return those set.

    Also points PySpark's Python workers at this interpreter when PYSPARK_PYTHON is unset:
    PySpark would start ``python3`` from the PATH, which need not have pandas or Feast.
    """
    chosen = []
    # Spark's stage progress bars on a terminal; CI logs and log files stay quiet.
    progress = {"ONTIME_SPARK_CONSOLE_PROGRESS": str(sys.stderr.isatty()).lower()}
    for name, default in {**SPARK_ENV_DEFAULTS, **progress}.items():
        if f"${{{name}}}" in profile_text and name not in os.environ:
            os.environ[name] = default
            chosen.append(name)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return chosen


def is_spark_profile(profile_text: str) -> bool:
    """Whether a feature_store.yaml text uses Spark (offline store or compute engine)."""
    import yaml

    config = yaml.safe_load(profile_text) or {}
    kinds = [_type_of(config.get("offline_store")), _type_of(config.get("batch_engine"))]
    return any(kind.startswith("spark") for kind in kinds)


def _type_of(section) -> str:
    if isinstance(section, dict):
        return str(section.get("type", ""))
    return str(section or "")


# What py4j raises when the JVM on the other end of its socket is gone.
LOST_JVM = {"ConnectionRefusedError", "ConnectionResetError", "BrokenPipeError", "Py4JNetworkError"}


def lost_driver_hint(exc: BaseException) -> str | None:
    """The next step when a command failed because the Spark driver's JVM stopped.

    The profile makes the driver exit on OutOfMemoryError (a driver out of heap otherwise
    hangs for good), and Python then only sees a refused connection, which says nothing
    about the cause. None when Spark was not in use or the failure is something else.
    """
    if "pyspark" not in sys.modules:
        return None
    seen, chain = set(), exc
    while chain is not None and id(chain) not in seen:
        seen.add(id(chain))
        if type(chain).__name__ in LOST_JVM:
            return (
                "the Spark driver (a JVM) stopped under this command; if the log above says "
                "OutOfMemoryError, give it more heap, e.g. ONTIME_SPARK_DRIVER_MEMORY=8g"
            )
        chain = chain.__cause__ or chain.__context__
    return None
