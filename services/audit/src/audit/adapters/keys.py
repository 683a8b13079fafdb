"""The audit service's checkpoint-signing key, from its settings."""

from __future__ import annotations

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from audit.config import Settings
from audit.domain.checkpoint import Signer
from backbone.auth import load_pem

log = structlog.get_logger(__name__)


def load_signer(settings: Settings) -> Signer:
    if settings.signing_key is None:
        log.warning(
            "AUDIT_SIGNING_KEY is not set: checkpoints are signed by a key that dies with the process"
        )
        return Signer.generate()
    key = load_pem_private_key(load_pem(settings.signing_key.get_secret_value()), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("AUDIT_SIGNING_KEY is not an Ed25519 private key")
    return Signer(key)
