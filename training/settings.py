"""Settings section for training, evaluation, the registry and release gates."""

from __future__ import annotations

from ontime.section import Section


class TrainingSettings(Section):
    """How snapshots are built and models are trained, evaluated and gated."""

    segments: list[str] = ["carrier", "origin_warehouse", "expedited"]
    min_slice_count: int = 100
