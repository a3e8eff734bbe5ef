"""Helpers shared by the e2e conftest and tests."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Server:
    base_url: str
    data_dir: Path
    log: Path

    def demo_password(self, email: str) -> str:
        for line in (self.data_dir / "demo-logins.txt").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == email:
                return parts[1]
        raise LookupError(f"{email} is not in demo-logins.txt")
