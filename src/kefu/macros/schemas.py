"""Inputs for macros; unknown fields are refused."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator, model_validator

from kefu.tickets.models import Priority, Status

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]


class MacroFields(BaseModel):
    """`scope`: "personal" (the author's own) or "team" (`team` names which)."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    body_en: Body = ""
    body_zh: Body = ""
    scope: Literal["personal", "team"] = "personal"
    team: Slug | None = None
    set_status: Status | None = None
    set_priority: Priority | None = None
    set_team: Slug | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL text cannot hold NUL: refuse it here, as input, not as a server error.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("Text cannot contain NUL characters.")
        return value

    @model_validator(mode="after")
    def _has_text_and_team(self) -> "MacroFields":
        if not self.body_en and not self.body_zh:
            raise ValueError("Write the text in at least one language.")
        if self.scope == "team" and not self.team:
            raise ValueError("Choose the team the macro is for.")
        return self
