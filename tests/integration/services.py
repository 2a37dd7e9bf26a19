"""The machine's real PostgreSQL and Redis for the scale-out and fault tests: a throw-away
database and Redis key prefix per test module, endpoint sections pointing at them, a TCP
proxy to cut the bot off its database, and parallel start-up of bots."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
import redis
import sqlalchemy as sa

from certbot.launch import free_port
from tests.servers import TRACKER_STORE, Bot, Server

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 1
LOCK_STORE = "certbot.stores.lock_store.AtomicRedisLockStore"


def missing_services() -> str | None:
    """Why PostgreSQL or Redis cannot be used here, or None when both answer."""
    try:
        psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres").close()
    except psycopg2.OperationalError as error:
        return f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT} as {PG_USER}: {error}"
    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=2).ping()
    except redis.RedisError as error:
        return f"Redis not reachable at {REDIS_HOST}:{REDIS_PORT}: {error}"
    return None


def require_services() -> None:
    """Skip, saying why, when PostgreSQL or Redis is not reachable."""
    problem = missing_services()
    if problem:
        pytest.skip(problem)


def _admin(sql: str) -> None:
    connection = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database (its name), dropped afterwards."""
    require_services()
    name = f"certbot_test_{uuid.uuid4().hex[:12]}"
    _admin(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def redis_prefix() -> Iterator[str]:
    """A key prefix of its own (alphanumeric, as Rasa requires); its keys deleted afterwards."""
    require_services()
    prefix = f"certbottest{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


def postgres_stores(
    database: str, port: int = PG_PORT, lock_prefix: str | None = None, redis_port: int = 0
) -> str:
    """Endpoint sections: the PostgreSQL tracker store, and the Redis lock store if a prefix
    is given (as in deploy/endpoints.prod.yml); `port`/`redis_port` replace the servers'."""
    yaml = (
        f"tracker_store:\n  type: {TRACKER_STORE}\n  dialect: postgresql\n  url: {PG_HOST}\n"
        f"  port: {port}\n  db: {database}\n  username: {PG_USER}\n"
    )
    if lock_prefix:
        yaml += (
            f"lock_store:\n  type: {LOCK_STORE}\n  url: {REDIS_HOST}\n"
            f"  port: {redis_port or REDIS_PORT}\n"
            f"  db: {REDIS_DB}\n  key_prefix: {lock_prefix}\n"
        )
    return yaml


def tracker_events(database: str, sender: str) -> list[dict]:
    """The conversation's events as the bots stored them, oldest first."""
    engine = sa.create_engine(f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT type_name, action_name, data FROM events WHERE sender_id = :s "
                        "ORDER BY id"),
                {"s": sender},
            )  # fmt: skip
            return [{"event": row[0], "name": row[1], "data": json.loads(row[2])} for row in rows]
    finally:
        engine.dispose()


def start_all(servers: list[Server]) -> None:
    """Start servers in parallel (a bot takes about a minute to load its model)."""
    with ThreadPoolExecutor(len(servers)) as pool:
        for future in [pool.submit(server.start) for server in servers]:
            future.result()


def stop_all(bots: list[Bot]) -> None:
    """Stop bots and their action servers."""
    for bot in bots:
        bot.rasa.stop()
        bot.actions.stop()


class TcpProxy:
    """Forwards a local port to a target; `cut` drops every connection and refuses new
    ones (the database "goes away"), `restore` accepts again on the same port."""

    def __init__(self, target_port: int, target_host: str = PG_HOST) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        """Listen again."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Close the listener and every forwarded connection."""
        if self.listener:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            self.listener.close()
            self.listener = None
        with self.lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
