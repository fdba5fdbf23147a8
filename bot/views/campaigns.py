"""What supporters and coordinators see of campaign calls: alert settings, the call itself,
composing, preview and figures. Rendered in the current locale; coordinators' text escaped.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from bot import callbacks as cb
from bot.domain.recurrence import zone
from bot.domain.vocabulary import AREA_ORDER, TOPIC_ORDER, AlertArea
from bot.i18n import LANGUAGES, gettext, ngettext
from bot.views import formatting as fmt
from bot.views.common import View, button, fit_blocks, row
from bot.views.keyboard import Key, Keyboard
from bot.views.labels import nation_label, topic_label
from storage.campaigns import Campaign, Figures

_ = gettext
TZ = "Europe/London"
TITLE_LIMIT = 120
BODY_LIMIT = 2500  # leaves room for the title, the English note and the footer in 4096


# --- supporters: alert settings ----------------------------------------------------------


def alerts_explained() -> View:
    """For someone not subscribed: what campaign calls are, before they choose."""
    text = "\n\n".join(
        [
            _("📣 <b>Campaign alerts</b>"),
            _(
                "City of Sanctuary coordinators sometimes ask supporters to act for a fairer asylum system: for example, to write to their MP or sign a letter."
            ),
            _(
                "These messages are only for people who ask for them. You never need them to find welcome or support, and nothing else changes if you say no."
            ),
            _("Would you like to receive campaign calls?"),
        ]
    )
    markup = Keyboard(
        [
            [button(_("✅ Yes, send me campaign calls"), cb.AlertsOn())],
            [button(_("No, thank you"), cb.AlertsDeclined())],
        ]
    )
    return View(text, markup)


def alerts_settings(
    topics: int, areas: int, nation: str | None, place: str | None, has_area: bool
) -> View:
    """The topics and areas a subscriber gets calls for, each a toggle; stop all.

    Without a saved area, calls for a part of the UK or near a place cannot reach the person:
    those two are never shown ticked, and tapping one asks for the area."""
    paragraphs = [
        _("📣 <b>Campaign alerts</b>"),
        _("You get calls on the ticked topics, for the ticked areas. Tap to change."),
        _("To stop them all, tap the last button or send /stop alerts."),
    ]
    if not has_area:
        paragraphs.insert(
            2,
            _(
                "Calls for your part of the UK and calls near you need your area: tap one of them to save it."
            ),
        )
    text = "\n\n".join(paragraphs)
    rows: list[list[Key]] = []
    for i, topic in enumerate(TOPIC_ORDER):
        mark = "✅" if topics & (1 << i) else "▫️"
        rows.append([button(f"{mark} {topic_label(topic)}", cb.AlertsTopic(topic))])
    labels = {
        AlertArea.UK: _("Calls for the whole UK"),
        AlertArea.NATION: (
            _("Calls for {nation}").format(nation=fmt.bidi(nation_label(nation)))
            if nation
            else _(
                "Calls for my part of the UK (England, Scotland, Wales or Northern Ireland): save an area first"
            )
        ),
        AlertArea.NEAR: (
            _("Calls near {place}").format(place=fmt.bidi(place))
            if place
            else _("Calls near me (save an area first)")
        ),
    }
    for i, area in enumerate(AREA_ORDER):
        needs_area = area is not AlertArea.UK and not has_area
        mark = "✅" if areas & (1 << i) and not needs_area else "▫️"
        rows.append([button(f"{mark} {labels[area]}", cb.AlertsArea(area))])
    rows.append([button(_("🔕 Stop all campaign calls"), cb.AlertsOff())])
    return View(text, Keyboard(rows))


def alerts_subscribed_note() -> str:
    """Said once, when someone who came to support campaigns is subscribed."""
    return _("📣 You will get campaign calls on every topic. Change or stop them with /alerts.")


def alerts_stopped() -> View:
    """/stop alerts, or the stop button."""
    return View(_("🔕 You will get no more campaign calls. Send /alerts to start again."))


def alerts_declined() -> View:
    """A person chose not to receive calls."""
    return View(_("OK: no campaign calls. Everything else stays the same."))


def stop_usage() -> View:
    """/stop with nothing or something unknown after it."""
    return View(_("To stop every campaign call, send /stop alerts."))


# --- the call as recipients see it -------------------------------------------------------


def call_message(campaign: Campaign, locale: str, campaign_id: int) -> View:
    """The call in the reader's language when translated (else English, said so)."""
    translated = campaign.translations.get(locale)
    title, body = translated if translated else (campaign.title, campaign.body)
    lines = [f"📣 <b>{fmt.escape(title)}</b>", "", fmt.escape(body)]
    if translated is None and locale != "en":
        lines += ["", _("<i>This call is in English: there is no translation yet.</i>")]
    lines += ["", _("You get this because you asked for campaign calls: /alerts to change.")]
    rows = [
        row(
            button(_("✅ I did it"), cb.CallDid(campaign_id)),
            button(_("Not for me"), cb.CallNotForMe(campaign_id)),
        )
    ]
    if campaign.action_url:  # a draft's preview may not have its link yet
        rows.insert(0, [Key(_("➡️ Take action"), url=campaign.action_url)])
    return View("\n".join(lines), Keyboard(rows))


def thanks_did() -> str:
    """Pop-up after "I did it"."""
    return _("Thank you! Together we are building a culture of welcome. 💚")


def thanks_not() -> str:
    """Pop-up after "Not for me"."""
    return _("Thank you for telling us.")


# --- coordinators: composing ---------------------------------------------------------------


def coordinators_only() -> str:
    """Refusal for anyone else."""
    return _("Only a network coordinator can do this.")


def _area_text(campaign: Campaign) -> str:
    if campaign.area == "uk":
        return _("The whole UK")
    if campaign.area == "near":
        label = fmt.escape(campaign.area_label or "?")
        return _("Within {km} km of {place}").format(
            km=fmt.number(round(campaign.radius_km)), place=fmt.bidi(label)
        )
    return nation_label(campaign.area)


def _topics_text(bits: int) -> str:
    names = [topic_label(t) for i, t in enumerate(TOPIC_ORDER) if bits & (1 << i)]
    return fmt.join(names) if names else "—"


def _when_text(campaign: Campaign) -> str:
    if campaign.send_at is None:
        return _("As soon as you confirm")
    return fmt.when(campaign.send_at, TZ) + " (" + fmt.full_date(campaign.send_at, TZ) + ")"


def missing(campaign: Campaign) -> list[str]:
    """What a draft still needs before it can be sent (as translated field names)."""
    needed = []
    if not campaign.title:
        needed.append(_("title"))
    if not campaign.body:
        needed.append(_("text"))
    if not campaign.action_url:
        needed.append(_("action link"))
    if not campaign.topics:
        needed.append(_("topics"))
    return needed


def compose_summary(campaign: Campaign, note: str | None = None) -> View:
    """A call being composed or edited: each field, and buttons to change or send it."""
    cid = campaign.id
    languages = ", ".join(sorted(campaign.translations)) or "—"
    lines = [
        _("📝 <b>Campaign call #{number}</b> ({state})").format(
            number=cid, state=state_label(campaign.state)
        ),
        "",
        _("<b>Title:</b> {title}").format(title=fmt.escape(campaign.title) or "—"),
        _("<b>Text:</b> {text}").format(text=fmt.escape(fmt.clean(campaign.body, 300)) or "—"),
        _("<b>Action link:</b> {url}").format(url=fmt.escape(campaign.action_url) or "—"),
        _("<b>Topics:</b> {topics}").format(topics=_topics_text(campaign.topics)),
        _("<b>Area:</b> {area}").format(area=_area_text(campaign)),
        _("<b>Send:</b> {when}").format(when=_when_text(campaign)),
        _("<b>Translations:</b> {languages}").format(languages=languages),
    ]
    if note:
        lines = [note, "", *lines]
    launched = campaign.launched
    rows = [
        row(
            button(_("✏️ Title"), cb.CampaignField(cid, "title")),
            button(_("✏️ Text"), cb.CampaignField(cid, "body")),
        ),
        row(
            button(_("🔗 Action link"), cb.CampaignField(cid, "url")),
            button(_("🌐 Add a translation"), cb.CampaignTranslations(cid)),
        ),
    ]
    if not launched:
        rows.append(
            row(
                button(_("🏷 Topics"), cb.CampaignTopics(cid)),
                button(_("🗺 Area"), cb.CampaignAreas(cid)),
            )
        )
        rows.append([button(_("🕒 Send time"), cb.CampaignWhen(cid))])
    rows.append([button(_("👁 Preview"), cb.CampaignPreview(cid))])
    if campaign.state == "draft":
        rows.append(
            row(
                button(_("✅ Confirm"), cb.CampaignConfirmAsk(cid)),
                button(_("🗑 Discard"), cb.CampaignCancelAsk(cid)),
            )
        )
    else:
        rows.append([button(_("⬅️ All calls"), cb.CampaignList())])
    return View("\n".join(lines), Keyboard(rows))


def when_example(now: datetime) -> str:
    """A send time to show as an example: tomorrow at 18:00 London time, as it is typed."""
    tomorrow = now.astimezone(zone(TZ)) + timedelta(days=1)
    return fmt.bidi(tomorrow.strftime("%Y-%m-%d") + " 18:00")


def ask_field(field: str, now: datetime | None = None) -> View:
    """Ask for one typed field (``now`` dates the send time's example)."""
    prompts = {
        "title": _("Send the title of the call (in English, at most {limit} characters).").format(
            limit=TITLE_LIMIT
        ),
        "body": _(
            "Send the text of the call in English: short sentences, what to do and why (at most {limit} characters)."
        ).format(limit=BODY_LIMIT),
        "url": _("Send the action link, starting with https://"),
        "place": _("Send the town or city the call is about."),
    }
    if field == "when":
        assert now is not None
        prompts["when"] = _(
            "Send the date and time (Europe/London), for example {example}, or tap a button."
        ).format(example=when_example(now))
    text = prompts[field] + "\n" + _("Send /cancel to stop.")
    return View(text)


def too_long(limit: int, length: int) -> View:
    """Typed text longer than allowed."""
    return View(
        _("That is {length} characters; the limit is {limit}. Please shorten it.").format(
            length=fmt.number(length), limit=fmt.number(limit)
        )
    )


def bad_url() -> View:
    """Not an https link."""
    return View(_("That is not a link I can use. Send a full link starting with https://"))


def bad_when(now: datetime) -> View:
    """Not a date and time we understand, or in the past."""
    return View(
        _("I could not read that as a date and time in the future. Use the form {example}.").format(
            example=when_example(now)
        )
    )


def place_unknown() -> View:
    """The town was not found."""
    return View(_("I could not find that place. Try the name of a town or city."))


def topics_picker(campaign: Campaign) -> View:
    """Toggle the call's topics."""
    rows = []
    for i, topic in enumerate(TOPIC_ORDER):
        mark = "✅" if campaign.topics & (1 << i) else "▫️"
        rows.append([button(f"{mark} {topic_label(topic)}", cb.CampaignTopic(campaign.id, topic))])
    rows.append([button(_("Done"), cb.CampaignSummary(campaign.id))])
    return View(_("Which topics is this call about?"), Keyboard(rows))


def area_picker(campaign: Campaign) -> View:
    """Whole UK, one nation, or near a place."""
    cid = campaign.id
    rows = [[button(_("The whole UK"), cb.CampaignArea(cid, "uk"))]]
    nations = ("england", "scotland", "wales", "northern-ireland")
    rows += [
        row(*(button(nation_label(n), cb.CampaignArea(cid, n)) for n in nations[:2])),
        row(*(button(nation_label(n), cb.CampaignArea(cid, n)) for n in nations[2:])),
        [button(_("Near a town or city…"), cb.CampaignArea(cid, "near"))],
    ]
    return View(_("Who is this call for?"), Keyboard(rows))


def when_picker(campaign: Campaign, now: datetime) -> View:
    """Now, tomorrow morning or evening, or type a date."""
    cid = campaign.id
    view = ask_field("when", now)
    rows = [
        [button(_("As soon as I confirm"), cb.CampaignSendNow(cid))],
        row(
            button(_("Tomorrow 09:00"), cb.CampaignTomorrow(cid, "9")),
            button(_("Tomorrow 18:00"), cb.CampaignTomorrow(cid, "18")),
        ),
    ]
    return View(view.text, Keyboard(rows))


def translation_languages(campaign: Campaign) -> View:
    """Which language to add (those already there are ticked: tapping replaces them)."""
    buttons = [
        button(
            ("✅ " if lang.code in campaign.translations else "") + lang.native_name,
            cb.CampaignTranslate(campaign.id, lang.code),
        )
        for lang in LANGUAGES
        if lang.code != "en"
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([button(_("⬅️ Back"), cb.CampaignSummary(campaign.id))])
    return View(_("Which language is the translation in?"), Keyboard(rows))


def ask_translation(language: str, part: str) -> View:
    """Ask for the translated title, then the translated text."""
    if part == "title":
        text = _("Send the title in {language}.").format(language=language)
    else:
        text = _("Now send the text in {language}.").format(language=language)
    return View(text + "\n" + _("Send /cancel to stop."))


def preview_intro() -> str:
    """Said before the preview."""
    return _("👁 This is exactly what supporters will see:")


def confirm_question(campaign: Campaign, audience: int) -> View:
    """The last check before sending or scheduling."""
    count = ngettext(
        "It goes to {count} person who asked for these calls.",
        "It goes to {count} people who asked for these calls.",
        audience,
    ).format(count=fmt.number(audience))
    if campaign.send_at is None:
        question = _("Send call #{number} now?").format(number=campaign.id)
    else:
        question = _("Send call #{number} on {when}?").format(
            number=campaign.id, when=_when_text(campaign)
        )
    note = _("The audience is fixed when it is sent: later subscribers will not get it.")
    markup = Keyboard(
        [
            row(
                button(_("✅ Yes, send"), cb.CampaignSend(campaign.id)),
                button(_("⬅️ Back"), cb.CampaignSummary(campaign.id)),
            )
        ]
    )
    return View("\n\n".join([question, count, note]), markup)


def topic_needed() -> str:
    """Unticking a call's last topic: nobody would receive it (a button's short answer)."""
    return _(
        "A call with no topic reaches nobody: it goes only to supporters who chose one of its topics. Keep at least one."
    )


def list_unchanged() -> str:
    """🔄 Refresh when nothing changed (a button's short answer)."""
    return _("Nothing has changed since you last looked.")


def incomplete(fields: list[str]) -> str:
    """Confirm pressed on a draft with missing fields."""
    return _("Still missing: {fields}.").format(fields=fmt.join(fields))


def confirmed(state: str) -> str:
    """After confirming."""
    if state == "scheduled":
        return _("🕒 Scheduled. See it and pause it with /campaigns.")
    return _("📤 Sending now. Follow it with /campaigns.")


def not_editable() -> str:
    """A button on a call that can no longer change that way."""
    return _("This call can no longer be changed that way.")


def compose_cancelled() -> View:
    """/cancel while composing."""
    return View(_("Stopped. Your draft is kept: send /campaign to carry on."))


def discarded() -> str:
    """A draft discarded."""
    return _("Draft discarded.")


# --- coordinators: the list and figures ----------------------------------------------------


def state_label(state: str) -> str:
    """A call's state in words."""
    labels = {
        "draft": _("draft"),
        "scheduled": _("scheduled"),
        "sending": _("sending"),
        "paused": _("paused"),
        "sent": _("sent"),
        "cancelled": _("cancelled"),
    }
    return labels.get(state, state)


def figures_line(figures: Figures) -> str:
    """Recipients, deliveries and answers in one short line."""
    return _(
        "👥 {recipients} · ✉️ sent {sent} · ⏳ pending {pending} · ⚠️ failed {failed} · 🚫 unreachable {unreachable} · ✅ did it {did} · ✋ not for me {not_for_me}"
    ).format(
        recipients=fmt.number(figures.recipients),
        sent=fmt.number(figures.sent),
        pending=fmt.number(figures.pending),
        failed=fmt.number(figures.failed),
        unreachable=fmt.number(figures.unreachable),
        did=fmt.number(figures.did),
        not_for_me=fmt.number(figures.not_for_me),
    )


def time_left_line(seconds: float) -> str:
    """How long a call still needs to reach everyone, in whole minutes or hours."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 120:
        return ngettext(
            "⏱ About {count} minute more to reach everyone at the current rate",
            "⏱ About {count} minutes more to reach everyone at the current rate",
            minutes,
        ).format(count=fmt.number(minutes))
    hours = round(minutes / 60)
    return ngettext(
        "⏱ About {count} hour more to reach everyone at the current rate",
        "⏱ About {count} hours more to reach everyone at the current rate",
        hours,
    ).format(count=fmt.number(hours))


def call_actions(state: str) -> list[str]:
    """What can be done to a call in this state: "pause", "resume", "cancel"."""
    actions = []
    if state in ("sending", "scheduled"):
        actions.append("pause")
    if state == "paused":
        actions.append("resume")
    if state in ("scheduled", "sending", "paused"):
        actions.append("cancel")
    return actions


def action_label(action: str, number: int) -> str:
    """The button that pauses, resumes or cancels call ``number``."""
    if action == "pause":
        return _("⏸ Pause #{number}").format(number=number)
    if action == "resume":
        return _("▶️ Resume #{number}").format(number=number)
    return _("✖️ Cancel #{number}").format(number=number)


def campaign_list(
    items: list[tuple[Campaign, Figures]], time_left: dict[int, float] | None = None
) -> View:
    """/campaigns: the latest calls, their state and figures (and, while sending, how long
    they still need), with what can be done."""
    if not items:
        return View(_("No campaign calls yet. Send /campaign to write one."))
    blocks = []
    rows_of: list[list[list[Key]]] = []  # each call's rows of buttons
    for campaign, figures in items:
        when = campaign.launched_at or campaign.send_at or campaign.updated_at
        blocks.append(
            [
                f"<b>#{campaign.id} {fmt.escape(fmt.clean(campaign.title, 60))}</b> · "
                f"{state_label(campaign.state)} · {fmt.when(when, TZ)}",
                figures_line(figures),
                "",
            ]
        )
        if time_left and campaign.id in time_left:
            blocks[-1].insert(2, time_left_line(time_left[campaign.id]))
        rows: list[list[Key]] = []
        rows_of.append(rows)
        cid = campaign.id
        actions = []
        can = call_actions(campaign.state)
        if "pause" in can:
            actions.append(button(action_label("pause", cid), cb.CampaignPause(cid)))
        if "resume" in can:
            actions.append(button(action_label("resume", cid), cb.CampaignResume(cid)))
        if campaign.state in ("scheduled", "paused"):
            actions.append(
                button(_("✏️ Edit #{number}").format(number=cid), cb.CampaignSummary(cid))
            )
        if "cancel" in can:
            actions.append(button(action_label("cancel", cid), cb.CampaignCancelAsk(cid)))
        if actions:
            rows.append(row(*actions[:2]))
            if len(actions) > 2:
                rows.append(row(*actions[2:]))
    text, shown = fit_blocks([_("📣 <b>Campaign calls</b>"), ""], blocks)
    keys = [r for rows in rows_of[:shown] for r in rows]
    keys.append([button(_("🔄 Refresh"), cb.CampaignList())])
    return View(text.rstrip(), Keyboard(keys))


def cancel_confirm(campaign: Campaign) -> View:
    """Cancelling is for good: ask once."""
    return View(
        _("Cancel call #{number} for good? Nothing more of it will be sent.").format(
            number=campaign.id
        ),
        Keyboard(
            [
                row(
                    button(_("Yes, cancel it"), cb.CampaignCancel(campaign.id)),
                    button(_("⬅️ Back"), cb.CampaignList()),
                )
            ]
        ),
    )
