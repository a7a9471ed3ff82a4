"""Protocols: data splits, base/gold model recipes and metric suites (one plugin each)."""
