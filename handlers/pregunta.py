"""/pregunta and /fin: questions about the chat's reading text, one by one or in a row.

/pregunta <pregunta>              -> the answer, how sure it is, and the sentence it is from
/pregunta replying to a message   -> that message becomes the reading text first
/pregunta alone                   -> question mode: the user's plain messages are questions
/fin, or QUESTION_IDLE_MINUTES without a question -> question mode ends

Question mode is kept in the store, so it outlives a restart; the first question after one
reminds the user that it is still on.
"""

from __future__ import annotations

from bot import texts
from bot.engine.results import Answer, QAInput
from bot.formatting import escape
from bot.request import Reply, Request
from bot.services import Services
from handlers.arguments import char_count, document_problem, percent, visible
from handlers.contexto import length_problem

HIGH_CONFIDENCE = 0.5
MEDIUM_CONFIDENCE = 0.2
MAX_QUOTE_CHARS = 600
"""A "sentence" can be a whole unpunctuated page: quote only the part around the answer."""
SEEN_LIMIT = 100_000
"""Question modes remembered per process; past it they are forgotten, at worst one reminder more."""


async def handle(request: Request, services: Services) -> Reply:
    """Answers a question, starts question mode (/pregunta alone) or ends it (/fin)."""
    if request.command == "fin":
        return await end_questions(request, services)
    if problem := document_problem(request, services.settings):
        return problem
    if new_text := replied_reading_text(request):
        if too_long := length_problem(new_text, services):
            return too_long
        await services.store.set_context(request.chat_id, new_text)
    question = visible(request.text)
    if not question:
        return await start_questions(request, services)
    return await answer(request.chat_id, question, services)


def replied_reading_text(request: Request) -> str:
    """The replied message or attached document, which becomes the reading text."""
    for candidate in (request.reply_text, request.document_text):
        if text := visible(candidate):
            return text
    return ""


async def start_questions(request: Request, services: Services) -> Reply:
    """Enters question mode, once there is a reading text to ask about."""
    context = await services.store.get_context(request.chat_id)
    if not context:
        return Reply.text(texts.NO_CONTEXT)
    await services.store.start_questions(request.chat_id, request.user_id)
    first_seen(request, services)
    minutes = services.settings.question_idle_minutes
    return Reply.text(
        texts.QUESTIONS_STARTED.format(
            chars=char_count(context), minutes=texts.MINUTES.count(minutes)
        )
    )


async def in_question_mode(request: Request, services: Services) -> bool:
    """Whether this user's plain messages in this chat are questions right now."""
    idle_seconds = services.settings.question_idle_minutes * 60
    if await services.store.in_questions(request.chat_id, request.user_id, idle_seconds):
        return True
    services.question_modes_seen.discard((request.chat_id, request.user_id))
    return False


async def next_question(request: Request, services: Services) -> Reply:
    """A plain message in question mode: keeps the mode alive and answers it.

    The first one after a restart also says that question mode is still on, so a message
    meant as something else is not silently taken as a question.
    """
    await services.store.touch_questions(request.chat_id, request.user_id)
    reply = await answer(request.chat_id, visible(request.text), services)
    if not first_seen(request, services):
        return reply
    first, *rest = reply.parts or [""]
    return Reply(parts=[f"{texts.QUESTIONS_STILL_ON}\n\n{first}".strip(), *rest])


def first_seen(request: Request, services: Services) -> bool:
    """Remembers this user's question mode here; True when it had not been seen before."""
    seen = services.question_modes_seen
    key = (request.chat_id, request.user_id)
    if key in seen:
        return False
    if len(seen) >= SEEN_LIMIT:
        seen.clear()
    seen.add(key)
    return True


async def answer(chat_id: int, question: str, services: Services) -> Reply:
    """Answers one question from the chat's reading text."""
    context = await services.store.get_context(chat_id)
    if not context:
        return Reply.text(texts.NO_CONTEXT)
    [result] = await services.engine.run("qa", [QAInput(question, context)])
    return answer_reply(result, context)


async def end_questions(request: Request, services: Services) -> Reply:
    """Leaves question mode, or says it was not on."""
    services.question_modes_seen.discard((request.chat_id, request.user_id))
    if await services.store.end_questions(request.chat_id, request.user_id):
        return Reply.text(texts.QUESTIONS_ENDED)
    return Reply.text(texts.QUESTIONS_NOT_ACTIVE)


def answer_reply(result: Answer, context: str) -> Reply:
    """The answer in bold, its confidence in words, and its sentence quoted."""
    if not result.text.strip():
        return Reply.text(texts.NO_ANSWER)
    lines = [
        texts.ANSWER.format(answer=escape(result.text.strip())),
        texts.ANSWER_CONFIDENCE.format(
            level=texts.CONFIDENCE_LEVELS[confidence(result.score)], percent=percent(result.score)
        ),
    ]
    if result.sentence.strip():
        lines.append(texts.ANSWER_SOURCE.format(sentence=quoted_sentence(result, context)))
    if result.truncated:
        lines.append(texts.QUESTION_TRUNCATED)
    return Reply.text("\n".join(lines))


def confidence(score: float) -> str:
    """high, medium or low: a score in words people read at a glance."""
    if score >= HIGH_CONFIDENCE:
        return "high"
    if score >= MEDIUM_CONFIDENCE:
        return "medium"
    return "low"


def quoted_sentence(result: Answer, context: str) -> str:
    """The answer's sentence, escaped, with the answer itself in bold."""
    sentence = result.sentence.strip()
    at = answer_offset(result, sentence, context)
    if at < 0:
        return escape(shorten(sentence, 0, 0))
    end = at + (result.end - result.start)
    shown_from, shown_to = around(len(sentence), at, end)
    before, middle, after = sentence[shown_from:at], sentence[at:end], sentence[end:shown_to]
    prefix = "…" if shown_from > 0 else ""
    suffix = "…" if shown_to < len(sentence) else ""
    return f"{prefix}{escape(before)}<b>{escape(middle)}</b>{escape(after)}{suffix}"


def answer_offset(result: Answer, sentence: str, context: str) -> int:
    """Where the answer starts inside its sentence (-1 if it cannot be placed)."""
    begin = context.rfind(sentence, 0, result.start + 1)
    if begin >= 0 and begin + len(sentence) >= result.end:
        return result.start - begin
    return sentence.find(result.text)


def around(length: int, start: int, end: int) -> tuple[int, int]:
    """The window of at most MAX_QUOTE_CHARS characters centred on start..end."""
    if length <= MAX_QUOTE_CHARS:
        return 0, length
    spare = max(0, MAX_QUOTE_CHARS - (end - start))
    begin = max(0, start - spare // 2)
    finish = min(length, max(end, begin + MAX_QUOTE_CHARS))
    return begin, finish


def shorten(sentence: str, start: int, end: int) -> str:
    """A sentence cut to MAX_QUOTE_CHARS around start..end."""
    begin, finish = around(len(sentence), start, end)
    text = sentence[begin:finish]
    return ("…" if begin else "") + text + ("…" if finish < len(sentence) else "")
