"""docs/configuration.md documents every service setting, as the code defines it."""

from pathlib import Path

import pytest

from backbone import configdoc

DOC = Path(__file__).resolve().parents[4] / "docs" / "configuration.md"


def test_the_documented_settings_are_the_code_s() -> None:
    assert configdoc.generated_part(DOC.read_text()) == configdoc.render(), (
        "docs/configuration.md is stale: run `uv run python -m backbone.configdoc --write`"
    )


@pytest.mark.parametrize("service", configdoc.DOCUMENTED)
def test_every_service_setting_says_what_it_is_for(service: str) -> None:
    missing = [env for env, _, meaning in configdoc.service_settings(service) if not meaning]
    assert not missing, f"settings without a description: {missing}"
