"""Uploads: content decides, bad names and types are refused, and a refusal stores nothing."""

import struct
import zlib
from pathlib import Path

import pytest

from conftest import Desk, customer_client, submit_ticket


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(min(height, 4)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 32


def stored_files(desk: Desk) -> list[Path]:
    root = desk.settings.attachments_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def test_png_pdf_and_mp4_are_accepted(desk: Desk) -> None:
    client = await customer_client(desk)
    files = [("attachments", ("screen.png", png_bytes(), "image/png")),
             ("attachments", ("statement.pdf", PDF, "application/pdf")),
             ("attachments", ("recording.mp4", MP4, "video/mp4"))]
    response = await submit_ticket(client, files=files)
    assert response.status_code == 303
    page = (await client.get(response.headers["location"])).text
    for name in ("screen.png", "statement.pdf", "recording.mp4"):
        assert name in page


BAD_UPLOADS = [
    ("../../etc/passwd.png", b"root:x:0:0", "content"),
    ("invoice.pdf.exe", PDF, "does not match"),
    ("page.html", b"<html><script>alert(1)</script></html>", "only PNG"),
    ("image.svg", b"<svg onload=alert(1)>", "only PNG"),
    ("fake.png", b"GIF89a....", "only PNG"),
    ("pdf-as-png.png", PDF, "does not match"),
    ("evil\u202egnp.exe", png_bytes(), "invisible"),
    ("zero\u200bwidth.png", png_bytes(), "invisible"),
    ("a" * 300 + ".png", png_bytes(), "255 bytes"),
    ("bomb.png", png_bytes(50_000, 50_000), "too many pixels"),
    ("empty.png", b"", "empty"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_UPLOADS)
async def test_refused_upload_stores_nothing(desk: Desk, name: str, data: bytes,
                                             message: str) -> None:
    client = await customer_client(desk)
    before = stored_files(desk)
    files = [("attachments", ("good.png", png_bytes(), "image/png")),
             ("attachments", (name, data, "application/octet-stream"))]
    response = await submit_ticket(client, files=files)
    assert response.status_code == 422
    assert message in response.text
    assert stored_files(desk) == before
    assert "KF-" not in (await client.get("/portal/tickets")).text


async def test_nul_in_file_name_is_refused(desk: Desk) -> None:
    from kefu.core.errors import InvalidInput
    from kefu.tickets.files import clean_filename

    with pytest.raises(InvalidInput):
        clean_filename("photo\x00.png")
    assert clean_filename("..\\..\\windows\\x.png") == "x.png"


async def test_size_and_count_limits(desk: Desk) -> None:
    client = await customer_client(desk)
    big = png_bytes() + b"\x00" * (desk.settings.max_upload_bytes + 1)
    response = await submit_ticket(client, files=[("attachments", ("big.png", big, "image/png"))])
    assert response.status_code == 422 and "larger than" in response.text
    many = [("attachments", (f"p{i}.png", png_bytes(), "image/png")) for i in range(6)]
    response = await submit_ticket(client, files=many)
    assert response.status_code == 422 and "At most 5" in response.text
