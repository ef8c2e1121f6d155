"""Moments and spans as people read them: a time in their zone, "in 3 days", a signing deadline."""

import math
from datetime import datetime, timedelta

from markupsafe import Markup

from foundation.i18n import Texts
from foundation.settings import zone


def shown(moment: datetime, zone_name: str) -> str:
    """`2026-12-01 16:00 Europe/Kyiv`: the zone is always named, members live in several."""
    return f"{moment.astimezone(zone(zone_name)):%Y-%m-%d %H:%M} {zone_name}"


def countdown(texts: Texts, moment: datetime, now: datetime) -> Markup:
    """`in 3 days` or `2 hours ago`, rounded as people say it."""
    delta = moment - now
    span = _span(texts, abs(delta))
    return (
        texts.t("in {span}", span=span)
        if delta >= timedelta()
        else texts.t("{span} ago", span=span)
    )


def _span(texts: Texts, delta: timedelta) -> Markup:
    """The nearest whole days from 23 hours on, whole hours from 55 minutes on, else minutes:
    a reminder sent a minute after "3 days before" says "3 days", not "2 d 23 h"."""
    if delta >= timedelta(hours=23):
        days = _nearest(delta / timedelta(days=1))
        return texts.tn("{n} day", "{n} days", days)
    if delta >= timedelta(minutes=55):
        hours = _nearest(delta / timedelta(hours=1))
        return texts.tn("{n} hour", "{n} hours", hours)
    if delta < timedelta(minutes=1):
        return texts.t("less than a minute")
    minutes = _nearest(delta / timedelta(minutes=1))
    return texts.tn("{n} minute", "{n} minutes", minutes)


def _nearest(amount: float) -> int:
    """Rounded half up (Python's round() would say 2 for 2.5)."""
    return max(1, math.floor(amount + 0.5))


def closes(texts: Texts, deadline_at: datetime, zone_name: str, now: datetime) -> Markup:
    """An appeal's signing deadline, as /appeal, /status and /phases show it."""
    return texts.t(
        "Signatures close {when} ({countdown}).",
        when=shown(deadline_at, zone_name),
        countdown=countdown(texts, deadline_at, now),
    )
