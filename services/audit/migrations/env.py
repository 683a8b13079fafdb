from audit.adapters.orm import metadata
from backbone.migrations import run_env

run_env(metadata)
