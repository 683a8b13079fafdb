from backbone.migrations import run_env
from changes.adapters.orm import metadata

run_env(metadata)
