"""Errors the CLI turns into a one-line message and a non-zero exit."""


class OntimeError(Exception):
    """A problem the user can fix; its message names the problem."""


class ConfigError(OntimeError):
    """The settings file or a command-line value is invalid."""


class LeakageError(OntimeError):
    """A FeatureService reads a field that is only known after the prediction time."""


class ContractViolation(OntimeError):
    """A feature row breaks a rule of the feature contract."""
