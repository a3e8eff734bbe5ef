"""When a team answers chats: "mon-fri 09:00-18:00 +08:00" (days, hours, UTC offset).

None or an empty string means around the clock. A value that does not parse is refused
when it is set (`parse_hours`), so reading it never fails.
"""

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PATTERN = re.compile(
    r"^\s*(?P<first>mon|tue|wed|thu|fri|sat|sun)(?:-(?P<last>mon|tue|wed|thu|fri|sat|sun))?"
    r"\s+(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})"
    r"\s+(?P<sign>[+-])(?P<hh>\d{2}):(?P<mm>\d{2})\s*$")


@dataclass(frozen=True)
class Hours:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    offset: timedelta

    def open_at(self, moment: datetime) -> bool:
        local = moment.astimezone(timezone(self.offset))
        return local.weekday() in self.days and self.start <= local.time() < self.end


def parse_hours(text: str | None) -> Hours | None:
    """The hours, or None for around the clock; ValueError for text that is neither."""
    if not text or not text.strip():
        return None
    found = _PATTERN.match(text.lower())
    if found is None:
        raise ValueError('Hours look like "mon-fri 09:00-18:00 +08:00".')
    first = DAYS.index(found["first"])
    last = DAYS.index(found["last"] or found["first"])
    days = frozenset(range(first, last + 1)) if first <= last else frozenset(
        [*range(first, 7), *range(0, last + 1)])
    start, end = time.fromisoformat(found["start"]), time.fromisoformat(found["end"])
    if start >= end:
        raise ValueError("The hours must end after they start.")
    offset = timedelta(hours=int(found["hh"]), minutes=int(found["mm"]))
    return Hours(days, start, end, offset if found["sign"] == "+" else -offset)


def is_open(text: str | None, moment: datetime) -> bool:
    try:
        hours = parse_hours(text)
    except ValueError:
        return True  # never set that way (refused on input); do not shut the chat
    return hours is None or hours.open_at(moment)
