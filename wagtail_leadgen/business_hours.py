"""When sales answers the phone: the ``CALLBACK`` section's business hours.

A leaf module (standard library and Django's settings errors only): ``conf``
validates the section with ``merge_callback`` and the call-back services,
forms and hints read the ``BusinessHours`` it builds. Days are Monday = 0 ...
Sunday = 6, hours are local to ``TIME_ZONE``, holidays are local dates.

``sla_start`` is when the five-minute clock starts for a request made at a
given moment: at once during business hours, at the next opening otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

from .conf_defaults import CALLBACK_DEFAULTS

_NAME = "WAGTAIL_LEADGEN['CALLBACK']"


def _time(value: Any, key: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        raise ImproperlyConfigured(
            f"{_NAME}[{key!r}] must be two times such as ('09:00', '18:00')."
        ) from None


def _positive(merged: dict[str, Any], key: str) -> None:
    value = merged[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ImproperlyConfigured(f"{_NAME}[{key!r}] must be a positive whole number.")


def _strings(merged: dict[str, Any], key: str) -> tuple[str, ...]:
    value = merged[key]
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ImproperlyConfigured(f"{_NAME}[{key!r}] must be a list of strings.")
    values = tuple(value)
    if not all(isinstance(item, str) for item in values):
        raise ImproperlyConfigured(f"{_NAME}[{key!r}] must be a list of strings.")
    return values


def merge_callback(user: Any) -> dict[str, Any]:
    """``CALLBACK`` merged over its defaults and checked; ``zone`` is its
    time zone and ``hours`` the ``BusinessHours`` it describes (None when
    HOURS is not configured)."""
    if not isinstance(user, dict):
        raise ImproperlyConfigured(f"{_NAME} must be a dict.")
    unknown = sorted(str(key) for key in set(user) - set(CALLBACK_DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown key(s) in {_NAME}: {', '.join(unknown)}. "
            f"Valid keys: {', '.join(sorted(CALLBACK_DEFAULTS))}"
        )
    merged = {**CALLBACK_DEFAULTS, **user}
    for key in ("SLA_MINUTES", "SLOT_MINUTES", "MAX_DAYS_AHEAD"):
        _positive(merged, key)
    sales = merged["SALES_EMAIL"]
    if sales is not None and (not isinstance(sales, str) or "@" not in sales):
        raise ImproperlyConfigured(
            f"{_NAME}['SALES_EMAIL'] must be None or an address."
        )
    merged["ALERT_DESTINATIONS"] = _strings(merged, "ALERT_DESTINATIONS")
    merged["COUNTRY_CODES"] = tuple(
        c.upper() for c in _strings(merged, "COUNTRY_CODES")
    )
    if not merged["COUNTRY_CODES"]:
        raise ImproperlyConfigured(f"{_NAME}['COUNTRY_CODES'] must name a country.")
    merged["REFUSED_NUMBER_TYPES"] = _strings(merged, "REFUSED_NUMBER_TYPES")
    try:
        merged["zone"] = ZoneInfo(str(merged["TIME_ZONE"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{_NAME}['TIME_ZONE'] must be a time zone such as 'Europe/Paris'."
        ) from None
    merged["hours"] = _business_hours(merged, merged["zone"])
    return merged


def _business_hours(merged: dict[str, Any], zone: ZoneInfo) -> BusinessHours | None:
    hours = merged["HOURS"]
    if hours is None:
        return None
    if isinstance(hours, str) or not isinstance(hours, list | tuple) or len(hours) != 2:
        raise ImproperlyConfigured(
            f"{_NAME}['HOURS'] must be None or two times such as ('09:00', '18:00')."
        )
    opens, closes = _time(hours[0], "HOURS"), _time(hours[1], "HOURS")
    if opens >= closes:
        raise ImproperlyConfigured(f"{_NAME}['HOURS'] must open before it closes.")
    days = merged["DAYS"]
    if (
        not isinstance(days, list | tuple | set | frozenset)
        or not days
        or not all(isinstance(d, int) and 0 <= d <= 6 for d in days)
    ):
        raise ImproperlyConfigured(
            f"{_NAME}['DAYS'] must list week days, Monday = 0 ... Sunday = 6."
        )
    holidays = set()
    for value in _strings(merged, "HOLIDAYS"):
        try:
            holidays.add(dt.date.fromisoformat(value))
        except ValueError:
            raise ImproperlyConfigured(
                f"{_NAME}['HOLIDAYS'] must list dates such as '2026-12-25'."
            ) from None
    return BusinessHours(
        opens=opens,
        closes=closes,
        days=frozenset(days),
        zone=zone,
        holidays=frozenset(holidays),
    )


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours on some week days in one time zone, holidays closed."""

    opens: dt.time
    closes: dt.time
    days: frozenset[int]
    zone: ZoneInfo
    holidays: frozenset[dt.date]

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.zone)
        return (
            self.is_working_day(local.date())
            and self.opens <= local.time().replace(tzinfo=None) < self.closes
        )

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """The first opening time strictly after ``moment`` (in UTC)."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(400):  # a year of holidays at most
            if self.is_working_day(day):
                opening = dt.datetime.combine(day, self.opens, tzinfo=self.zone)
                if opening > local:
                    return opening.astimezone(dt.UTC)
            day += dt.timedelta(days=1)
        raise ImproperlyConfigured(f"{_NAME} never opens: check DAYS and HOLIDAYS.")

    def sla_start(self, moment: dt.datetime) -> dt.datetime:
        """When the clock starts for a request made at ``moment``."""
        return moment if self.is_open(moment) else self.next_opening(moment)


def sla_start(hours: BusinessHours | None, moment: dt.datetime) -> dt.datetime:
    """``BusinessHours.sla_start``, or ``moment`` itself when no hours are set."""
    return moment if hours is None else hours.sla_start(moment)
