"""Connections to tenant-chosen destinations, checked where they are made (domain/egress.py).

The check happens on the addresses the connection actually uses, after DNS resolution, so a
name that resolves to a refused address (or changes its answer between a check and the connect,
"DNS rebinding") never gets a connection:

- HTTP (webhooks, Slack) goes through an aiohttp session whose resolver refuses a host if any
  of its addresses is refused, and whose socket factory checks every address it is about to
  connect to (this also covers addresses written literally in a URL, and redirects). TLS still
  verifies the certificate against the URL's host name.
- SMTP: the host is resolved and checked here, a socket is connected to a checked address, and
  aiosmtplib speaks over that socket (with the host name for TLS).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohappyeyeballs
import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from notifications.domain.egress import EgressPolicy, Protocol


class EgressRefused(OSError):
    """A destination the policy refuses; raised before any packet is sent to it."""


def refusal_in(exc: BaseException | None) -> str | None:
    """The policy's reason if ``exc`` (or what it wraps) is a refusal."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, EgressRefused):
            return str(exc)
        exc = getattr(exc, "os_error", None) or exc.__cause__ or exc.__context__
    return None


def _socket_factory(policy: EgressPolicy, protocol: Protocol) -> Any:
    def make(addr_info: aiohappyeyeballs.AddrInfoType) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        reason = policy.refusal(str(sockaddr[0]), int(sockaddr[1]), protocol)
        if reason is not None:
            raise EgressRefused(reason)
        return socket.socket(family, type_, proto)

    return make


class GuardedResolver(AbstractResolver):
    """aiohttp's threaded resolver, refusing a host any of whose addresses is refused."""

    def __init__(self, policy: EgressPolicy, protocol: Protocol = Protocol.HTTP) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self._policy = policy
        self._protocol = protocol

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        reason = self._policy.refusal_of_any((r["host"] for r in results), port, self._protocol)
        if reason is not None:
            raise EgressRefused(reason)
        return results

    async def close(self) -> None:
        await self._inner.close()


def http_session(policy: EgressPolicy) -> aiohttp.ClientSession:
    """A session whose every connection passes the policy (no proxies from the environment)."""
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(policy, Protocol.HTTP),
        socket_factory=_socket_factory(policy, Protocol.HTTP),
        ttl_dns_cache=10,
    )
    return aiohttp.ClientSession(connector=connector, trust_env=False)


async def connect_tcp(host: str, port: int, policy: EgressPolicy, protocol: Protocol) -> socket.socket:
    """A socket connected to ``host:port`` through checked addresses only."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    reason = policy.refusal_of_any((str(info[4][0]) for info in infos), port, protocol)
    if reason is not None:
        raise EgressRefused(reason)
    return await aiohappyeyeballs.start_connection(
        infos, happy_eyeballs_delay=0.25, socket_factory=_socket_factory(policy, protocol)
    )
