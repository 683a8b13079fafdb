"""Settings of the sla service: environment variables prefixed SLA_ (see docs/configuration.md)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from backbone.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_", extra="ignore", populate_by_name=True)

    service_name: str = "sla"
    port: int = 8003

    # Clocks (docs/sla.md "Clocks"): the timer loop is woken at the nearest due time it knows
    # of; the poll catches timers other replicas wrote.
    clock_poll_interval_s: float = Field(default=1.0, gt=0, description="SLA timer poll interval.")
    clock_batch_size: int = Field(
        default=200, ge=1, description="SLA warnings and breaches fired per transaction."
    )
