"""Metric metadata (the registry) and the pure metric functions protocols compute with."""
