"""/poema <comienzo>: a poem from the user's first words, with a button for another one."""

from __future__ import annotations

import unicodedata

from bot import texts
from bot.engine.results import GeneratedText
from bot.formatting import escape
from bot.progress import growing
from bot.request import Button, Reply, Request
from bot.services import Services
from handlers.arguments import document_problem, target_text, usage


async def handle(request: Request, services: Services) -> Reply:
    """Writes a poem, shown as it grows, and offers another.

    No seed: each poem is a fresh draw, and poems asked for at once from many chats are written
    in one batch (a seed makes a poem repeatable, but runs it alone).
    """
    if problem := document_problem(request, services.settings):
        return problem
    prompt = target_text(request)
    if not prompt:
        return usage("poema")
    with growing(poem_text):
        [poem] = await services.engine.run("poem", [prompt], do_sample=True)
    text_id = await services.store.save_text(request.chat_id, prompt)
    return poem_reply(poem, again=Button(texts.POEM_AGAIN, f"poema:{text_id}"))


def poem_reply(poem: GeneratedText, again: Button) -> Reply:
    """The poem with its opening in bold; the button writes another from the same opening."""
    return Reply.text(poem_text(poem) or texts.POEM_EMPTY, buttons=[[again]])


def poem_text(poem: GeneratedText) -> str:
    """The poem as the reply words it ("" if nothing was written): also each partial poem."""
    if not poem.text.startswith(poem.prompt):
        text = escape(printable(poem.text).strip())
    elif continuation := printable(poem.text[len(poem.prompt) :]).rstrip():
        text = f"<b>{escape(printable(poem.prompt))}</b>{escape(continuation)}"
    else:
        text = ""
    if text and poem.truncated:
        text += "\n\n" + texts.POEM_TRUNCATED
    return text


def printable(text: str) -> str:
    """Generated text without control characters or broken-byte marks (small models emit them)."""
    return "".join(
        ch
        for ch in text
        if ch in "\n\t" or (ch != "\ufffd" and unicodedata.category(ch) not in ("Cc", "Cs"))
    )
