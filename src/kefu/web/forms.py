"""Reading HTML forms: only known fields are read, so extra fields are never stored."""

from fastapi import Request
from starlette.datastructures import UploadFile

from kefu.tickets.files import Upload

MAX_FIELD = 20_000


async def read_form(request: Request, *names: str) -> dict[str, str]:
    form = await request.form()
    values: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        values[name] = value[:MAX_FIELD] if isinstance(value, str) else ""
    return values


async def read_uploads(request: Request, name: str = "attachments") -> list[Upload]:
    form = await request.form()
    uploads = []
    for item in form.getlist(name):
        if isinstance(item, UploadFile) and item.filename:
            uploads.append(Upload(filename=item.filename, data=await item.read()))
    return uploads


def safe_next(value: str | None, default: str) -> str:
    """Only same-site paths: '//evil.example' and 'https://…' would be an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default
