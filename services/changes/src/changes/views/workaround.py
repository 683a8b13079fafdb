"""Workarounds as the API reads them (the caller's tenant and scope)."""

from changes.adapters.workaround import table
from changes.views.records import Reader, model_of
from contracts.enums import EffectivenessLevel, WorkaroundStatus

reader = Reader(table, "workaround")
Workaround = model_of(table, "Workaround", status=WorkaroundStatus, effectiveness_level=EffectivenessLevel)
