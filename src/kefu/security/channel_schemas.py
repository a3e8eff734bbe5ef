"""JSON shapes of the public verification API (/api/v1/verify)."""

from pydantic import BaseModel, ConfigDict


class OfficialChannelRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    value: str
    note: str


class LookalikeRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str  # homoglyph | punycode | typosquat | other_tld | brand_in_name | ...
    similar_to: str
    message: str  # in the caller's language


class VerifyRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: str  # official | lookalike | not_official | invalid
    official: bool
    input_kind: str  # domain | email | handle | phone | invalid
    normalised: str
    channel: OfficialChannelRead | None = None
    warnings: list[LookalikeRead] = []
    advice: str
