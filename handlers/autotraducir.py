"""/autotraducir on|off: in a group, English messages get a Spanish translation as a reply."""

from __future__ import annotations

from bot import texts
from bot.request import Reply, Request
from bot.services import Services
from handlers import grupo
from handlers.arguments import usage


async def handle(request: Request, services: Services) -> Reply:
    """Says the state, or switches it when an administrator asks."""
    if request.is_private:
        return Reply.text(texts.GROUPS_ONLY)
    wanted = grupo.wanted_state(request.text)
    if wanted is None:
        if request.text.strip():
            return usage("autotraducir")
        options = await services.store.group_options(request.chat_id)
        state = texts.SWITCH_STATES[grupo.AUTOTRANSLATE in options]
        return Reply.text(texts.AUTOTRANSLATE_STATUS.format(state=state))
    if not await grupo.may_switch(request, services):
        return Reply.text(texts.GROUP_ADMINS_ONLY)
    await services.store.set_group_option(request.chat_id, grupo.AUTOTRANSLATE, wanted)
    if not wanted:
        return Reply.text(texts.AUTOTRANSLATE_OFF)
    lines = [texts.AUTOTRANSLATE_ON.format(words=texts.WORDS.count(grupo.MIN_WORDS))]
    if per_minute := services.settings.autotranslate_per_minute:
        lines.append(texts.AUTOTRANSLATE_LIMIT.format(count=per_minute))
    return Reply.text(" ".join(lines) + "\n\n" + texts.PRIVACY_MODE_HINT)
