"""Raw messages on disk, under the data folder, named by their SHA-256.

Files, not database columns: a message is kept byte for byte whatever it holds (NUL
included, which PostgreSQL text refuses), and a second copy of the same bytes (an MTA's
retry) costs nothing.
"""

import hashlib
import os
from pathlib import Path

from kefu.core.errors import InvalidInput

MAX_RAW_BYTES = 64 * 1024 * 1024  # refused at the door (SMTP 552): never stored


class RawStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "mail" / "raw"

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise InvalidInput("Bad message key.")
        return self.root / sha256[:2] / sha256

    def save(self, data: bytes) -> str:
        """Store the bytes (durably: fsync before the row that names them commits)."""
        if len(data) > MAX_RAW_BYTES:
            raise InvalidInput(f"The message is larger than {MAX_RAW_BYTES // 2**20} MB.")
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_for(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{digest}.{os.getpid()}.part")
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
        return digest

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()
