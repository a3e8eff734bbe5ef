"""Official-channel verification for anyone: the /verify page and GET /api/v1/verify."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from kefu.core.i18n import translate
from kefu.security.channel_schemas import LookalikeRead, OfficialChannelRead, VerifyRead
from kefu.security.channels import load_registry
from kefu.security.ratelimit import enforce
from kefu.security.verify import (
    KIND_LABELS,
    WARNING_TEXT,
    ChannelKind,
    Registry,
    VerifyResult,
    verify_claim,
)
from kefu.web.deps import DbSession, Lang, Limiter, MaybeCustomer, client_ip
from kefu.web.templating import render

router = APIRouter()
PER_MINUTE = 120
# Far above any real value; longer input is not even looked at (verify_claim answers
# "invalid" past lookalike.MAX_INPUT anyway), so a megabyte query costs nothing.
MAX_QUERY = 4096
ADVICE = "Support never messages you first and never asks for your password, 2FA codes, " \
         "seed phrase, private keys or API secret."
Value = Annotated[str, Query(description="A URL, email address, @handle or phone number")]


async def _check(request: Request, limiter: Limiter, value: str, registry: Registry
                 ) -> VerifyResult:
    await enforce(limiter, f"verify:{client_ip(request)}", limit=PER_MINUTE, window_seconds=60)
    return verify_claim(value[:MAX_QUERY], registry)


@router.get("/verify", include_in_schema=False)
async def verify_page(request: Request, db: DbSession, lang: Lang, limiter: Limiter,
                      customer: MaybeCustomer, value: str = "") -> Response:
    registry = await load_registry(db=db)
    result = await _check(request, limiter, value, registry) if value.strip() else None
    public = [e for e in registry.entries if e.kind is not ChannelKind.AGENT_ID]
    return render(request, "verify/verify.html", lang, {
        "customer": customer, "value": value[:512], "result": result, "channels": public,
        "kind_label": lambda kind: KIND_LABELS[ChannelKind(kind)],
        "warning_text": WARNING_TEXT})


@router.get("/api/v1/verify", response_model=VerifyRead, tags=["verify"])
async def verify_api(request: Request, db: DbSession, lang: Lang, limiter: Limiter,
                     value: Value = "") -> VerifyRead:
    """Is `value` one of our official channels? Public; rate-limited per client."""
    return to_read(await _check(request, limiter, value, await load_registry(db=db)), lang)


def to_read(result: VerifyResult, lang: str) -> VerifyRead:
    match = result.match
    return VerifyRead(
        verdict=result.verdict, official=result.official, input_kind=result.input_kind.value,
        normalised=result.normalised,
        channel=OfficialChannelRead(kind=match.kind.value, value=match.display or match.value,
                                    note=match.note) if match else None,
        warnings=[LookalikeRead(code=w.code, similar_to=w.similar_to,
                                message=translate(lang, WARNING_TEXT[w.code])
                                % {"official": w.similar_to})
                  for w in result.warnings],
        advice=translate(lang, ADVICE))
