"""Validated inputs for authoring. Limits keep one article small enough to render fast."""

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kefu.kb.models import KB_LANGUAGES

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CONTEXT_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_QUESTIONS = 50

Slug = Annotated[str, Field(min_length=1, max_length=100, pattern=SLUG.pattern)]


def _clean_lines(values: list[str], limit: int) -> list[str]:
    # De-duplicate case-insensitively but keep the author's order and spelling.
    seen: set[str] = set()
    cleaned = []
    for value in values:
        line = " ".join(value.split())[:limit]
        if line and line.casefold() not in seen:
            seen.add(line.casefold())
            cleaned.append(line)
    return cleaned


class VersionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=100_000)
    questions: list[str] = Field(default_factory=list)

    @field_validator("title")
    @classmethod
    def _one_line_title(cls, value: str) -> str:
        # Titles are written into front matter as one line, so no line breaks.
        title = " ".join(value.split())
        if not title:
            raise ValueError("title is empty")
        return title

    @field_validator("questions")
    @classmethod
    def _questions(cls, value: list[str]) -> list[str]:
        return _clean_lines(value, 300)[:MAX_QUESTIONS]


class ArticleInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Slug
    category: Slug
    position: int = Field(default=0, ge=0, le=100_000)
    context_keys: list[str] = Field(default_factory=list)
    versions: dict[str, VersionInput]

    @field_validator("context_keys")
    @classmethod
    def _keys(cls, value: list[str]) -> list[str]:
        keys = _clean_lines([v.lower() for v in value], 40)
        bad = [k for k in keys if not CONTEXT_KEY.match(k)]
        if bad:
            raise ValueError(f"invalid context key: {bad[0]}")
        return keys

    @model_validator(mode="after")
    def _languages(self) -> "ArticleInput":
        unknown = set(self.versions) - set(KB_LANGUAGES)
        if unknown:
            raise ValueError(f"unknown language: {sorted(unknown)[0]}")
        if not self.versions:
            raise ValueError("write the article in at least one language")
        return self


class CategoryInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Slug
    position: int = Field(default=0, ge=0, le=100_000)
    title_en: str = Field(min_length=1, max_length=200)
    title_zh: str = Field(min_length=1, max_length=200)
    description_en: str = Field(default="", max_length=2000)
    description_zh: str = Field(default="", max_length=2000)
