"""Reliability under faults: real processes, crashes, poison input, hostile requests."""
