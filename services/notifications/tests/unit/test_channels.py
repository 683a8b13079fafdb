"""Channel configs and secrets, webhook signatures, retry timing."""

from __future__ import annotations

import time

import pytest
from cryptography.fernet import Fernet

from contracts.enums import ChannelKind
from notifications.adapters.secrets import SecretBox, SecretsUnavailable
from notifications.domain import channels, signing
from notifications.domain.delivery import RetryPolicy, SendFailed, http_failure


def test_secrets_are_split_off_and_redacted() -> None:
    public, secrets = channels.split(
        ChannelKind.EMAIL, {"host": "smtp", "from_address": "a@b.c", "username": "u", "password": "pw"}
    )
    assert "password" not in public and secrets == {"password": "pw"}
    assert channels.redact(ChannelKind.EMAIL, public, set(secrets))["password"] == "***"
    # "***" keeps the stored secret; a reference stays in the public config.
    public, secrets = channels.split(
        ChannelKind.WEBHOOK, {"url": "https://x", "secret": "***"}, stored_secrets={"secret": "old"}
    )
    assert secrets == {"secret": "old"}
    public, secrets = channels.split(
        ChannelKind.WEBHOOK, {"url": "https://x", "secret": {"secret_ref": "env:HOOK"}}
    )
    assert secrets == {} and public["secret"] == {"secret_ref": "env:HOOK"}
    assert channels.resolve(public, secrets, {"HOOK": "s"})["secret"] == "s"
    with pytest.raises(channels.MissingSecret):
        channels.resolve(public, secrets, {})


@pytest.mark.parametrize(
    ("kind", "config"),
    [
        (ChannelKind.WEBHOOK, {"url": "https://x"}),
        (ChannelKind.WEBHOOK, {"url": "https://x", "secret": "***"}),
        (ChannelKind.SLACK, {}),
        (ChannelKind.SLACK, {"webhook_url": "https://h", "bot_token": "x", "channel": "#c"}),
        (ChannelKind.EMAIL, {"host": "smtp", "from_address": "nope"}),
        (ChannelKind.EMAIL, {"host": "smtp", "from_address": "a@b.c", "security": "ssl"}),
        (ChannelKind.WEBHOOK, {"url": "https://x", "secret": {"secret_ref": "file:/etc/passwd"}}),
    ],
)
def test_invalid_configs(kind: ChannelKind, config: dict[str, object]) -> None:
    with pytest.raises(channels.InvalidConfig):
        channels.split(kind, config)


def test_secret_box_round_trip_and_rotation() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = SecretBox(old).seal({"secret": "s"})
    assert sealed and sealed != "s"
    assert SecretBox(f"{new},{old}").open(sealed) == {"secret": "s"}
    with pytest.raises(SecretsUnavailable):
        SecretBox(new).open(sealed)
    with pytest.raises(SecretsUnavailable):
        SecretBox(None).seal({"secret": "s"})
    assert SecretBox(None).seal({}) is None


def test_signature() -> None:
    now = int(time.time())
    sig = signing.signature("k", now, b'{"a":1}')
    assert sig.startswith("sha256=")
    assert signing.verify("k", now, b'{"a":1}', sig, now=now)
    assert not signing.verify("k", now, b'{"a":2}', sig, now=now)
    assert not signing.verify("other", now, b'{"a":1}', sig, now=now)
    assert not signing.verify("k", now, b'{"a":1}', sig, now=now + 301)  # a replay, too late


def test_retry_policy() -> None:
    policy = RetryPolicy(max_attempts=4, initial_s=1, max_s=5, jitter_s=0.5)
    delays = [policy.delay_s(n) for n in range(1, 6)]
    for base, got in zip([1, 2, 4, 5, 5], delays, strict=True):
        assert base <= got <= min(base + 0.5, 5)
    transient, permanent = SendFailed("x", transient=True), SendFailed("x", transient=False)
    assert not policy.gives_up(3, transient) and policy.gives_up(4, transient)
    assert policy.gives_up(1, permanent)
    assert http_failure(503).transient and http_failure(429).transient and not http_failure(404).transient


async def test_token_bucket_lets_a_burst_through_then_spaces_sends() -> None:
    import asyncio

    from notifications.entrypoints.workers import TokenBucket

    bucket = TokenBucket(per_minute=600)  # 10 a second, bursts of 10
    started = time.monotonic()
    for _ in range(10):
        await bucket.take()
    assert time.monotonic() - started < 1  # the burst does not wait (generous bound)
    await asyncio.gather(bucket.take(), bucket.take())
    assert time.monotonic() - started >= 0.15  # two more had to wait for tokens (~0.1 s each)
