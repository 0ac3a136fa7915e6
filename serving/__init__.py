"""Serving: a framework-free scorer on the Feast online store, behind a thin HTTP adapter."""
