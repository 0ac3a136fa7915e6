"""`ontime monitor`: bad input gets one line naming the problem, never a traceback."""

from __future__ import annotations

from tests.cli.test_errors import assert_one_line_error, ontime

WINDOW = ("--from", "2026-07-01", "--to", "2026-07-02")


def config(tmp_path, log_dir: str) -> str:
    path = tmp_path / "ontime.yaml"
    path.write_text(
        f"serving:\n  log_dir: {log_dir}\ntraining:\n  registry:\n    mlflow_db: mlflow.db\n"
        "monitoring:\n  reports_dir: reports\n"
    )
    return str(path)


def test_missing_log_folder(tmp_path):
    result = ontime("--config", config(tmp_path, "absent-logs"), "monitor", *WINDOW)
    assert_one_line_error(result, "absent-logs")


def test_window_ending_before_it_starts(tmp_path):
    (tmp_path / "logs").mkdir()
    args = ("monitor", "--from", "2026-07-02", "--to", "2026-07-01")
    assert_one_line_error(ontime("--config", config(tmp_path, "logs"), *args), "not after")


def test_unparseable_time(tmp_path):
    args = ("monitor", "--from", "yesterday", "--to", "2026-07-01")
    assert_one_line_error(ontime("--config", config(tmp_path, "logs"), *args), "yesterday")


def test_no_champion_to_compare_with(tmp_path):
    (tmp_path / "logs").mkdir()
    result = ontime("--config", config(tmp_path, "logs"), "monitor", *WINDOW)
    assert_one_line_error(result, "champion")
    assert not (tmp_path / "mlflow.db").exists()  # a read never creates a registry


def test_calibrate_refuses_a_window_without_length(tmp_path):
    args = ("monitor", "calibrate", "--hours", "0")
    assert_one_line_error(ontime("--config", config(tmp_path, "logs"), *args), "--hours")


def test_window_options_do_not_belong_to_calibrate(tmp_path):
    args = ("monitor", "--from", "2026-07-01", "calibrate")
    assert_one_line_error(ontime("--config", config(tmp_path, "logs"), *args), "belong to")


def test_calibrate_without_a_champion(tmp_path):
    result = ontime("--config", config(tmp_path, "logs"), "monitor", "calibrate")
    assert_one_line_error(result, "champion")
