"""The monitoring profile a window is judged with: stored with the model, else built.

A profile belongs to a model version and a window length. It is looked up in this process's
cache, then in the model's profile store; a stored profile built with other settings is
rebuilt (its fingerprint differs), and a new one is stored with the model at first use.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from monitoring.calibrate import build_profile
from monitoring.profile import MonitoringProfile, fingerprint, profile_key
from monitoring.reference import Reference
from monitoring.schema import MonitoredFeature
from ontime.errors import OntimeError
from ontime.settings.monitoring import MonitoringSettings
from ontime.settings.training import CostMatrix

log = logging.getLogger(__name__)


def profile_for(
    reference: Reference,
    window_hours: float,
    features: Sequence[MonitoredFeature],
    keys: Sequence[str],
    checks: MonitoringSettings,
    costs: CostMatrix,
    notes: list[str] | None = None,
) -> MonitoringProfile | None:
    """The profile for windows of ``window_hours``; None (with a note) when the reference
    has no period to build one from, or too few clean windows fit in it."""
    name, wanted = profile_key(window_hours), fingerprint(checks, window_hours)
    profile = reference.profiles.get(name)
    if profile is None or profile.fingerprint != wanted:
        profile = _stored(reference, name, wanted)
    if profile is None:
        period = reference.period_rows()
        if period is None or period.empty:
            _note(
                notes,
                f"{reference.describe()} has no reference period: thresholds are the "
                "configured ones, not calibrated on clean windows",
            )
            return None
        model = (reference.model_name, reference.model_version)
        profile = build_profile(period, features, keys, checks, costs, window_hours, model)
        if reference.profile_store is not None:
            reference.profile_store.save(name, profile.to_dict())
    reference.profiles[name] = profile
    if profile.windows < checks.profile.min_windows:
        _note(
            notes,
            f"only {profile.windows} clean {window_hours:g}-hour windows fit in the reference "
            f"period (need {checks.profile.min_windows}): thresholds are the configured ones",
        )
        return None
    return profile


def _stored(reference: Reference, name: str, wanted: str) -> MonitoringProfile | None:
    """The profile the model's store holds under ``name``, if built with these settings."""
    if reference.profile_store is None:
        return None
    data = reference.profile_store.load(name)
    if data is None:
        return None
    try:
        profile = MonitoringProfile.from_dict(data)
    except (OntimeError, TypeError) as exc:
        log.info("stored monitoring profile %s is unusable (%s): rebuilding", name, exc)
        return None
    return profile if profile.fingerprint == wanted else None


def _note(notes: list[str] | None, text: str) -> None:
    log.info(text)
    if notes is not None:
        notes.append(text)
