"""The SQL of vendors."""

from directory.adapters.orm import vendors
from directory.adapters.shared import Rows

ROWS = Rows(vendors, "vendor")
