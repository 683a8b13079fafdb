"""Where deliveries may go (pure: addresses in, a reason out; no I/O).

A tenant chooses the destination of its webhooks, Slack incoming webhooks and SMTP servers, so
every connection the senders make is checked against this policy (adapters/egress.py applies it
to each resolved address, at connect time). By default only globally routable unicast addresses
are reachable, on the ports of the protocol; an operator opens ranges (an internal SMTP relay, a
receiver on 127.0.0.1 for local testing) with ``NOTIFICATIONS_EGRESS_ALLOW``, and an opened
range is trusted on every port. See docs/notifications.md.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_SETTING = "NOTIFICATIONS_EGRESS_ALLOW"

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: another network's inside
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix embeds an IPv4 address


class Protocol(StrEnum):
    HTTP = "http"  # webhooks and Slack (http and https)
    SMTP = "smtp"


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """``"127.0.0.1/32, ::1"`` → networks; ValueError naming the bad entry."""
    nets = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or CIDR range") from None
    return tuple(nets)


def parse_ports(text: str) -> frozenset[int]:
    ports = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if not part.isdigit() or not 0 < int(part) < 65536:
            raise ValueError(f"{part!r} is not a TCP port")
        ports.add(int(part))
    return frozenset(ports)


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The address itself and any IPv4 address it carries (mapped, 6to4, Teredo, NAT64): each
    may be where the packets really end up."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]  # on the wire this is the IPv4 address itself
    found: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.extend(ip.teredo)
        if ip in _NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _kind(ip: IPAddress) -> str | None:
    """Why one address is refused by default (None: a public unicast address)."""
    if ip.is_unspecified:
        return "unspecified address"
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_multicast:
        return "multicast address"
    if isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL:
        return "unique-local address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "shared (carrier-grade NAT) address"
    if ip.is_private:
        return "private address"
    if ip.is_reserved or not ip.is_global:
        return "reserved address"
    return None


@dataclass(frozen=True)
class EgressPolicy:
    allow: tuple[IPNetwork, ...] = ()
    ports: dict[Protocol, frozenset[int]] = field(
        default_factory=lambda: {
            Protocol.HTTP: frozenset({80, 443}),
            Protocol.SMTP: frozenset({25, 465, 587}),
        }
    )

    @classmethod
    def from_settings(cls, allow: str, http_ports: str, smtp_ports: str) -> EgressPolicy:
        return cls(
            allow=parse_networks(allow),
            ports={Protocol.HTTP: parse_ports(http_ports), Protocol.SMTP: parse_ports(smtp_ports)},
        )

    def _opened(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.allow)

    def refusal(self, address: str | IPAddress, port: int, protocol: Protocol) -> str | None:
        """Why a connection to ``address:port`` is refused, or None if it may be made."""
        try:
            ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        except ValueError:
            return "refused destination: not an IP address"
        if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%")[0])
        candidates = _embedded(ip)
        if all(self._opened(c) for c in candidates):
            return None  # an opened range is trusted on every port
        for candidate in candidates:
            if not self._opened(candidate) and (kind := _kind(candidate)) is not None:
                return f"refused destination: {kind} (open it with {ALLOW_SETTING})"
        if port not in self.ports[protocol]:
            allowed = ", ".join(str(p) for p in sorted(self.ports[protocol]))
            return f"refused destination: port {port} (allowed: {allowed})"
        return None

    def refusal_of_any(
        self, addresses: Iterable[str | IPAddress], port: int, protocol: Protocol
    ) -> str | None:
        """A host is refused if any of its addresses is: the connection could go to any."""
        for address in addresses:
            if (reason := self.refusal(address, port, protocol)) is not None:
                return reason
        return None

    def literal_refusal(self, host: str, port: int, protocol: Protocol) -> str | None:
        """At save time: a host written as an IP address is checked at once (a name is checked
        when it is resolved, at connect time)."""
        literal = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        try:
            ip = ipaddress.ip_address(literal.split("%")[0])
        except ValueError:
            return None
        return self.refusal(ip, port, protocol)

    def url_refusal(self, url: str) -> str | None:
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return "invalid port"
        return self.literal_refusal(parts.hostname or "", port, Protocol.HTTP)
