"""Channel configs and secrets, webhook signatures, retry timing."""

from __future__ import annotations

import time
import uuid

import pytest
from cryptography.fernet import Fernet

from contracts.enums import ChannelKind
from notifications.adapters.secrets import SecretBox, SecretsUnavailable
from notifications.domain import channels, signing
from notifications.domain.deliveries import RetryPolicy, SendFailed, http_failure
from notifications.domain.egress import EgressPolicy, Protocol

TENANT = uuid.UUID("0f3a0000-0000-4000-8000-0000000000ab")
OWN = f"NOTIFY_{TENANT.hex.upper()}_HOOK"
RULE = channels.RefRule(TENANT, frozenset({"SHARED_SMTP_PASSWORD"}))


def split(kind: ChannelKind, config: dict[str, object], **kwargs: object) -> tuple[dict, dict]:  # type: ignore[type-arg]
    return channels.split(kind, config, refs=RULE, policy=EgressPolicy(), **kwargs)  # type: ignore[arg-type]


def test_secrets_are_split_off_and_redacted() -> None:
    public, secrets = split(
        ChannelKind.EMAIL, {"host": "smtp", "from_address": "a@b.c", "username": "u", "password": "pw"}
    )
    assert "password" not in public and secrets == {"password": "pw"}
    assert channels.redact(ChannelKind.EMAIL, public, set(secrets))["password"] == "***"
    # "***" keeps the stored secret; a reference stays in the public config.
    public, secrets = split(
        ChannelKind.WEBHOOK, {"url": "https://x", "secret": "***"}, stored_secrets={"secret": "old"}
    )
    assert secrets == {"secret": "old"}
    public, secrets = split(ChannelKind.WEBHOOK, {"url": "https://x", "secret": {"secret_ref": f"env:{OWN}"}})
    assert secrets == {} and public["secret"] == {"secret_ref": f"env:{OWN}"}
    assert channels.resolve(public, secrets, {OWN: "s"}, RULE)["secret"] == "s"
    with pytest.raises(channels.MissingSecret):
        channels.resolve(public, secrets, {}, RULE)


@pytest.mark.parametrize("name", ["DATABASE_URL", "NOTIFICATIONS_SECRET_KEY", "NOTIFY_", "HOOK"])
def test_a_tenant_references_only_its_own_or_listed_variables(name: str) -> None:
    other_tenant = f"NOTIFY_{uuid.uuid4().hex.upper()}_HOOK"
    for refused in (name, other_tenant, f"NOTIFY_{TENANT.hex.upper()}_"):
        with pytest.raises(channels.InvalidConfig, match="NOTIFICATIONS_SECRET_REF_ALLOW"):
            split(ChannelKind.WEBHOOK, {"url": "https://x", "secret": {"secret_ref": f"env:{refused}"}})
        # A row saved before the rule existed cannot read it at send time either.
        with pytest.raises(channels.MissingSecret, match="may not be referenced"):
            channels.resolve({"secret": {"secret_ref": f"env:{refused}"}}, {}, {refused: "leak"}, RULE)
    listed = {"host": "smtp", "from_address": "a@b.c", "password": {"secret_ref": "env:SHARED_SMTP_PASSWORD"}}
    public, _ = split(ChannelKind.EMAIL, listed)
    assert channels.resolve(public, {}, {"SHARED_SMTP_PASSWORD": "pw"}, RULE)["password"] == "pw"


def test_slack_api_url_is_not_channel_config() -> None:
    with pytest.raises(channels.InvalidConfig, match="NOTIFICATIONS_SLACK_API_URL"):
        split(ChannelKind.SLACK, {"bot_token": "x", "channel": "#c", "api_url": "http://169.254.169.254/"})
    # One saved before: ignored when sending.
    saved = {"bot_token": "x", "channel": "#c", "api_url": "http://10.0.0.1/"}
    assert "api_url" not in channels.resolve(saved, {}, {}, RULE)


@pytest.mark.parametrize(
    ("kind", "config", "field"),
    [
        (ChannelKind.WEBHOOK, {"url": "http://127.0.0.1:8080/x", "secret": "s"}, "url"),
        (ChannelKind.WEBHOOK, {"url": "http://169.254.169.254/latest/meta-data", "secret": "s"}, "url"),
        (ChannelKind.WEBHOOK, {"url": "https://10.0.0.1/x", "secret": "s"}, "url"),
        (ChannelKind.WEBHOOK, {"url": "http://[::1]/x", "secret": "s"}, "url"),
        (ChannelKind.WEBHOOK, {"url": "http://[fd00::1]/x", "secret": "s"}, "url"),
        (ChannelKind.WEBHOOK, {"url": "http://[::ffff:127.0.0.1]/x", "secret": "s"}, "url"),
        (ChannelKind.WEBHOOK, {"url": "http://8.8.8.8:6379/x", "secret": "s"}, "url"),
        (ChannelKind.SLACK, {"webhook_url": "http://192.168.1.1/hook"}, "webhook_url"),
        (ChannelKind.EMAIL, {"host": "127.0.0.1", "from_address": "a@b.c"}, "host"),
        (ChannelKind.EMAIL, {"host": "100.64.0.1", "port": 25, "from_address": "a@b.c"}, "host"),
    ],
)
def test_literal_refused_destinations_are_refused_when_saved(
    kind: ChannelKind, config: dict[str, object], field: str
) -> None:
    with pytest.raises(channels.InvalidConfig, match="refused destination") as refused:
        split(kind, config)
    assert refused.value.field == field
    # Opened by the operator: accepted, on any port.
    opened = EgressPolicy.from_settings("0.0.0.0/0,::/0", "80,443", "25")
    channels.split(kind, config, refs=RULE, policy=opened)


def test_egress_policy() -> None:
    policy = EgressPolicy.from_settings("127.0.0.1/32", "443", "587")
    assert policy.refusal("127.0.0.1", 9999, Protocol.HTTP) is None
    assert policy.refusal("::ffff:127.0.0.1", 9999, Protocol.HTTP) is None  # the same address
    assert "loopback" in (policy.refusal("::1", 443, Protocol.HTTP) or "")
    assert "link-local" in (policy.refusal("169.254.169.254", 80, Protocol.HTTP) or "")
    assert "loopback" in (
        EgressPolicy().refusal("2002:7f00:1::1", 443, Protocol.HTTP) or ""
    )  # 6to4, 127.0.0.1
    assert policy.refusal("93.184.215.14", 443, Protocol.HTTP) is None
    assert "port 80" in (policy.refusal("93.184.215.14", 80, Protocol.HTTP) or "")
    assert policy.refusal("93.184.215.14", 587, Protocol.SMTP) is None
    assert policy.refusal_of_any(["93.184.215.14", "10.1.2.3"], 443, Protocol.HTTP)
    with pytest.raises(ValueError, match="not an IP"):
        EgressPolicy.from_settings("10.0.0.0/33", "", "")


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
        split(kind, config)


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
    assert (
        http_failure(500).error == "HTTP 500 Internal Server Error" and http_failure(599).error == "HTTP 599"
    )


async def test_token_bucket_lets_a_burst_through_then_spaces_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a clock the test holds: the sleeps the bucket asks for are its spacing, exactly."""
    from types import SimpleNamespace

    from notifications.entrypoints import workers

    # Binary-exact numbers (8 a second: 0.125 s apart), so the arithmetic is exact too.
    now = [1024.0]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(workers, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(workers, "asyncio", SimpleNamespace(sleep=sleep))
    bucket = workers.TokenBucket(per_minute=480, updated=now[0])  # 8 a second, bursts of 10
    for _ in range(10):
        await bucket.take()
    assert sleeps == []  # the burst does not wait
    await bucket.take()
    await bucket.take()
    assert sleeps == [0.125, 0.125]  # then one token per 0.125 s
    now[0] += 0.5  # time passes: four tokens come back, no more
    for _ in range(4):
        await bucket.take()
    assert len(sleeps) == 2
    await bucket.take()
    assert sleeps[2:] == [0.125]
