from backbone.migrations import run_env
from triage.adapters.orm import metadata

run_env(metadata)
