"""A Redis lock store that is safe with several bot instances or Sanic workers.

Rasa 3.6's `RedisLockStore` changes a conversation's ticket lock by reading it, changing it
in Python and writing it back. Two processes doing that at once overwrite each other's
tickets: messages to one conversation then run concurrently (events lost or interleaved) or
fail with "Could not acquire lock". This store makes every change one Redis transaction
(WATCH/MULTI, retried on conflict), so tickets are issued and returned atomically.

Configured in the endpoints file (same settings as `type: redis`):

    lock_store:
      type: certbot.stores.lock_store.AtomicRedisLockStore
      url: 127.0.0.1
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.client import Pipeline

T = TypeVar("T")


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose lock updates are atomic across processes."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        """Connect as `type: redis` would, from the lock store's endpoint section."""
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _change(
        self,
        conversation_id: str,
        change: Callable[[TicketLock | None], tuple[T, TicketLock | None]],
    ) -> T:
        """Apply `change` to the stored lock in one transaction; None deletes the lock."""
        key = self.key_prefix + conversation_id

        def attempt(pipe: Pipeline) -> T:
            stored = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(stored)) if stored else None
            result, changed = change(lock)
            pipe.multi()
            if changed is None:
                pipe.delete(key)
            else:
                pipe.set(key, changed.dumps())
            return result

        return self.red.transaction(attempt, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issue a ticket, creating the lock if needed."""

        def issue(lock: TicketLock | None) -> tuple[int, TicketLock]:
            lock = lock or TicketLock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._change(conversation_id, issue)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        """Remove the lock's expired tickets."""

        def expire(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock:
                lock.remove_expired_tickets()
            return None, lock

        self._change(conversation_id, expire)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Return a ticket."""
        self._return_ticket(conversation_id, ticket_number, delete_when_empty=False)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Return a ticket; delete the lock if nobody else holds one."""
        self._return_ticket(conversation_id, ticket_number, delete_when_empty=True)

    def _return_ticket(
        self, conversation_id: str, ticket_number: int, delete_when_empty: bool
    ) -> None:
        def remove(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock:
                lock.remove_ticket_for(ticket_number)
                if delete_when_empty and not lock.is_someone_waiting():
                    return None, None
            return None, lock

        self._change(conversation_id, remove)
