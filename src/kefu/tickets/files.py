"""Upload checks and storage. Content decides the type (magic bytes), never the name.

Files live under generated keys in the data folder, outside anything the web server
serves, and are only ever sent back as downloads.
"""

import hashlib
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from kefu.core.errors import InvalidInput
from kefu.core.ids import storage_key

ALLOWED = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "application/pdf": (".pdf",),
    "video/mp4": (".mp4", ".m4v", ".mov"),
}
MAX_PIXELS = 40_000_000  # a decompression "pixel flood" is refused before anyone decodes it
MAX_NAME_BYTES = 255
# Zero-width, bidi overrides and other format characters hide a name's real extension.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes
    sha256: str


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "video/mp4"
    return None


def clean_filename(raw: str) -> str:
    """A safe display name, or InvalidInput. Never used as a path."""
    if "\x00" in raw:
        raise InvalidInput("File name contains a NUL character.")
    # Keep only the last component of either path style: "../x" and "..\\x" lose their path.
    name = PureWindowsPath(PurePosixPath(raw).name).name.strip()
    name = unicodedata.normalize("NFC", name)
    if any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in name):
        raise InvalidInput("File name contains invisible or control characters.")
    if not name or name in {".", ".."} or name.startswith("."):
        raise InvalidInput("File name is empty or hidden.")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise InvalidInput("File name is longer than 255 bytes.")
    return name


def _png_pixels(data: bytes) -> int:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise InvalidInput("The PNG file is damaged.")
    width, height = struct.unpack(">II", data[16:24])
    return int(width) * int(height)


def _jpeg_pixels(data: bytes) -> int:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            index += 1
            continue
        marker = data[index + 1]
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return int(width) * int(height)
        index += 2 + length
    raise InvalidInput("The JPEG file is damaged.")


def check_upload(upload: Upload, *, max_bytes: int) -> CheckedFile:
    name = clean_filename(upload.filename)
    if not upload.data:
        raise InvalidInput(f"{name}: the file is empty.")
    if len(upload.data) > max_bytes:
        raise InvalidInput(f"{name}: the file is larger than {max_bytes // (1024 * 1024)} MB.")
    content_type = sniff(upload.data)
    if content_type is None:
        raise InvalidInput(f"{name}: only PNG, JPG, PDF and MP4 files are accepted.")
    if not name.lower().endswith(ALLOWED[content_type]):
        raise InvalidInput(f"{name}: the file name does not match its content.")
    if content_type == "image/png" and _png_pixels(upload.data) > MAX_PIXELS:
        raise InvalidInput(f"{name}: the image has too many pixels.")
    if content_type == "image/jpeg" and _jpeg_pixels(upload.data) > MAX_PIXELS:
        raise InvalidInput(f"{name}: the image has too many pixels.")
    digest = hashlib.sha256(upload.data).hexdigest()
    return CheckedFile(name, content_type, upload.data, digest)


def check_uploads(uploads: list[Upload], *, max_bytes: int, max_count: int) -> list[CheckedFile]:
    """All or nothing: one refused file refuses the whole request before anything is stored."""
    uploads = [u for u in uploads if u.filename or u.data]
    if len(uploads) > max_count:
        raise InvalidInput(f"At most {max_count} attachments per message.")
    return [check_upload(upload, max_bytes=max_bytes) for upload in uploads]


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, key: str) -> Path:
        if not key.isalnum():
            raise InvalidInput("Bad storage key.")
        return self.root / key[:2] / key

    def save(self, data: bytes) -> str:
        key = storage_key()
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(data)
        temporary.replace(path)
        return key

    def read(self, key: str) -> bytes:
        return self.path_for(key).read_bytes()

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)
