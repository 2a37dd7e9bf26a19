"""Staff are emailed about each contact request (console/notify.py), through a real local
SMTP server (aiosmtpd): plain, STARTTLS and implicit TLS with a certificate made here, a
server that is down and then comes up, hostile visitor text, and consoles racing to send."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
import ssl
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered

from certbot.launch import free_port
from console.app import create_app
from console.notify import CLAIM, Notifier, claim, deliver, enqueue, finish, key_of
from console.services import Services
from console.settings import Settings, Smtp
from console.tables import Database
from tests.console.conftest import EventStore, Served, make_console
from tests.integration.services import PG_HOST, PG_PORT, PG_USER, postgres_database
from tests.servers import ROOT

HOST = "127.0.0.1"
SENDER = "console@certbot.example"
STAFF = ("staff@certbot.example", "sales@certbot.example")
PUBLIC_URL = "https://staff.certbot.example"
LOGIN, SECRET = "console", "smtp password for the tests"
WAIT_SECONDS = 30


def in_own_loop(coroutine):
    """Run `coroutine` to its end in a thread of its own: Playwright's sync API, once any
    browser test has run, keeps an event loop running in the test's thread."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


class Mailbox:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


class Logins:
    """aiosmtpd authenticator accepting LOGIN / SECRET only; remembers who logged in."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (LOGIN, SECRET)
        if ok:
            self.seen.append(auth_data.login.decode())
        return AuthResult(success=ok)


class MailServer:
    """A real SMTP server on a local port, in a thread of its own."""

    def __init__(self, port: int | None = None, **options) -> None:
        self.port = port or free_port()
        self.mailbox = Mailbox()
        self.controller = Controller(self.mailbox, hostname=HOST, port=self.port, **options)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, count: int) -> list[EmailMessage]:
        """The messages once `count` arrived (fails after WAIT_SECONDS)."""
        wait_until(lambda: len(self.mailbox.envelopes) >= count, f"{count} message(s)")
        return self.mailbox.messages()


def wait_until(check, what: str, seconds: float = WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError(f"waited {seconds} s for {what}")


@pytest.fixture
def server():
    running = MailServer()
    yield running
    running.stop()


@pytest.fixture
def store(tmp_path) -> EventStore:
    """A tracker store of this test's own: no other test's requests get mailed."""
    return EventStore(tmp_path / "conversations.db")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (certificate, key) files."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


def smtp_to(port: int, tls: str = "none", **options) -> Smtp:
    return Smtp(host=HOST, port=port, tls=tls, sender=SENDER, recipients=STAFF, **options)


def request_events(name: str = "Ana Pereira", **fields) -> list:
    """A visitor's completed contact form, as the bot stores it."""
    form = {
        "name": name,
        "email": "ana@example.com",
        "question": "How long would ISO 9001 take for 40 people?",
        "consent": True,
        "submitted_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **fields,
    }
    return [
        ActionExecuted("action_listen"),
        UserUttered("I'd like to talk to a person", {"name": "request_human"}),
        SlotSet("contact_request", form),
    ]


def save_request(store: EventStore, cid: str, name: str = "Ana Pereira", **fields) -> dict:
    """A conversation whose contact form was completed; the form as stored."""
    events = request_events(name, **fields)
    store.save(cid, events)
    return events[-1].value


def contacts(session, console) -> list[dict]:
    response = session.get(f"{console.url}/api/contacts?status=all")
    assert response.status_code == 200, response.text
    return response.json()["contacts"]


def email_of(session, console, cid: str) -> dict:
    [row] = [row for row in contacts(session, console) if row["conversation_id"] == cid]
    return row["notification"]


def email_when(session, console, cid: str, done) -> dict:
    """The request's email as the API shows it, once `done(email)` holds."""

    def check():
        mail = email_of(session, console, cid)
        return mail if done(mail) else None

    return wait_until(check, f"the email of {cid}")


def post(session, url: str, body: dict):
    return session.post(url, json=body, headers={"X-CSRF-Token": session.csrf})


@pytest.fixture
def consoles():
    """Make consoles with make_console(...) through this; all are stopped afterwards."""
    made = []

    def make(*args, **overrides):
        made.append(make_console(*args, **overrides))
        return made[-1]

    yield make
    for console in made:
        console.served.stop()


def test_a_contact_request_reaches_staff(tmp_path, store, server, consoles):
    console = consoles(
        tmp_path,
        store,
        "notify",
        smtp=smtp_to(server.port),
        public_url=PUBLIC_URL,
        contact_poll=0.1,
    )
    cid = f"notify-{uuid.uuid4().hex[:8]}/a b"
    form = save_request(store, cid)
    [message] = server.wait_for(1)
    [envelope] = server.mailbox.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == list(STAFF)
    assert message["From"] == SENDER
    assert message["To"] == ", ".join(STAFF)
    assert message["Subject"] == "Contact request from Ana Pereira"
    assert message["Reply-To"] == "ana@example.com"
    body = message.get_content().replace("\r\n", "\n")
    for text in ("Ana Pereira", "ana@example.com", form["question"], form["submitted_at"], cid):
        assert text in body
    assert f"Transcript: {PUBLIC_URL}/conversations/{quote(cid, safe='')}\n" in body

    viewer = console.session("viewer")
    mail = email_when(viewer, console, cid, lambda mail: mail["sent_at"])
    assert mail["state"] == "sent" and mail["attempts"] == 1 and mail["last_error"] is None
    assert "emailed" in viewer.get(console.url + "/contacts").text
    time.sleep(1)  # ten more rounds: nothing is sent again
    assert len(server.mailbox.envelopes) == 1


def test_a_request_made_through_the_bot(tmp_path, bot, conversations, server, consoles):
    """The contact form completed with the real bot and action server (conftest.py)."""
    consoles(
        tmp_path,
        bot,
        "notify_bot",
        smtp=smtp_to(server.port),
        public_url=PUBLIC_URL,
        contact_poll=0.2,
    )
    cid = conversations["contact"]

    def arrived():
        mine = [m for m in server.mailbox.messages() if f"Conversation: {cid}" in m.get_content()]
        return mine[0] if mine else None

    message = wait_until(arrived, "the email about the bot's contact request")
    assert message["Subject"] == "Contact request from Ana Pereira"
    assert message["Reply-To"] == "ana@example.com"
    body = message.get_content()
    assert '=HYPERLINK("http://x") how long would ISO 9001 take?' in body
    assert f"{PUBLIC_URL}/conversations/{quote(cid, safe='')}" in body


def test_without_smtp_nothing_is_sent_and_the_console_says_so(tmp_path, store, consoles):
    console = consoles(tmp_path, store, "no_smtp", contact_poll=0.1)
    first, second = (f"quiet-{n}-{uuid.uuid4().hex[:6]}" for n in (1, 2))
    save_request(store, first)
    save_request(store, second, name="Bo Chen")
    reviewer = console.session("reviewer")
    assert reviewer.get(console.url + "/api/contacts").json()["email_enabled"] is False
    assert email_of(reviewer, console, first)["state"] is None
    page = reviewer.get(console.url + "/contacts").text
    assert "Email is off" in page and "not sent" in page
    # The navigation counts the open requests, with words for screen readers.
    badge = '<span class="badge">{}<span class="visually-hidden"> open</span></span>'
    assert badge.format(2) in page
    assert post(reviewer, f"{console.url}/api/contacts/{first}/status", {"status": "done"}).ok
    assert badge.format(1) in reviewer.get(console.url + "/contacts").text
    assert badge.format(1) in reviewer.get(console.url + "/").text
    with Database(console.settings.db_url).engine.connect() as connection:
        assert connection.exec_driver_sql("select count(*) from contact_emails").scalar() == 0


@pytest.mark.parametrize("tls", ["starttls", "tls"])
def test_tls_and_login(tmp_path, store, certificate, consoles, monkeypatch, tls):
    """STARTTLS (required by the server) or implicit TLS, the certificate checked against
    the CA file that SSL_CERT_FILE names, then AUTH LOGIN."""
    logins = Logins()
    context = server_tls(certificate)
    if tls == "starttls":
        options = {"tls_context": context, "require_starttls": True}
    else:  # aiosmtpd counts only STARTTLS as TLS for AUTH; this connection is TLS throughout
        options = {"ssl_context": context, "auth_require_tls": False}
    server = MailServer(authenticator=logins, auth_required=True, **options)
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
        smtp = smtp_to(server.port, tls, username=LOGIN, password=SECRET)
        consoles(tmp_path, store, f"notify_{tls}", smtp=smtp, contact_poll=0.1)
        save_request(store, f"tls-{uuid.uuid4().hex[:8]}")
        [message] = server.wait_for(1)
        assert message["Subject"] == "Contact request from Ana Pereira"
        assert logins.seen == [LOGIN]
    finally:
        server.stop()


def test_tls_is_never_skipped(certificate):
    """No STARTTLS offered, or a certificate no trusted CA signed: nothing is sent."""
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = "test", SENDER, STAFF[0]
    message.set_content("test")
    plain = MailServer()
    untrusted = MailServer(tls_context=server_tls(certificate))
    try:
        [error] = deliver(smtp_to(plain.port, "starttls"), [message])
        assert "STARTTLS extension not supported" in error
        [error] = deliver(smtp_to(untrusted.port, "starttls"), [message])
        assert "CERTIFICATE_VERIFY_FAILED" in error
        assert plain.mailbox.envelopes == untrusted.mailbox.envelopes == []
    finally:
        plain.stop()
        untrusted.stop()


def test_server_down_retries_then_sends_once(tmp_path, store, consoles):
    port = free_port()  # nothing listens there yet
    console = consoles(
        tmp_path, store, "notify_down", smtp=smtp_to(port), contact_poll=0.1, contact_retry=0.3
    )
    cid = f"down-{uuid.uuid4().hex[:8]}"
    save_request(store, cid)
    viewer = console.session("viewer")
    mail = email_when(viewer, console, cid, lambda mail: mail["attempts"] >= 2)
    assert mail["state"] == "failed"
    assert "Connection refused" in mail["last_error"]
    assert mail["next_attempt_at"] is not None
    page = viewer.get(console.url + "/contacts").text
    assert "waiting to retry" in page and "Connection refused" in page

    server = MailServer(port)
    try:
        [message] = server.wait_for(1)
        assert message["Subject"] == "Contact request from Ana Pereira"
        mail = email_when(viewer, console, cid, lambda mail: mail["sent_at"])
        assert mail["state"] == "sent" and mail["last_error"] is None
        assert "emailed" in viewer.get(console.url + "/contacts").text
        time.sleep(1)
        assert len(server.mailbox.envelopes) == 1
    finally:
        server.stop()


def test_hostile_visitor_text_adds_no_header(tmp_path, store, server, consoles):
    consoles(tmp_path, store, "notify_hostile", smtp=smtp_to(server.port), contact_poll=0.1)
    save_request(
        store,
        f"hostile-{uuid.uuid4().hex[:8]}",
        name="Eve\r\nBcc: x@evil.example\r\n\r\nfake body",
        email="eve@example.com\r\nBcc: y@evil.example",
        question="Line one\r\n.\r\nMAIL FROM:<x@evil.example>\r\nBcc: z@evil.example",
    )
    [message] = server.wait_for(1)
    [envelope] = server.mailbox.envelopes
    assert envelope.rcpt_tos == list(STAFF)
    headers = envelope.content.split(b"\r\n\r\n", 1)[0].decode()
    assert not re.search(r"^bcc:", headers, re.IGNORECASE | re.MULTILINE), headers
    assert "Bcc" not in message and "Reply-To" not in message  # not an address: no Reply-To
    assert message["Subject"] == "Contact request from Eve Bcc: x@evil.example fake body"
    assert {key.lower() for key in message} == {
        "subject",
        "from",
        "to",
        "date",
        "message-id",
        "content-type",
        "content-transfer-encoding",
        "mime-version",
    }
    body = message.get_content().replace("\r\n", "\n")
    assert "Name: Eve Bcc: x@evil.example fake body\n" in body
    assert "MAIL FROM:<x@evil.example>" in body  # the question, as the visitor wrote it


def settings_for(tmp: Path, store: EventStore, **overrides) -> Settings:
    endpoints = tmp / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {store.db}\n")
    return Settings(
        endpoints=endpoints, domain=ROOT / "domain.yml", secret=uuid.uuid4().hex, **overrides
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_db_url(request, tmp_path):
    """A console database for several consoles: SQLite, and PostgreSQL where it runs."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'console.db'}"
        return
    with postgres_database() as name:  # skips without PostgreSQL
        yield f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def test_two_claims_of_one_row_one_wins(tmp_path, store, shared_db_url):
    """Two consoles (engines of their own) claim the same rows at the same moment."""
    settings = settings_for(tmp_path, store, db_url=shared_db_url)
    services = Services.build(settings)
    for n in range(20):
        save_request(store, f"claim-{n}")
    conversations = in_own_loop(services.source.all())
    now = dt.datetime.now(dt.timezone.utc)
    assert enqueue(services.db, conversations, now) == 20
    databases = [Database(shared_db_url), Database(shared_db_url)]
    for conversation in conversations:
        key = key_of(conversation)
        start, won = threading.Barrier(2), []

        def race(db: Database, token: str, key=key, start=start, won=won) -> None:
            start.wait()
            if claim(db, key, token, now):
                won.append(token)

        threads = [
            threading.Thread(target=race, args=(db, f"console{n}"))
            for n, db in enumerate(databases)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(won) == 1, (key, won)
    # A claim holds until it expires; then another console may take the row, and the
    # first one's late report changes nothing.
    key = key_of(conversations[0])
    assert not claim(services.db, key, "late", now + CLAIM / 2)
    assert claim(services.db, key, "late", now + CLAIM + dt.timedelta(seconds=1))
    for token in ("console0", "console1"):  # the first winner reports, too late
        finish(services.db, key, token, None, now, 60)
    query = sa.text("select state, claimed_by from contact_emails where conversation_id = :c")
    with services.db.session() as session:
        assert session.execute(query, {"c": key[0]}).all() == [("pending", "late")]
    for db in (*databases, services.db):
        db.engine.dispose()


def test_two_consoles_send_each_email_once(tmp_path, store, server, shared_db_url):
    """Two console apps on one database, both looking every 50 ms: each request once."""
    settings = settings_for(
        tmp_path, store, db_url=shared_db_url, smtp=smtp_to(server.port), contact_poll=0.05
    )
    running = [Served(create_app(settings, name=f"race_{uuid.uuid4().hex[:6]}")) for _ in "ab"]
    try:
        ids = [f"race-{n}-{uuid.uuid4().hex[:6]}" for n in range(12)]
        for cid in ids:
            save_request(store, cid, name=cid)
        server.wait_for(len(ids))
        time.sleep(1)  # twenty more rounds each
        subjects = sorted(message["Subject"] for message in server.mailbox.messages())
        assert subjects == sorted(f"Contact request from {cid}" for cid in ids)
    finally:
        for served in running:
            served.stop()
        for served in running:
            served.app.ctx.services.db.engine.dispose()


def test_a_request_deleted_before_its_email(tmp_path, store, server):
    """A request deleted before its email went (privacy): its row goes, nothing is sent."""
    settings = settings_for(
        tmp_path, store, db_url=f"sqlite:///{tmp_path / 'c.db'}", smtp=smtp_to(server.port)
    )
    notifier = Notifier(Services.build(settings))
    save_request(store, "soon-deleted")
    save_request(store, "kept")
    conversations = in_own_loop(notifier.source.all())
    now = dt.datetime.now(dt.timezone.utc)
    assert enqueue(notifier.db, conversations, now) == 2
    assert enqueue(notifier.db, conversations, now) == 0  # once per request
    store.forget("soon-deleted")
    assert in_own_loop(notifier.send_due(now)) == 1
    assert [m["Subject"] for m in server.wait_for(1)] == ["Contact request from Ana Pereira"]
    with notifier.db.engine.connect() as connection:
        rows = connection.exec_driver_sql("select conversation_id, state from contact_emails")
        assert rows.all() == [("kept", "sent")]


def test_a_new_request_in_the_same_conversation_is_mailed_too(tmp_path, store, server):
    settings = settings_for(
        tmp_path, store, db_url=f"sqlite:///{tmp_path / 'c.db'}", smtp=smtp_to(server.port)
    )
    notifier = Notifier(Services.build(settings))
    first = request_events(submitted_at="2026-01-01T10:00:00+00:00")
    store.save("twice", first)
    assert in_own_loop(notifier.tick()) == 1
    assert in_own_loop(notifier.tick()) == 0
    second = request_events("Ana P.", submitted_at="2026-01-02T10:00:00+00:00")
    store.save("twice", first + second)
    assert in_own_loop(notifier.tick()) == 1
    subjects = [m["Subject"] for m in server.wait_for(2)]
    assert subjects == ["Contact request from Ana Pereira", "Contact request from Ana P."]
    assert notifier.open_contacts == 1


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"CONSOLE_SMTP_TLS": "none"}, "only for a server on this machine"),
        ({"CONSOLE_SMTP_TLS": "ssl"}, "CONSOLE_SMTP_TLS must be one of"),
        ({"CONSOLE_SMTP_PORT": "70000"}, "CONSOLE_SMTP_PORT"),
        ({"CONSOLE_SMTP_TO": ""}, "CONSOLE_SMTP_TO"),
        ({"CONSOLE_SMTP_TO": "a@example.com\r\nBcc: b@evil.example"}, "CONSOLE_SMTP_TO"),
        ({"CONSOLE_SMTP_FROM": "Console <c@example.com>"}, "CONSOLE_SMTP_FROM"),
        ({"CONSOLE_SMTP_USERNAME": "console"}, "go together"),
        ({"CONSOLE_PUBLIC_URL": "javascript:alert(1)"}, "CONSOLE_PUBLIC_URL"),
    ],
)
def test_bad_smtp_settings_are_refused(env, problem):
    base = {
        "CONSOLE_SECRET": "s",
        "MODEL_PULL_TOKEN": "t",
        "CONSOLE_SMTP_HOST": "smtp.example.com",
        "CONSOLE_SMTP_FROM": SENDER,
        "CONSOLE_SMTP_TO": STAFF[0],
    }
    with pytest.raises(ValueError, match=re.escape(problem)):
        Settings.from_env({**base, **env})


def test_smtp_settings_from_the_environment():
    env = {"CONSOLE_SECRET": "s", "MODEL_PULL_TOKEN": "t"}
    assert Settings.from_env(env).smtp is None  # email off
    settings = Settings.from_env(
        {
            **env,
            "CONSOLE_SMTP_HOST": "smtp.example.com",
            "CONSOLE_SMTP_FROM": SENDER,
            "CONSOLE_SMTP_TO": " staff@certbot.example, sales@certbot.example ",
            "CONSOLE_SMTP_USERNAME": LOGIN,
            "CONSOLE_SMTP_PASSWORD": SECRET,
            "CONSOLE_PUBLIC_URL": PUBLIC_URL + "/",
        }
    )
    assert settings.smtp == Smtp(
        "smtp.example.com", 587, "starttls", SENDER, STAFF, username=LOGIN, password=SECRET
    )
    assert SECRET not in repr(settings.smtp)
    assert settings.public_url == PUBLIC_URL
    assert Settings.from_env(settings.as_env()) == settings
    implicit = {**env, **settings.smtp.as_env(), "CONSOLE_SMTP_TLS": "tls"}
    del implicit["CONSOLE_SMTP_PORT"]
    assert Settings.from_env(implicit).smtp.port == 465
