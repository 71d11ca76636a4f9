"""The launch's check of a campaign's SMS numbers: each can be sent every message that may
reach it (a template for each), and none is the coordinator's (reports are documents)."""

from __future__ import annotations

from config.campaign.schema import Campaign, CampaignSettings
from config.campaign.sms import ACTION_TEMPLATES, TemplateKey, is_sms, template_key

Loc = tuple[str | int, ...]


def needed_templates(spec: CampaignSettings, who: str) -> list[TemplateKey]:
    """The templates an SMS number of `who` (department, head, leaders) needs: one for each
    message that can be sent to it."""
    ladder = spec.escalation
    if who == "leaders":
        return ["leaders"] if any("leaders" in r.to for r in ladder) else []
    rungs = [template_key(r.name, r.wording, who) for r in ladder if who in r.to]
    actions = list(ACTION_TEMPLATES.values()) if who == "department" else []
    return list(dict.fromkeys(actions + rungs))


def missing_templates(spec: CampaignSettings, who: str) -> list[TemplateKey]:
    templates = spec.sms.templates if spec.sms else {}
    return [key for key in needed_templates(spec, who) if key not in templates]


def sms_problems(campaign: Campaign) -> list[tuple[Loc, str]]:
    """Every SMS number that would get a message with no template for it, or that cannot
    be sent to at all, located at its entry in a notify list; each missing template once."""
    ladder = campaign.escalation
    lists: list[tuple[Loc, str, list[str]]] = []
    for key in ("coordinator", "leaders"):
        contact = getattr(campaign, key)
        if contact is not None:
            lists.append(((key, "notify"), key, contact.notify))
    for i, dept in enumerate(campaign.departments):
        lists.append((("departments", i, "notify"), "department", dept.notify))
        if dept.head is not None:
            lists.append((("departments", i, "head", "notify"), "head", dept.head.notify))
    problems: list[tuple[Loc, str]] = []
    told: set[str] = set()
    any_sms = False
    for loc, who, entries in lists:
        for j, entry in enumerate(entries):
            if not any(is_sms(e) for e in campaign.channels.get(entry, [entry])):
                continue
            any_sms = True
            if who == "coordinator":
                # The coordinator gets reports (documents): they cannot go by SMS.
                problems.append(((*loc, j), "the coordinator is told by e-mail or chat, not SMS"))
            elif campaign.sms is None and "section" not in told:
                told.add("section")
                problems.append(((*loc, j), _NO_SECTION))
            elif campaign.sms is not None:
                for need in missing_templates(campaign, who):
                    if need not in told:
                        told.add(need)
                        problems.append(((*loc, j), _no_template(need)))
    for i, rung in enumerate(ladder):
        if rung.via == "sms" and not any_sms:
            message = "this rung goes by SMS, but no notify list has an sms: number"
            problems.append((("escalation", i, "via"), message))
    return problems


_NO_SECTION = (
    "an SMS number needs the campaign's `sms:` section (sign_name and a template per message)"
)


def _no_template(key: str) -> str:
    return (
        f"this number would get the `{key}` message, but `sms.templates` has no `{key}` "
        f"template: add {key}: {{code: SMS_…, params: {{…}}}}"
    )
