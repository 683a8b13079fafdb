import intake.adapters.reports  # noqa: F401  (its tables are on the same metadata)
from backbone.migrations import run_env
from intake.adapters.orm import metadata

run_env(metadata)
