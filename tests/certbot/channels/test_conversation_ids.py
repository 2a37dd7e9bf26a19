import pytest

from certbot.channels.conversation_ids import PREFIX, is_issued, issue, looks_issued
from certbot.secret_files import persistent_secret


def test_an_issued_id_is_recognised_by_its_key_only():
    conversation_id = issue("key-a")
    assert is_issued("key-a", conversation_id)
    assert not is_issued("key-b", conversation_id)
    assert looks_issued(conversation_id)


def test_ids_are_unpredictable():
    assert len({issue("key") for _ in range(1000)}) == 1000


@pytest.mark.parametrize(
    "forged",
    [None, 5, {"a": 1}, "", "visitor-42", f"{PREFIX}.abc.def", f"{PREFIX}.{'0' * 32}.{'0' * 32}"],
)
def test_anything_else_is_not_issued(forged):
    assert not is_issued("key", forged)


def test_a_changed_nonce_breaks_the_signature():
    _, nonce, signature = issue("key").split(".")
    tampered = f"{PREFIX}.{nonce[:-1]}{'1' if nonce[-1] == '0' else '0'}.{signature}"
    assert not is_issued("key", tampered)


def test_the_kept_secret_is_created_once(tmp_path):
    path = tmp_path / "var" / "secret"
    first = persistent_secret(path)
    assert persistent_secret(path) == first
    assert path.stat().st_mode & 0o777 == 0o600
