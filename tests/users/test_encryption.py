import base64
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from users import crypto
from users.fields import Ciphertext
from users.models import TOTPDevice, User
from users.services import encryption_keys_rotate
from users.services.encryption import rows_on_old_keys

pytestmark = pytest.mark.django_db


def _key(kid):
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


def _raw(table, column, pk):
    with connection.cursor() as cursor:
        pk_value = pk.hex if connection.vendor == "sqlite" else pk
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk_value])
        return cursor.fetchone()[0]


def test_roundtrip_and_fresh_nonce():
    aad = crypto.associated_data("t", "c", 1)
    a, b = crypto.encrypt("hello", aad=aad), crypto.encrypt("hello", aad=aad)
    assert a != b
    assert crypto.decrypt(a, aad=aad) == crypto.decrypt(b, aad=aad) == "hello"
    blob = base64.b64decode(a)
    kid = crypto.keyring().newest_kid
    assert blob[0] == 1 and blob[1] == len(kid) and blob[2 : 2 + len(kid)] == kid.encode()
    assert len(blob) == 2 + len(kid) + 12 + len("hello") + 16


def test_wrong_associated_data_or_tampering_fails():
    token = crypto.encrypt("secret", aad=b"users_user.email.1")
    with pytest.raises(crypto.DecryptionError, match="another row"):
        crypto.decrypt(token, aad=b"users_user.email.2")
    blob = bytearray(base64.b64decode(token))
    blob[-1] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(base64.b64encode(bytes(blob)).decode(), aad=b"users_user.email.1")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("!!!", aad=b"x")


@pytest.mark.parametrize(
    "spec", ["", "nokey", "k1:not-base64!", "k1:" + base64.b64encode(b"short").decode()]
)
def test_bad_key_specs_raise_with_hint(spec):
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        crypto.parse_keys(spec)


def test_database_holds_no_plaintext_email_or_totp_secret(make_user):
    user = make_user(username="sam", email="sam.secret@example.com")
    device = TOTPDevice.objects.create(user=user, name="a", key="ab" * 20, confirmed=True)
    raw_email = _raw("users_user", "email", user.pk)
    raw_key = _raw("users_totpdevice", "key", device.pk)
    assert "sam.secret" not in raw_email and "example.com" not in raw_email
    assert "ab" * 20 not in raw_key
    assert crypto.key_id(raw_email) == crypto.keyring().newest_kid
    with connection.cursor() as cursor:
        cursor.execute("SELECT email_hash FROM users_user WHERE username = 'sam'")
        assert "sam" not in cursor.fetchone()[0]
    fresh = User.objects.get(pk=user.pk)
    assert fresh.email == "sam.secret@example.com"
    assert TOTPDevice.objects.get(pk=device.pk).key == "ab" * 20


def test_ciphertext_moved_to_another_row_fails(make_user):
    alice = make_user(username="alice1", email="alice@example.com")
    bob = make_user(username="bob1", email="bob@example.com")
    stolen = _raw("users_user", "email", alice.pk)
    User.objects.filter(pk=bob.pk).update(email=Ciphertext(stolen))
    bob = User.objects.get(pk=bob.pk)
    with pytest.raises(crypto.DecryptionError, match="another row"):
        _ = bob.email


def test_plaintext_lookups_and_updates_are_refused(make_user):
    make_user(username="tom", email="tom@example.com")
    with pytest.raises(ValueError, match="encrypted"):
        list(User.objects.filter(email="tom@example.com"))
    with pytest.raises(ValueError, match="encrypted"):
        User.objects.update(email="leak@example.com")


def test_email_blind_index_is_case_insensitive_and_keyed(make_user, settings):
    user = make_user(username="uma", email="Uma@Example.com")
    assert user.email_hash == crypto.email_index("uma@example.com")
    settings.FIELD_HMAC_KEY = "another-key"
    assert crypto.email_index("uma@example.com") != user.email_hash


def test_rotation_reencrypts_everything_and_keeps_index(make_user, settings):
    old = settings.FIELD_ENCRYPTION_KEYS
    users = [make_user(username=f"rot{i}", email=f"rot{i}@example.com") for i in range(7)]
    for u in users[:3]:
        TOTPDevice.objects.create(
            user=u, name="a", key=f"{u.username:0>40}"[-40:].encode().hex()[:40]
        )
    hashes = dict(User.objects.values_list("pk", "email_hash"))
    settings.FIELD_ENCRYPTION_KEYS = f"{_key('k-new')},{old}"
    assert rows_on_old_keys() == 10
    result = encryption_keys_rotate(batch_size=3)
    assert result.rotated == 10 and result.remaining_old == 0 and not result.failed
    again = encryption_keys_rotate(batch_size=3)
    assert again.rotated == 0 and again.skipped == 10
    # Old key retired: everything still decrypts.
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS.split(",")[0]
    for u in users:
        fresh = User.objects.get(pk=u.pk)
        assert fresh.email == u.email
        assert crypto.key_id(_raw("users_user", "email", u.pk)) == "k-new"
    for device in TOTPDevice.objects.all():
        assert len(device.key) == 40
    assert dict(User.objects.values_list("pk", "email_hash")) == hashes


def test_rotate_command_reports_progress_and_leftovers(make_user, settings, capsys):
    old = settings.FIELD_ENCRYPTION_KEYS
    for i in range(4):
        make_user(username=f"cmd{i}", email=f"cmd{i}@example.com")
    settings.FIELD_ENCRYPTION_KEYS = f"{_key('k9')},{old}"
    call_command("rotate_encryption_keys", "--batch-size", "2")
    out = capsys.readouterr()
    assert "rotated=4" in out.out and "0 rows left on old keys" in out.out
    call_command("rotate_encryption_keys")
    assert "rotated=0 skipped=4" in capsys.readouterr().out


def test_rotation_task_and_beat_schedule(make_user, settings):
    from audotics import settings as project_settings
    from users.tasks import encryption_keys_rotate as task

    entry = project_settings.CELERY_BEAT_SCHEDULE["users-encryption-keys-rotate"]
    assert entry["task"] == "users.encryption_keys_rotate"
    assert entry["schedule"] == 30 * 24 * 3600
    make_user(username="taskuser")
    settings.FIELD_ENCRYPTION_KEYS = f"{_key('kt')},{settings.FIELD_ENCRYPTION_KEYS}"
    assert task.run(batch_size=10)["remaining_old"] == 0
