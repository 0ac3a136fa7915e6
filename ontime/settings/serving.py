"""Settings section for the online scoring service (``serving:`` in ``ontime.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from ontime.settings.section import Section


class ServingSettings(Section):
    """Where and how the scoring service runs, logs and releases models."""

    host: str = "127.0.0.1"
    port: int = 8080
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
    # After a store failure requests fail fast (503) while a probe retries this often.
    store_retry_seconds: float = Field(2.0, gt=0.0)
    # Served-prediction log (see the log schema shared with monitoring).
    log_dir: Path = Path("logs/serving")
    log_sample_rate: float = Field(1.0, ge=0.0, le=1.0)
    log_flush_seconds: float = Field(2.0, gt=0.0)
    feast_logging: bool = Field(
        True, description="Also write Feast's logged features via write_logged_features."
    )
    # Real-time feed tables behind push sources, when they differ from the batch table
    # (replays read them, so a stream that disagrees with the batch source shows online).
    feeds: dict[str, Path] = Field(default_factory=dict)
    # Push sources for `ontime push`; empty means every PushSource in the registry.
    push_sources: list[str] = Field(default_factory=list)
