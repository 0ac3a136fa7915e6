"""The synthetic delivery world that feeds ontime: raw event tables plus fault scenarios."""

from simulator.faults import SCENARIOS, FaultWindow
from simulator.io import simulate
from simulator.world import SimulationConfig, SimulationError, generate

__all__ = [
    "SCENARIOS",
    "FaultWindow",
    "SimulationConfig",
    "SimulationError",
    "generate",
    "simulate",
]
