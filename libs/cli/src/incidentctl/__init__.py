"""incidentctl: the operator's command line, kept out of the runtime library (backbone) so that a
service process never loads typer, rich or the admin HTTP client (docs/architecture.md)."""
