"""Triage's read models and queries, one module per domain word."""
