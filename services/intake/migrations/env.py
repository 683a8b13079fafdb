from backbone.migrations import run_env
from intake.adapters.orm import metadata

run_env(metadata)
