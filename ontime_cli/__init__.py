"""The front door: the ``ontime`` console script, the demo and the service launcher.

It imports every room and is imported by none; each command is a thin wrapper over a room's
library function.
"""
