"""An activity as an iCalendar file, so people can add it to their phone's calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event, vRecur

from bot.domain.recurrence import zone
from storage.models import Activity, Group


def activity_ics(activity: Activity, group: Group, now: datetime) -> bytes:
    """A VCALENDAR with one VEVENT (a series keeps its RRULE and skipped dates)."""
    tz = zone(group.timezone)
    cal = Calendar()
    cal.add("prodid", "-//City of Sanctuary//sanctuary-bot//EN")
    cal.add("version", "2.0")
    event = Event()
    event.add("uid", f"activity-{activity.id}@sanctuary-bot")
    event.add("dtstamp", now)
    start = activity.starts_at.astimezone(tz)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=activity.duration_min))
    event.add("summary", activity.title)
    place = ", ".join(p for p in (activity.venue, activity.address, activity.postcode) if p)
    if place:
        event.add("location", place)
    event.add("geo", (round(activity.lat, 5), round(activity.lon, 5)))
    description = [activity.description, group.name]
    contact = activity.contact or group.email or group.website
    if contact:
        description.append(contact)
    event.add("description", "\n".join(d for d in description if d))
    if activity.rrule:
        rule = vRecur.from_ical(activity.rrule)
        if activity.until:
            rule["UNTIL"] = datetime.combine(activity.until, datetime.max.time(), tzinfo=tz)
        event.add("rrule", rule)
        for skipped in sorted(activity.skips):
            event.add("exdate", datetime.combine(skipped, start.timetz()))
    cal.add_component(event)
    return bytes(cal.to_ical())
