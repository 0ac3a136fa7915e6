"""Monitoring: input health, parity, drift, prediction drift and delayed-label quality."""
