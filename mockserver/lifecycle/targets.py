"""Which hosts webhook and upload deliveries may reach (the SSRF guard).

An allowlist holds networks (``127.0.0.0/8``, ``::1``, ``10.1.2.3``) and host names
(``hooks.test``). A target URL passes when its host name is listed, or when every
address it resolves to lies in a listed network; either way the delivery connects to
an address checked here (the URL is rewritten to it, with the original Host header
and TLS server name), so a DNS answer that changes between check and connect
(rebinding) cannot redirect it. The default is loopback only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]


@dataclass(frozen=True)
class Allowlist:
    networks: tuple[Network, ...]
    hosts: frozenset[str]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        """From ``--delivery-allow`` values; ValueError names an entry that is neither a
        network nor a host name."""
        networks: list[Network] = []
        hosts: set[str] = set()
        for entry in entries:
            text = entry.strip()
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
                continue
            except ValueError:
                pass
            name = text.lower().rstrip(".")
            labels = name.split(".")
            if not name or not all(
                label and len(label) <= 63 and label.replace("-", "").isalnum() for label in labels
            ):
                raise ValueError(f"{entry!r} is neither an address, a network nor a host name")
            hosts.add(name)
        return cls(tuple(networks), frozenset(hosts))

    def address_allowed(self, address: Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


@dataclass(frozen=True)
class Target:
    """Where to connect: the URL with its host replaced by a checked address."""

    url: httpx.URL
    host_header: str
    server_name: str


class Refused(Exception):
    """The URL may not be contacted; the message says why."""


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check(url: str, allow: Allowlist, resolve: Resolver = system_resolve) -> Target:
    """The target to connect to for ``url``, or Refused."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise Refused("not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise Refused("only http and https URLs are delivered to")
    host = parsed.host.lower().rstrip(".")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in await resolve(host, port)]
        except (OSError, UnicodeError, ValueError):
            raise Refused(f"cannot resolve {host}") from None
    if not addresses:
        raise Refused(f"cannot resolve {host}")
    if host not in allow.hosts:
        denied = [str(a) for a in addresses if not allow.address_allowed(a)]
        if denied:
            raise Refused(f"{host} resolves to {', '.join(denied)}, outside --delivery-allow")
    return Target(
        url=parsed.copy_with(host=str(addresses[0])),
        host_header=parsed.netloc.decode("ascii"),
        server_name=host,
    )
