from backbone.migrations import run_env
from notifications.adapters import communications, incidents, reminders  # noqa: F401  (their tables)
from notifications.adapters.orm import metadata

run_env(metadata)
