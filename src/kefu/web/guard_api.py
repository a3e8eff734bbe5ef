"""Lets a form warn a customer before a secret is sent. Nothing is stored or logged."""

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, StringConstraints

from kefu.security.guard import mask_secrets, warning_for
from kefu.security.ratelimit import enforce
from kefu.web.deps import Lang, Limiter, client_ip

router = APIRouter(prefix="/api/v1/guard", tags=["guard"])


class GuardCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, StringConstraints(max_length=20_000)]


class GuardVerdict(BaseModel):
    kinds: list[str]
    warning: str


@router.post("/check", response_model=GuardVerdict)
async def check(body: GuardCheck, request: Request, lang: Lang,
                limiter: Limiter) -> GuardVerdict:
    await enforce(limiter, f"guard:{client_ip(request)}", limit=120, window_seconds=60)
    result = mask_secrets(body.text)
    kinds = sorted(result.kinds)
    return GuardVerdict(kinds=kinds, warning=warning_for(kinds, lang))
