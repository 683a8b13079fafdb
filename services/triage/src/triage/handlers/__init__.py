"""Triage's commands and event handlers, one module per domain word. One function each: load,
call the domain, save, emit; the caller's unit of work commits."""
