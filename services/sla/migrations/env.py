from backbone.migrations import run_env
from sla.adapters.orm import metadata

run_env(metadata)
