"""Sign-in throttling in process memory: growing delays instead of a lockout.

Three counters of failed sign-ins, each forgotten FORGET_SECONDS after its last failure:

- per (account, client): FREE_PER_PAIR failures are free, then each further attempt waits
  the first delay, twice that, four times ... up to the longest delay. A success clears it.
- per client, any account (spraying one password over many accounts): FREE_PER_CLIENT.
- per account, counting the distinct clients that failed (guessing one account from many
  addresses): FREE_CLIENTS_PER_ACCOUNT. It never holds back a client recognised for the
  account (one that signed in as it before), so other clients' failures cannot delay the
  account's own staff member in their usual browser.

A client is an IPv4 address or an IPv6 /64 network (what one subscriber gets).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

FORGET_SECONDS = 15 * 60
FREE_PER_PAIR = 3
FREE_PER_CLIENT = 20
FREE_CLIENTS_PER_ACCOUNT = 5
MAX_COUNTERS = 100_000
MAX_CLIENTS_PER_ACCOUNT = 1000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Schedule:
    """The delays: `first` seconds once the free failures are used, doubling up to `longest`."""

    first: float = 1.0
    longest: float = 60.0

    def delay(self, failures: int, free: int) -> float:
        """Seconds to wait after the last of `failures` failures when `free` are free."""
        if failures < free:
            return 0.0
        return min(self.longest, self.first * 2.0 ** min(failures - free, 64))


@dataclass
class Failures:
    """A counter: how many failures, the last one's time, and (per account) by which clients."""

    count: int = 0
    last: float = 0.0
    clients: dict[str, float] = field(default_factory=dict)


class LoginLimiter:
    """Counts failed sign-ins; says how long a client must wait before trying an account."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # Ordered by last failure, oldest first (updated counters move to the end).
        self._counters: dict[tuple[str, ...], Failures] = {}

    def _live(self, key: tuple[str, ...], now: float) -> Failures | None:
        counter = self._counters.get(key)
        if counter is not None and now - counter.last > FORGET_SECONDS:
            del self._counters[key]
            return None
        return counter

    def _touch(self, key: tuple[str, ...], now: float) -> Failures:
        counter = self._counters.pop(key, None)
        if counter is None or now - counter.last > FORGET_SECONDS:
            counter = Failures()
        counter.last = now
        self._counters[key] = counter
        return counter

    def retry_after(
        self, username: str, client: str, schedule: Schedule, recognised: bool = False
    ) -> float:
        """Seconds this client must still wait before trying `username` (0: it may now)."""
        now = self._clock()
        limits = [
            (("pair", username, client), FREE_PER_PAIR),
            (("client", client), FREE_PER_CLIENT),
        ]
        if not recognised:
            limits.append((("account", username), FREE_CLIENTS_PER_ACCOUNT))
        wait = 0.0
        for key, free in limits:
            counter = self._live(key, now)
            if counter is not None:
                wait = max(wait, counter.last + schedule.delay(counter.count, free) - now)
        return wait

    def failed(self, username: str, client: str) -> None:
        """Count a failed sign-in of `client` as `username`."""
        now = self._clock()
        for key in (("pair", username, client), ("client", client)):
            self._touch(key, now).count += 1
        account = self._touch(("account", username), now)
        clients = account.clients
        clients.pop(client, None)
        clients[client] = now
        while clients and (
            len(clients) > MAX_CLIENTS_PER_ACCOUNT
            or now - next(iter(clients.values())) > FORGET_SECONDS
        ):
            del clients[next(iter(clients))]
        account.count = len(clients)
        while self._counters:
            oldest = next(iter(self._counters))
            if (
                len(self._counters) <= MAX_COUNTERS
                and now - self._counters[oldest].last <= FORGET_SECONDS
            ):
                break
            del self._counters[oldest]

    def succeeded(self, username: str, client: str) -> None:
        """Forget this client's failures for `username` after it signed in as it."""
        self._counters.pop(("pair", username, client), None)
        account = self._counters.get(("account", username))
        if account is not None and account.clients.pop(client, None) is not None:
            account.count = len(account.clients)


@lru_cache(maxsize=16)
def trusted_networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """The configured trusted proxies as networks."""
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def parse_address(text: str) -> IPAddress | None:
    """An address from a socket or an X-Forwarded-For hop (`1.2.3.4:80`, `[::1]:80` too)."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(socket_ip: str, forwarded: Iterable[str], proxies: tuple[str, ...]) -> str:
    """The client signing in: the socket's address, or behind a trusted proxy a forwarded one.

    Only when the socket's address is a trusted proxy, X-Forwarded-For is read from the right
    (the hop each proxy appended) to the first address that is not a trusted proxy.
    """
    address = parse_address(socket_ip)
    if address is None:
        return socket_ip
    trusted = trusted_networks(proxies)
    if any(address in network for network in trusted):
        hops = [hop for header in forwarded for hop in header.split(",")]
        for hop in reversed(hops):
            previous = parse_address(hop)
            if previous is None:  # not written by a proxy: keep the last trusted hop
                break
            address = previous
            if not any(address in network for network in trusted):
                break
    return client_key(address)


def client_key(address: IPAddress) -> str:
    """The key of a client's counters: its IPv4 address or its IPv6 /64 network."""
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
