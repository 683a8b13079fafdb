"""``python -m incidentctl``: the same as the ``incidentctl`` console script."""

from incidentctl.cli import main

main()
