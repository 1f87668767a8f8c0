"""/pregunta and /fin: answers from the reading text, one at a time or in question mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import texts
from bot.engine.results import Answer
from handlers.pregunta import MAX_QUOTE_CHARS, answer_reply
from tests.conftest import FakeClock
from tests.handlers.conftest import BEA, Chat, MakeServices, plain, requests_of
from tests.tiny_models import build_controlled_qa

WORD = "Lima"
CONTEXT = "El profesor lee el periódico. Ana vive en Lima desde 1998. Trabaja en una biblioteca."


@pytest.fixture(scope="module")
def controlled_qa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A QA model that always answers WORD when the reading text holds it."""
    return build_controlled_qa(tmp_path_factory.mktemp("qa") / "controlled", WORD)


@pytest.fixture
async def qa_chat(make_services: MakeServices, controlled_qa: Path) -> Chat:
    return Chat(await make_services(model_qa=str(controlled_qa)))


async def test_the_answer_comes_with_confidence_and_its_sentence(qa_chat: Chat) -> None:
    await qa_chat.command("contexto", CONTEXT)
    reply = await qa_chat.command("pregunta", "¿Dónde vive Ana?")
    [part] = reply.parts
    assert part.startswith(texts.ANSWER.format(answer=WORD))
    assert any(f"Confianza: {level}" in part for level in texts.CONFIDENCE_LEVELS.values())
    assert "<blockquote>Ana vive en <b>Lima</b> desde 1998.</blockquote>" in part


async def test_user_text_is_escaped_in_the_answer(qa_chat: Chat) -> None:
    await qa_chat.command("contexto", "Si x < 5 & y > 2, Ana vive en Lima.")
    reply = await qa_chat.command("pregunta", "¿Dónde <vive> Ana & quién?")
    assert "x &lt; 5 &amp; y &gt; 2, Ana vive en <b>Lima</b>." in reply.parts[0]
    assert "Si x < 5 & y > 2, Ana vive en Lima." in plain(reply)


async def test_replying_makes_the_message_the_reading_text(qa_chat: Chat) -> None:
    await qa_chat.command("contexto", "Nada que ver.")
    reply = await qa_chat.command("pregunta", "¿Dónde vive?", reply_text="Ana vive en Lima.")
    assert texts.ANSWER.format(answer=WORD) in reply.parts[0]
    assert await qa_chat.services.store.get_context(qa_chat.chat_id) == "Ana vive en Lima."


async def test_without_a_reading_text_it_explains_how_to_set_one(chat: Chat) -> None:
    reply = await chat.command("pregunta", "¿Dónde vive Ana?")
    assert reply.parts == [texts.NO_CONTEXT]
    assert requests_of(chat.services, "qa") == 0
    reply = await chat.command("pregunta")
    assert reply.parts == [texts.NO_CONTEXT]
    assert not await chat.services.store.in_questions(chat.chat_id, chat.user_id, 3600)


async def test_question_mode_turns_plain_messages_into_questions(qa_chat: Chat) -> None:
    await qa_chat.command("contexto", CONTEXT)
    started = await qa_chat.command("pregunta")
    assert str(qa_chat.services.settings.question_idle_minutes) in plain(started)
    assert "/fin" in plain(started)

    first = await qa_chat.say("¿Dónde vive Ana?")
    second = await qa_chat.say("¿Y desde cuándo?")
    assert texts.ANSWER.format(answer=WORD) in first.parts[0]
    assert not first.buttons and not second.buttons
    assert requests_of(qa_chat.services, "qa") == 2

    assert (await qa_chat.command("fin")).parts == [texts.QUESTIONS_ENDED]
    after = await qa_chat.say("¿Dónde vive Ana?")
    assert after.buttons  # a plain message again: what should I do with it?
    assert requests_of(qa_chat.services, "qa") == 2


async def test_fin_outside_question_mode_says_so(chat: Chat) -> None:
    assert (await chat.command("fin")).parts == [texts.QUESTIONS_NOT_ACTIVE]


async def test_question_mode_ends_after_the_idle_time(qa_chat: Chat, clock: FakeClock) -> None:
    idle = qa_chat.services.settings.question_idle_minutes * 60
    await qa_chat.command("contexto", CONTEXT)
    await qa_chat.command("pregunta")
    clock.advance(idle - 5)
    assert not (await qa_chat.say("¿Dónde vive Ana?")).buttons  # still a question
    clock.advance(idle - 5)
    assert not (await qa_chat.say("¿Dónde vive Ana?")).buttons  # each question restarts it
    clock.advance(idle + 5)
    assert (await qa_chat.say("¿Dónde vive Ana?")).buttons
    assert requests_of(qa_chat.services, "qa") == 2


async def test_question_mode_belongs_to_one_user_in_one_chat(group: Chat) -> None:
    await group.command("contexto", CONTEXT)
    await group.command("pregunta")
    assert (await group.as_user(BEA).say("¿Dónde vive Ana?")).parts == []
    assert (await group.elsewhere(300).say("¿Dónde vive Ana?")).buttons
    answered = await group.say("¿Dónde vive Ana?")
    assert answered.parts and not answered.buttons
    assert requests_of(group.services, "qa") == 1


def test_an_empty_answer_says_it_was_not_found() -> None:
    assert answer_reply(Answer("", 0.0, 0, 0, ""), "texto").parts == [texts.NO_ANSWER]


def test_confidence_is_worded_from_the_score() -> None:
    context = "Ana vive en Lima."
    for score, level in ((0.9, "alta"), (0.3, "media"), (0.01, "baja")):
        reply = answer_reply(Answer("Lima", score, 12, 16, context), context)
        assert f"Confianza: {level}" in plain(reply)


def test_a_very_long_sentence_is_quoted_around_the_answer() -> None:
    context = "palabra " * 400 + "Lima " + "palabra " * 400
    start = context.index("Lima")
    reply = answer_reply(Answer("Lima", 0.5, start, start + 4, context.strip()), context)
    quote = plain(reply).split("\n", 2)[2]
    assert "Lima" in quote
    assert len(quote) < MAX_QUOTE_CHARS + 60


async def test_pregunta_alone_replying_sets_the_text_and_starts_question_mode(
    qa_chat: Chat,
) -> None:
    await qa_chat.command("pregunta", reply_text="Ana vive en Lima.")
    assert await qa_chat.services.store.get_context(qa_chat.chat_id) == "Ana vive en Lima."
    reply = await qa_chat.say("¿Dónde vive Ana?")
    assert texts.ANSWER.format(answer=WORD) in reply.parts[0]


async def test_a_cut_question_is_said_in_the_answer(
    make_services: MakeServices, tmp_path: Path
) -> None:
    services = await make_services(model_qa=str(build_controlled_qa(tmp_path / "qa", "Lima")))
    chat = Chat(services)
    await chat.command("contexto", "Luis vive en Lima. Trabaja en un banco.")
    reply = await chat.command("pregunta", "¿Dónde vive Luis? " * 200)
    assert "Lima" in plain(reply)
    assert "muy larga" in plain(reply)


async def test_after_a_restart_the_first_question_says_question_mode_is_still_on(
    make_services: MakeServices, controlled_qa: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "one-database"
    before = Chat(await make_services(model_qa=str(controlled_qa), data_dir=data_dir))
    await before.command("contexto", CONTEXT)
    await before.command("pregunta")
    await before.services.store.close()  # the bot stops; question mode stays in the file

    after = Chat(await make_services(model_qa=str(controlled_qa), data_dir=data_dir))
    first = await after.say("¿Dónde vive Ana?")
    second = await after.say("¿Y desde cuándo?")

    [part] = first.parts  # one message: the reminder, then the answer
    assert part.startswith(texts.QUESTIONS_STILL_ON)
    assert texts.ANSWER.format(answer=WORD) in part
    assert texts.QUESTIONS_STILL_ON not in second.parts[0]
    assert texts.ANSWER.format(answer=WORD) in second.parts[0]
    assert requests_of(after.services, "qa") == 2


async def test_a_question_mode_idle_for_too_long_is_over_after_a_restart(
    make_services: MakeServices, controlled_qa: Path, tmp_path: Path, clock: FakeClock
) -> None:
    data_dir = tmp_path / "one-database"
    before = Chat(await make_services(model_qa=str(controlled_qa), data_dir=data_dir))
    await before.command("contexto", CONTEXT)
    await before.command("pregunta")
    await before.services.store.close()
    clock.advance(before.services.settings.question_idle_minutes * 60 + 5)

    after = Chat(await make_services(model_qa=str(controlled_qa), data_dir=data_dir))
    reply = await after.say("¿Dónde vive Ana?")

    assert reply.parts == [texts.CHOOSE_ACTION] and reply.buttons
    assert (await after.command("fin")).parts == [texts.QUESTIONS_NOT_ACTIVE]
    assert requests_of(after.services, "qa") == 0


async def test_counts_agree_with_their_nouns(
    make_services: MakeServices, controlled_qa: Path
) -> None:
    chat = Chat(await make_services(model_qa=str(controlled_qa), question_idle_minutes=1))
    assert "1 carácter (1 palabra)" in plain(await chat.command("contexto", "A"))
    started = plain(await chat.command("pregunta"))
    assert "(1 carácter)" in started and "tras 1 minuto sin preguntas" in started
    assert "5 caracteres (2 palabras)" in plain(await chat.command("contexto", "Ana y"))
    assert [texts.SECONDS.count(n) for n in (1, 2)] == ["1 segundo", "2 segundos"]
