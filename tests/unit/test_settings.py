"""The one settings model: strict, relative to its file, one-line errors."""

from __future__ import annotations

import pytest

from ontime.errors import ConfigError
from ontime.settings import load_settings


def test_repo_settings_file_loads_and_resolves_paths(root):
    settings = load_settings(root / "ontime.yaml")
    assert settings.feature_service == "late_delivery_v1"
    assert settings.feature_repo == (root / "feature_repo").resolve()
    assert settings.simulation.days >= 90


def test_unknown_key_is_refused_naming_it(tmp_path):
    path = tmp_path / "ontime.yaml"
    path.write_text("feature_service: x\nfeature_servce: typo\n")
    with pytest.raises(ConfigError, match="feature_servce"):
        load_settings(path)


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.yaml")


def test_invalid_yaml_is_one_line(tmp_path):
    path = tmp_path / "ontime.yaml"
    path.write_text("simulation: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert "\n" not in str(info.value)
