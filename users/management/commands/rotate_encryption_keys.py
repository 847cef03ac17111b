"""Re-encrypt every encrypted field under the newest FIELD_ENCRYPTION_KEYS key."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from users import crypto
from users.services import encryption


class Command(BaseCommand):
    help = (
        "Re-encrypt encrypted fields (user email, TOTP secrets) under the newest key of "
        "FIELD_ENCRYPTION_KEYS, in batches. Safe to interrupt and re-run: rows already on the "
        "newest key are skipped. Also refreshes stale email blind-index values."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        newest = crypto.keyring().newest_kid
        total = encryption.encrypted_row_count()
        with tqdm(total=total, unit="row", desc=f"re-encrypting under {newest}") as bar:
            result = encryption.encryption_keys_rotate(batch_size=batch_size, progress=bar.update)
        self.stdout.write(
            f"rotated={result.rotated} skipped={result.skipped} reindexed={result.reindexed} "
            f"failed={len(result.failed)}"
        )
        for row in result.failed:
            self.stderr.write(f"could not decrypt: {row}")
        self.stdout.write(f"{result.remaining_old} rows left on old keys")
        if result.failed:
            raise CommandError(f"{len(result.failed)} rows could not be decrypted")
