"""Choosing a profile: source kinds, Spark defaults from the environment, settings, errors."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from ontime.errors import ConfigError
from ontime.profiles import offline_store_type, refuse_foreign_sources
from ontime.repo import store_yaml
from ontime.settings import Settings
from ontime.sources import SOURCE_KIND_ENV, batch_source, source_class_for
from ontime.spark import apply_spark_defaults

ROOT = Path(__file__).resolve().parents[2]
SPARK_PROFILE = ROOT / "feature_repo" / "profiles" / "spark.yaml"


def declare():
    return batch_source(
        name="orders",
        path="/data/orders.parquet",
        timestamp_field="created_at",
        created_timestamp_column="written_at",
        description="Orders.",
    )


def test_a_source_is_a_file_source_unless_the_profile_says_spark(monkeypatch):
    monkeypatch.delenv(SOURCE_KIND_ENV, raising=False)
    file_source = declare()
    monkeypatch.setenv(SOURCE_KIND_ENV, "spark")
    spark_source = declare()
    assert type(file_source).__name__ == "FileSource"
    assert type(spark_source).__name__ == "SparkSource"
    assert spark_source.file_format == "parquet"
    for source in (file_source, spark_source):  # everything else is declared once
        assert (source.name, source.path, source.timestamp_field) == (
            "orders",
            "/data/orders.parquet",
            "created_at",
        )
        assert source.created_timestamp_column == "written_at"


def test_an_unknown_source_kind_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv(SOURCE_KIND_ENV, "bigquery")
    with pytest.raises(ConfigError, match="ONTIME_SOURCE_KIND='bigquery' is not one of"):
        declare()


def test_each_offline_store_reads_its_own_source_class():
    assert source_class_for("spark") == "SparkSource"
    assert source_class_for("duckdb") == "FileSource"
    plugin = "ontime.feast_plugins.asof_store.AsofDuckDBOfflineStore"
    assert source_class_for(plugin) == "FileSource"
    assert source_class_for("snowflake.offline") is None
    assert offline_store_type(SPARK_PROFILE) == "spark"
    embedded = offline_store_type(ROOT / "feature_repo" / "feature_store.yaml")
    assert source_class_for(embedded) == "FileSource"


def test_a_registry_applied_for_another_store_is_refused_naming_the_view(monkeypatch):
    monkeypatch.delenv(SOURCE_KIND_ENV, raising=False)
    view = SimpleNamespace(name="orders_view", batch_source=declare())
    with pytest.raises(ConfigError, match="'orders_view' reads a FileSource") as error:
        refuse_foreign_sources([view], "spark", SPARK_PROFILE)
    assert "ontime apply --profile" in str(error.value)
    refuse_foreign_sources([view], "duckdb", SPARK_PROFILE)  # the right kind passes


def test_spark_settings_default_to_one_machine_and_yield_to_the_environment(monkeypatch):
    for name in ("ONTIME_SPARK_MASTER", "ONTIME_SPARK_DRIVER_MEMORY", "PYSPARK_PYTHON"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ONTIME_SPARK_DRIVER_MEMORY", "12g")
    chosen = apply_spark_defaults(SPARK_PROFILE.read_text())
    import os
    import sys

    assert "ONTIME_SPARK_MASTER" in chosen and "ONTIME_SPARK_DRIVER_MEMORY" not in chosen
    assert os.environ["ONTIME_SPARK_MASTER"] == "local[*]"
    assert os.environ["ONTIME_SPARK_DRIVER_MEMORY"] == "12g"
    assert os.environ["PYSPARK_PYTHON"] == sys.executable  # workers need this interpreter
    assert apply_spark_defaults("offline_store:\n  type: duckdb\n") == []


@pytest.mark.parametrize("terminal", [True, False])
def test_spark_shows_its_stage_progress_on_a_terminal_only(monkeypatch, terminal):
    import os
    import sys

    monkeypatch.delenv("ONTIME_SPARK_CONSOLE_PROGRESS", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    text = SPARK_PROFILE.read_text()
    assert text.count("spark.ui.showConsoleProgress: \"${ONTIME_SPARK_CONSOLE_PROGRESS}\"") == 2
    apply_spark_defaults(text)
    assert os.environ["ONTIME_SPARK_CONSOLE_PROGRESS"] == str(terminal).lower()


def test_the_spark_profile_needs_only_the_redis_secret_from_the_environment(monkeypatch):
    for name in ("ONTIME_SPARK_MASTER", "ONTIME_SPARK_SHUFFLE_PARTITIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ONTIME_REDIS_CONNECTION_STRING", raising=False)
    with pytest.raises(ConfigError) as error:
        store_yaml(ROOT / "feature_repo", SPARK_PROFILE)
    assert str(error.value).endswith("needs environment variable(s) ONTIME_REDIS_CONNECTION_STRING")
    monkeypatch.setenv("ONTIME_REDIS_CONNECTION_STRING", "localhost:6379")
    assert store_yaml(ROOT / "feature_repo", SPARK_PROFILE) == SPARK_PROFILE


def test_the_profile_setting_reaches_serving_unless_serving_names_its_own(tmp_path):
    chosen = Settings.model_validate({"profile": "p/spark.yaml"}).resolved(tmp_path)
    assert chosen.profile == chosen.serving.feature_store_yaml == tmp_path / "p/spark.yaml"
    own = Settings.model_validate(
        {"profile": "p/spark.yaml", "serving": {"feature_store_yaml": "p/redis.yaml"}}
    ).resolved(tmp_path)
    assert own.serving.feature_store_yaml == tmp_path / "p/redis.yaml"
    assert Settings().profile is None and Settings().serving.feature_store_yaml is None
    override = own.with_profile(tmp_path / "other.yaml")  # --profile: every store
    assert override.profile == override.serving.feature_store_yaml == tmp_path / "other.yaml"


def test_a_lost_spark_driver_gets_a_hint_naming_its_memory_setting(monkeypatch):
    import sys

    from ontime.spark import lost_driver_hint

    def refused_under_runtime_error() -> RuntimeError:
        try:
            try:
                raise ConnectionRefusedError(111, "Connection refused")
            except ConnectionRefusedError as inner:
                raise RuntimeError("Answer from Java side is empty") from inner
        except RuntimeError as outer:
            return outer

    monkeypatch.delitem(sys.modules, "pyspark", raising=False)
    assert lost_driver_hint(refused_under_runtime_error()) is None  # Spark was not in use
    monkeypatch.setitem(sys.modules, "pyspark", object())
    hint = lost_driver_hint(refused_under_runtime_error())
    assert hint and "OutOfMemoryError" in hint and "ONTIME_SPARK_DRIVER_MEMORY" in hint
    assert lost_driver_hint(ValueError("bad input")) is None
