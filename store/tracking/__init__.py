"""Experiment tracking: runs, metric series, run search, idempotent client writes."""
