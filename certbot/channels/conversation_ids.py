"""Conversation ids issued by the bot: unguessable and signed, so they cannot be forged.

A socket.io client names the conversation it continues (`session_id`); with ids the
client chose, anyone could write into anyone's conversation by naming its id. The bot
issues each id as 128 random bits and an HMAC of them, and continues a conversation only
for an id whose signature is right. The key is `CONVERSATION_ID_SECRET`, or one kept in
`var/conversation-id-secret` (created on first use); bot instances behind one balancer
must share it (docs/deploy.md).

The REST channel, whose clients are backends naming their own visitors, refuses ids in
this signed form: a REST client cannot write into a socket.io conversation either.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from certbot.secret_files import persistent_secret

SECRET_VARIABLE = "CONVERSATION_ID_SECRET"
SECRET_FILE = Path("var/conversation-id-secret")
PREFIX = "c1"
_SIGNATURE_CHARS = 32


def secret_from_environment() -> str:
    """The signing key: `CONVERSATION_ID_SECRET`, else the one kept in var/."""
    return os.environ.get(SECRET_VARIABLE) or persistent_secret(SECRET_FILE)


def _signature(secret: str, nonce: str) -> str:
    digest = hmac.new(secret.encode(), f"{PREFIX}.{nonce}".encode(), hashlib.sha256)
    return digest.hexdigest()[:_SIGNATURE_CHARS]


def issue(secret: str) -> str:
    """A new conversation id: `c1.<random>.<signature>`."""
    nonce = secrets.token_hex(16)
    return f"{PREFIX}.{nonce}.{_signature(secret, nonce)}"


def looks_issued(conversation_id: str) -> bool:
    """True for an id in the issued form (signed right or not)."""
    return conversation_id.startswith(f"{PREFIX}.") and conversation_id.count(".") == 2


def is_issued(secret: str, conversation_id: object) -> bool:
    """True when `conversation_id` is an id this key issued."""
    if not isinstance(conversation_id, str) or not looks_issued(conversation_id):
        return False
    _, nonce, signature = conversation_id.split(".")
    return hmac.compare_digest(signature, _signature(secret, nonce))
