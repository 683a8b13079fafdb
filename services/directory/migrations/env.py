from backbone.migrations import run_env
from directory.adapters.orm import metadata

run_env(metadata)
