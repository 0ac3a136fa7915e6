"""Settings section for monitoring and the continuous-training loop."""

from __future__ import annotations

from ontime.section import Section


class MonitoringSettings(Section):
    """Thresholds and outputs of ``ontime monitor``."""
