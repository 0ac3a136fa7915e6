"""Training: point-in-time snapshots, model fitting, evaluation, registry and release gates."""
