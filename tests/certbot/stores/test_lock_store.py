"""The atomic Redis lock store against the machine's real Redis: tickets taken at once by
several processes' worth of connections are all kept."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from certbot.stores.lock_store import AtomicRedisLockStore
from tests.integration.services import REDIS_DB, REDIS_HOST, REDIS_PORT, redis_prefix

CLIENTS = 4
TICKETS_EACH = 50


@pytest.fixture
def prefix():
    with redis_prefix() as value:
        yield value


def stores(prefix: str) -> list[AtomicRedisLockStore]:
    """One store per client, each with its own connection, as separate bot instances have."""
    config = EndpointConfig(
        url=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, key_prefix=prefix, type="ignored"
    )
    return [AtomicRedisLockStore(config) for _ in range(CLIENTS)]


def issue_concurrently(clients: list[RedisLockStore], conversation: str) -> list[int]:
    def issue(store: RedisLockStore) -> list[int]:
        return [store.issue_ticket(conversation, 60) for _ in range(TICKETS_EACH)]

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [ticket for tickets in pool.map(issue, clients) for ticket in tickets]


def test_tickets_issued_at_once_are_unique_and_all_kept(prefix):
    clients = stores(prefix)
    conversation = f"c{uuid.uuid4().hex}"
    tickets = issue_concurrently(clients, conversation)
    assert len(set(tickets)) == CLIENTS * TICKETS_EACH
    lock = clients[0].get_lock(conversation)
    assert sorted(ticket.number for ticket in lock.tickets) == sorted(tickets)


def test_cleanup_returns_tickets_and_deletes_the_lock_when_nobody_waits(prefix):
    first, second = stores(prefix)[:2]
    conversation = f"c{uuid.uuid4().hex}"
    one, two = first.issue_ticket(conversation), second.issue_ticket(conversation)
    assert first.get_lock(conversation).now_serving == one
    first.cleanup(conversation, one)
    assert second.get_lock(conversation).now_serving == two
    second.cleanup(conversation, two)
    assert first.get_lock(conversation) is None


def test_rasas_own_redis_lock_store_loses_tickets_issued_at_once(prefix):
    """Why the atomic store exists: this is what it fixes."""
    clients = [
        RedisLockStore(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, key_prefix=prefix)
        for _ in range(CLIENTS)
    ]
    conversation = f"c{uuid.uuid4().hex}"
    issue_concurrently(clients, conversation)
    assert len(clients[0].get_lock(conversation).tickets) < CLIENTS * TICKETS_EACH
