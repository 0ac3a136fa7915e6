"""Settings section for the online scoring service (``serving:`` in ``ontime.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from ontime.settings.section import Section

# How a served prediction's log row must be kept before the 200 goes out.
#   fsync      - written to the journal and fsync'ed (group commit): survives kill -9 and
#                power loss. The default.
#   page_cache - written to the journal, fsync'ed in the background: survives a crash of
#                ontime, not of the machine.
#   buffered   - acknowledged before it is written: a crash loses the last moments of rows.
LogDurability = Literal["fsync", "page_cache", "buffered"]


class ServingSettings(Section):
    """Where and how the scoring service runs, logs and releases models."""

    host: str = "127.0.0.1"
    port: int = 8080
    # Binding anywhere but loopback must be asked for, and then logs a warning.
    allow_remote: bool = False
    # Optional bearer token for /v1/*: its value comes only from this environment variable.
    api_token_env: str = "ONTIME_API_TOKEN"
    # None: a token is required exactly when the service is bound to a non-loopback address.
    require_token: bool | None = None
    feature_store_yaml: Path | None = Field(
        None, description="Another feature_store.yaml profile (e.g. Redis online store)."
    )
    # Release control: the champion answers; the challenger is shadowed or gets a canary share.
    champion_alias: str = "champion"
    challenger_alias: str = "challenger"
    release_mode: Literal["off", "shadow", "canary"] = "shadow"
    canary_share: float = Field(0.1, ge=0.0, le=1.0)
    alias_poll_seconds: float = Field(2.0, gt=0.0)
    registry_refresh_seconds: float = Field(
        120.0, gt=0.0, description="Refresh Feast's registry cache off the request path."
    )
    # Fail closed: a batch beyond this many rows is refused with 413.
    max_batch_rows: int = Field(1000, ge=1)
    # Bodies beyond this size are refused with 413 before they are read.
    max_body_bytes: int = Field(4_000_000, ge=1024)
    # Entity keys and passthrough values longer than this are refused with 422.
    max_key_length: int = Field(256, ge=1)
    # Accepted prediction times: at most this far before / after now (and always inside what
    # every timestamp type on the path can hold).
    prediction_time_past_days: float = Field(5 * 365.25, gt=0.0)
    prediction_time_future_days: float = Field(366.0, ge=0.0)
    # Request fields that are logged as prediction-log columns of the same name and never
    # used as features (e.g. a label's join key that is not an entity key).
    passthrough: list[str] = Field(default_factory=list)
    # After a store failure requests fail fast (503) while a probe retries this often.
    store_retry_seconds: float = Field(2.0, gt=0.0)
    # Served-prediction log (see the log schema shared with monitoring).
    log_dir: Path = Path("logs/serving")
    log_sample_rate: float = Field(1.0, ge=0.0, le=1.0)
    log_flush_seconds: float = Field(2.0, gt=0.0)
    log_durability: LogDurability = "fsync"
    log_segment_bytes: int = Field(64 * 1024 * 1024, ge=4096)
    # Not ready while the oldest logged row not yet in the parquet tables is older than this.
    log_max_lag_seconds: float = Field(120.0, gt=0.0)
    feast_logging: bool = Field(
        True, description="Also write Feast's logged features via write_logged_features."
    )
    # Real-time feed tables behind push sources, when they differ from the batch table
    # (replays read them, so a stream that disagrees with the batch source shows online).
    feeds: dict[str, Path] = Field(default_factory=dict)
    # Expected freshness per feature view ("6h"), over the views' freshness_sla tags: ages
    # past it are counted in /metrics and judged by monitoring, naming the view.
    freshness_sla: dict[str, str] = Field(default_factory=dict)
    # Push sources for `ontime push`; empty means every PushSource in the registry.
    push_sources: list[str] = Field(default_factory=list)
