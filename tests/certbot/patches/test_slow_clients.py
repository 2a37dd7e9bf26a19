"""Slow clients on the real bot and the real console: a header or a body trickling in, one
piece every second, is cut off with 408 at its deadline instead of holding the connection.
(A connection closed while a piece is in flight may end with a reset instead of the 408,
which the reset then discards: the client sees "reset".)"""

from __future__ import annotations

import json
import socket
import sys
import time

import pytest

from certbot.launch import free_port
from certbot.patches.slow_clients import BODY_SECONDS, HEAD_SECONDS
from tests.servers import Server

GIVE_UP_SECONDS = 60


def trickle(port: int, head: bytes, pieces: list[bytes]) -> tuple[float, bytes]:
    """Send `head`, then one piece a second; the seconds until the server answered and
    closed, and what it answered. Fails when it is still listening after GIVE_UP_SECONDS."""
    with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
        start = time.monotonic()
        connection.sendall(head)
        answer = b""
        for piece in pieces:
            if time.monotonic() - start > GIVE_UP_SECONDS:
                break
            try:
                data = connection.recv(65536)
                answer += data
                if not data:
                    return time.monotonic() - start, answer
            except TimeoutError:
                pass
            except ConnectionResetError:
                return time.monotonic() - start, answer or b"reset"
            try:
                connection.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - start, answer + drain(connection) or b"reset"
    pytest.fail(f"the connection stayed open for {GIVE_UP_SECONDS} s")


def drain(connection: socket.socket) -> bytes:
    """What is left to read on a connection the server closed."""
    try:
        return connection.recv(65536)
    except OSError:
        return b""


def cut_off(answer: bytes) -> bool:
    """A 408 answer, or a reset that may have discarded it."""
    return answer == b"reset" or b" 408 " in answer.partition(b"\r\n")[0]


def slow_header(port: int) -> tuple[float, bytes]:
    head = b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\n"
    return trickle(port, head, [f"X-Slow-{i}: {i}\r\n".encode() for i in range(200)])


def slow_body(port: int, path: str) -> tuple[float, bytes]:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n".encode()
    return trickle(port, head, [b" "] * 200)


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """`python -m console` as users run it."""
    tmp = tmp_path_factory.mktemp("slow-console")
    (tmp / "endpoints.yml").write_text(
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp / 'c.db'}\n"
    )
    port = free_port()
    settings = {
        "CONSOLE_DB_URL": f"sqlite:///{tmp / 'console.db'}",
        "ENDPOINTS": str(tmp / "endpoints.yml"),
        "CONSOLE_SECRET": "slow-clients-secret",
        "MODEL_REGISTRY": str(tmp / "registry"),
        "CONSOLE_PORT": str(port),
    }
    server = Server(
        ["env", *[f"{k}={v}" for k, v in settings.items()], sys.executable, "-m", "console"],
        port,
        tmp / "console.log",
        "/health",
    )
    server.start()
    yield server
    server.stop()


def test_a_slow_header_is_cut_off_by_the_bot(bot):
    seconds, answer = slow_header(bot.rasa.port)
    assert HEAD_SECONDS - 1 <= seconds <= HEAD_SECONDS + 5, seconds
    assert cut_off(answer), answer[:200]


def test_a_slow_body_is_cut_off_by_the_bot(bot):
    seconds, answer = slow_body(bot.rasa.port, "/webhooks/widget/webhook")
    assert BODY_SECONDS - 1 <= seconds <= BODY_SECONDS + 5, seconds
    assert cut_off(answer), answer[:200]


def test_a_slow_header_is_cut_off_by_the_console(console):
    seconds, answer = slow_header(console.port)
    assert HEAD_SECONDS - 1 <= seconds <= HEAD_SECONDS + 5, seconds
    assert cut_off(answer), answer[:200]


def test_a_request_sent_at_once_is_answered(bot):
    with socket.create_connection(("127.0.0.1", bot.rasa.port), timeout=30) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b" 200 " in connection.recv(65536).partition(b"\r\n")[0]


def test_the_stand_in_method_of_unreceived_requests_reaches_no_console_page(console):
    for path in ("/api/conversations", "/conversations", "/api/users"):
        with socket.create_connection(("127.0.0.1", console.port), timeout=30) as connection:
            connection.sendall(f"NONE {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status_line = connection.recv(65536).partition(b"\r\n")[0]
        assert b" 405 " in status_line or b" 404 " in status_line, (path, status_line)


def test_a_header_too_large_gets_a_json_error_from_the_console(console):
    path = "/api/jobs/" + "%F0%9F%92%A5" * 1000 + "/cancel"
    with socket.create_connection(("127.0.0.1", console.port), timeout=30) as connection:
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        head, _, body = connection.recv(65536).partition(b"\r\n\r\n")
    assert b" 413 " in head.partition(b"\r\n")[0], head
    assert json.loads(body)["error"]
