"""/clasificar: the user's labels (or the defaults), each scored, best first."""

from __future__ import annotations

import re

from bot import texts
from handlers.clasificar import MAX_LABEL_CHARS, MAX_LABELS
from tests.handlers.conftest import Chat, plain, requests_of

TEXT = "El Madrid ganó la final de la copa anoche."
PERCENT = re.compile(r"([\d,]+)\u00a0%")


def scored_labels(reply_text: str) -> list[tuple[str, float]]:
    """(label, percentage) for each scored line, in the order shown."""
    found = []
    for line in reply_text.splitlines():
        match = PERCENT.search(line)
        if match:
            found.append((line[match.end() :].strip(), float(match[1].replace(",", "."))))
    return found


async def test_each_label_is_scored_best_first(chat: Chat) -> None:
    reply = await chat.command("clasificar", f"{TEXT} | deportes, política , cocina")
    scored = scored_labels(plain(reply))
    assert sorted(label for label, _ in scored) == ["cocina", "deportes", "política"]
    scores = [score for _, score in scored]
    assert scores == sorted(scores, reverse=True)
    assert "█" in plain(reply) or "░" in plain(reply)


async def test_without_labels_the_default_ones_are_used(chat: Chat) -> None:
    reply = await chat.command("clasificar", TEXT)
    labels = [label for label, _ in scored_labels(plain(reply))]
    assert sorted(labels) == sorted(chat.services.settings.default_labels)
    assert "|" in plain(reply)  # how to give one's own labels


async def test_repeated_labels_count_once(chat: Chat) -> None:
    reply = await chat.command("clasificar", f"{TEXT} | deportes, Deportes, deportes, cocina")
    labels = [label for label, _ in scored_labels(plain(reply))]
    assert sorted(labels) == ["Deportes", "cocina", "deportes"]


async def test_labels_are_escaped(chat: Chat) -> None:
    reply = await chat.command("clasificar", f"{TEXT} | <b>deportes</b>, pan & vino")
    assert "&lt;b&gt;deportes&lt;/b&gt;" in reply.parts[0]
    assert "pan &amp; vino" in reply.parts[0]


async def test_a_bar_without_labels_is_refused_before_the_model(chat: Chat) -> None:
    reply = await chat.command("clasificar", f"{TEXT} |  , ")
    example = texts.COMMAND_TEXTS["clasificar"].example
    assert reply.parts == [texts.CLASSIFY_NO_LABELS.format(example=example)]
    assert requests_of(chat.services, "zero_shot") == 0


async def test_too_many_or_too_long_labels_are_refused_before_the_model(chat: Chat) -> None:
    many = ", ".join(f"tema{i}" for i in range(MAX_LABELS + 1))
    reply = await chat.command("clasificar", f"{TEXT} | {many}")
    assert str(MAX_LABELS) in plain(reply) and str(MAX_LABELS + 1) in plain(reply)
    reply = await chat.command("clasificar", f"{TEXT} | deportes, {'x' * (MAX_LABEL_CHARS + 1)}")
    assert str(MAX_LABEL_CHARS) in plain(reply)
    assert requests_of(chat.services, "zero_shot") == 0


async def test_labels_can_classify_the_replied_message(chat: Chat) -> None:
    reply = await chat.command("clasificar", "| deportes, cocina", reply_text=TEXT)
    assert len(scored_labels(plain(reply))) == 2


async def test_labels_without_any_text_give_usage(chat: Chat) -> None:
    assert plain(await chat.command("clasificar", "| deportes")).startswith("Uso: /clasificar")
    assert plain(await chat.command("clasificar")).startswith("Uso: /clasificar")
