"""Channel secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with keys from settings.

``NOTIFICATIONS_SECRET_KEY`` holds one key, or several comma-separated (newest first) while
rotating: new secrets are encrypted with the first, old ones still decrypt with any.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretsUnavailable(RuntimeError):
    """No key configured (or the stored secrets do not decrypt with the configured keys)."""


class SecretBox:
    def __init__(self, keys: str | None) -> None:
        parts = [k.strip() for k in (keys or "").split(",") if k.strip()]
        self._fernet = MultiFernet([Fernet(k) for k in parts]) if parts else None

    @property
    def configured(self) -> bool:
        return self._fernet is not None

    def seal(self, secrets: dict[str, str]) -> str | None:
        if not secrets:
            return None
        if self._fernet is None:
            raise SecretsUnavailable(
                "no NOTIFICATIONS_SECRET_KEY is configured to encrypt secrets: "
                'give them as {"secret_ref": "env:NAME"} instead'
            )
        return self._fernet.encrypt(json.dumps(secrets).encode()).decode()

    def open(self, sealed: str | None) -> dict[str, str]:
        if not sealed:
            return {}
        if self._fernet is None:
            raise SecretsUnavailable(
                "NOTIFICATIONS_SECRET_KEY is not configured; stored secrets cannot be read"
            )
        try:
            opened: dict[str, str] = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken as exc:
            raise SecretsUnavailable("stored secrets do not decrypt with NOTIFICATIONS_SECRET_KEY") from exc
        return opened
