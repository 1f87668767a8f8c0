"""Hostile input: whatever a user types, every handler answers in Spanish and never crashes.

Random commands, texts, replied messages, documents and button data go through
`handlers.dispatch` on the real tiny models; each reply must be non-empty (unless it is group
chatter), fit Telegram's 4096 characters once split, parse as Telegram HTML, and never be the
apology for an unexpected error. By default each property runs the same 60 examples every time;
TERTULIA_HYPOTHESIS=thorough runs 2000 fresh random ones per property (about three minutes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import handlers
from bot import links, texts
from bot.documents import read_document
from bot.formatting import TELEGRAM_LIMIT, html_to_plain, split_for_telegram
from bot.request import AudioAttachment, Reply, Request
from bot.services import Services
from handlers.arguments import DOCUMENT_PROBLEMS, visible
from handlers.clasificar import MAX_LABEL_CHARS, MAX_LABELS
from handlers.commands import all_names, button_names
from tests.e2e.telegram_html import parse_html
from tests.handlers.conftest import check_reply, plain

for _name, _examples in (("ci", 60), ("thorough", 2000)):
    hypothesis_settings.register_profile(
        f"tertulia-{_name}",
        max_examples=_examples,
        derandomize=_name == "ci",  # CI runs the same examples each time; thorough explores
        deadline=None,  # the first example loads models; a slow one is not a failure
        database=None,  # no .hypothesis/ folder in the tree; failures print a reproduction blob
        print_blob=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # the services are meant to outlive examples
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
PROFILE = hypothesis_settings.get_profile(f"tertulia-{os.environ.get('TERTULIA_HYPOTHESIS', 'ci')}")

# The apologies that mean something broke rather than that the input was refused.
BROKEN_REPLIES = (
    texts.ERROR_UNEXPECTED.split("{")[0],
    texts.ERROR_INFERENCE.split("}")[1],  # "... ha fallado con este texto..."
    texts.ERROR_STORE,
)
USAGE_HEAD = texts.USAGE.split("{")[0]

tried = 0
"""How many hostile requests went through dispatch in this session (reported at the end)."""

# Pieces that trip up text handling: markup, entities, blanks, label bars, forced targets,
# invisible and direction-changing characters, joined emoji, control characters, other scripts.
FRAGMENTS = [
    "<mask>",
    "<MASK>",
    "[MASK]",
    "___",
    "|",
    ",",
    " | ",
    "en:",
    "es:",
    "&",
    "&amp;",
    "&lt;",
    "<b>",
    "</b>",
    "<i>",
    "<",
    ">",
    "<a href='x'>",
    '"',
    "'",
    "/",
    "@TertuliaTestBot",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\u00ad",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\x7f",
    "\r\n",
    "\r",
    "\t",
    "\u2028",
    "\u00a0",
    "\n\n",
    "👍🏽",
    "👨‍👩‍👧",
    "🇪🇸",
    "🙂🙂🙂",
    "e\u0301",
    "ﷺ",
    "\U0001d54f",
    "\ufffd",
    "مرحبا بالعالم",
    "שלום עולם",
    "你好世界",
    "Привет мир",
    "Ñandú pingüino",
    "¿Qué?",
    "¡Hola!",
    "Ana nació en Zaragoza.",
    "The cat sleeps.",
    " ",
    ".",
    "...",
    "?",
]
# Long texts, some without a single break, so replies must be cut mid-word and mid-tag.
LONG_SEEDS = [
    "palabra ",
    "palabra",
    "😀",
    "<b>&amp;</b> ",
    "a" * 50 + "\n",
    "مرحبا ",
    "Hola. ",
    "\u200b",
]

short_text = st.text(max_size=40)
assembled_text = st.lists(
    st.one_of(st.text(max_size=6), st.sampled_from(FRAGMENTS)), max_size=12
).map("".join)
long_text = st.builds(
    lambda seed, times: seed * times, st.sampled_from(LONG_SEEDS), st.integers(200, 4200)
)
hostile_text = st.one_of(short_text, assembled_text, assembled_text, long_text)
optional_text = st.one_of(st.none(), short_text, assembled_text)
DOCUMENT_ERRORS = ["too_big", "not_text", *DOCUMENT_PROBLEMS]
document_errors = st.one_of(
    st.none(), st.none(), st.sampled_from(DOCUMENT_ERRORS), st.text(max_size=8)
)
unknown_commands = st.text(min_size=1, max_size=12).filter(lambda name: name not in all_names())
# Commands that take text are where the work (and the risk) is: they come up most often.
ARGUMENT_COMMANDS = [
    "traducir",
    "resumir",
    "contexto",
    "pregunta",
    "clasificar",
    "sentimiento",
    "idioma",
    "completar",
    "poema",
    "pos",
]
commands = st.one_of(
    st.sampled_from(ARGUMENT_COMMANDS),
    st.sampled_from(ARGUMENT_COMMANDS),
    st.sampled_from(sorted(all_names())),
    unknown_commands,
    unknown_commands.map(str.upper),
)
actions = st.one_of(
    st.builds(lambda c, n: f"{c}:{n}", st.sampled_from(sorted(button_names())), st.integers(0, 40)),
    st.builds(lambda c, n: f"{c}:{n}", st.sampled_from(sorted(all_names())), st.text(max_size=6)),
    st.text(max_size=64),
)


def requests(**fixed: Any) -> st.SearchStrategy[Request]:
    """Requests from a few users in a few chats, with every field random unless fixed."""
    fields: dict[str, Any] = {
        "chat_id": st.sampled_from([100, 101, -500]),
        "user_id": st.sampled_from([7, 8]),
        "chat_kind": st.sampled_from(["private", "group", "supergroup", "channel"]),
        "command": st.none(),
        "text": hostile_text,
        "reply_text": optional_text,
        "document_text": optional_text,
        "document_error": document_errors,
        "action": st.none(),
        "replies_to_bot": st.booleans(),
    }
    fields.update(fixed)
    return st.builds(Request, **fields)


class ErrorRecords(logging.Handler):
    """Keeps every ERROR record: a crash is logged even when a handler hides it in a reply."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def errors_logged() -> Iterator[ErrorRecords]:
    collector = ErrorRecords()
    root = logging.getLogger()
    root.addHandler(collector)
    yield collector
    root.removeHandler(collector)


@pytest.fixture(scope="module", autouse=True)
def report_tried(request: pytest.FixtureRequest) -> Iterator[None]:
    """Prints how many hostile inputs were tried, with or without -s."""
    yield
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\nhostile inputs tried: {tried}")


async def expects_silence(request: Request, services: Services) -> bool:
    """Plain group chatter that is neither a question in question mode nor a reply to the bot."""
    if request.is_private or request.replies_to_bot:
        return False
    if request.command is not None or request.action is not None:
        return False
    idle_seconds = services.settings.question_idle_minutes * 60
    asking = await services.store.in_questions(request.chat_id, request.user_id, idle_seconds)
    return not (visible(request.text) and asking)


def brief(request: Request, limit: int = 120) -> str:
    """The request for a failure message, long texts cut so the message stays readable."""
    fields = {
        name: f"{value[:limit]}…({len(value)} chars)"
        if isinstance(value, str) and len(value) > limit
        else value
        for name, value in dataclasses.asdict(request).items()
    }
    return f"Request({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


async def answer(request: Request, services: Services, errors: ErrorRecords) -> Reply:
    """Dispatches one hostile request and checks every property a reply must have."""
    global tried
    tried += 1
    silent_ok = await expects_silence(request, services)
    logged_before = len(errors.records)
    reply = await handlers.dispatch(request, services)
    crashes = [r.getMessage() for r in errors.records[logged_before:]]
    assert not crashes, f"{brief(request)} logged errors: {crashes}"
    chunks = [chunk for part in reply.parts for chunk in split_for_telegram(part)]
    if silent_ok and not chunks:
        return reply
    assert chunks, f"an empty reply to {brief(request)}"
    for chunk in chunks:
        assert len(chunk) <= TELEGRAM_LIMIT, f"a {len(chunk)}-character part for {brief(request)}"
        visible, _ = parse_html(chunk)
        assert visible.strip(), f"a part without visible text for {brief(request)}: {chunk!r}"
    check_reply(reply)
    shown = plain(reply)
    for broken in BROKEN_REPLIES:
        assert html_to_plain(broken) not in shown, f"{brief(request)} got {shown!r}"
    return reply


@PROFILE
@given(request=requests(command=commands))
async def test_any_command_gets_a_sane_reply(
    request: Request, services: Services, errors_logged: ErrorRecords
) -> None:
    await answer(request, services, errors_logged)


@PROFILE
@given(request=requests(), reading_text=st.one_of(st.none(), hostile_text))
async def test_any_plain_message_gets_a_sane_reply(
    request: Request, reading_text: str | None, services: Services, errors_logged: ErrorRecords
) -> None:
    """With a reading text the message is a question in question mode: QA on hostile text."""
    if reading_text is not None:
        await services.store.set_context(request.chat_id, reading_text)
        await services.store.start_questions(request.chat_id, request.user_id)
    else:
        await services.store.end_questions(request.chat_id, request.user_id)
    await answer(request, services, errors_logged)


@PROFILE
@given(
    request=requests(text=st.just("")),
    saved=hostile_text,
    command=st.sampled_from(sorted(button_names())),
    forged=st.one_of(st.none(), actions),
)
async def test_any_button_press_gets_a_sane_reply(
    request: Request,
    saved: str,
    command: str,
    forged: str | None,
    services: Services,
    errors_logged: ErrorRecords,
) -> None:
    """A real button over a hostile saved text, or forged and stale callback data."""
    text_id = await services.store.save_text(request.chat_id, saved)
    action = forged if forged is not None else f"{command}:{text_id}"
    await answer(dataclasses.replace(request, action=action), services, errors_logged)


@PROFILE
@given(
    conversation=st.lists(
        st.one_of(requests(command=commands), requests(), requests(action=actions)),
        min_size=2,
        max_size=5,
    )
)
async def test_any_conversation_gets_sane_replies(
    conversation: list[Request], services: Services, errors_logged: ErrorRecords
) -> None:
    """Sequences reach states single requests do not: reading text set, question mode on."""
    for request in conversation:
        reply = await answer(request, services, errors_logged)
        # Follow the buttons a reply offers, as a curious user would.
        for row in reply.buttons[:1]:
            press = Request(request.chat_id, request.user_id, request.chat_kind, action=row[0].data)
            await answer(press, services, errors_logged)


# Explicit cases from the issue, each with the reply a person would find sensible.

HOSTILE = {
    "emoji-only": "😀🎉🔥👍🏽🇪🇸",
    "right-to-left": "مرحبا بالعالم، كيف حالك اليوم؟",
    "control characters": "\x00\x01\x07\x1b[31m\x7f\x08",
    "mixed scripts": "Hola мир 世界 مرحبا שלום 🌍 niño",
    "markup": "<b>Ana</b> & <i>Bea</i> <a href='x'>leen</a>: 2 < 3 > 1 &amp; &nbsp; </code>",
}
ZERO_WIDTH = "\u200b\u200c\u200d\ufeff\u2060"
# Where one answer is the sensible one (the rest must simply do their work).
EXPECTED = {
    ("emoji-only", "traducir"): texts.TRANSLATE_UNKNOWN_LANGUAGE,
    ("emoji-only", "idioma"): texts.LANGUAGE_UNKNOWN,
    ("emoji-only", "pos"): texts.POS_NO_WORDS,
    ("right-to-left", "traducir"): texts.TRANSLATE_UNSUPPORTED.format(language="árabe"),
}


def ask(command: str | None, text: str = "", **fields: Any) -> Request:
    return Request(chat_id=100, user_id=7, command=command, text=text, **fields)


@pytest.mark.parametrize("command", [c for c in ARGUMENT_COMMANDS if c != "pregunta"])
@pytest.mark.parametrize("empty", ["", "   \n\t \u3000 "], ids=["empty", "whitespace"])
async def test_empty_or_blank_argument_gets_the_usage(
    command: str, empty: str, services: Services, errors_logged: ErrorRecords
) -> None:
    reply = await answer(ask(command, empty), services, errors_logged)
    assert plain(reply).startswith(USAGE_HEAD)
    assert texts.COMMAND_TEXTS[command].example in plain(reply)


@pytest.mark.parametrize("empty", ["", "   \n\t "], ids=["empty", "whitespace"])
async def test_empty_plain_message_asks_for_text(
    empty: str, services: Services, errors_logged: ErrorRecords
) -> None:
    reply = await answer(ask(None, empty), services, errors_logged)
    assert reply.parts == [texts.SEND_SOME_TEXT]


@pytest.mark.parametrize("command", ARGUMENT_COMMANDS)
@pytest.mark.parametrize("kind", list(HOSTILE))
async def test_strange_text_gets_a_meaningful_reply(
    command: str, kind: str, services: Services, errors_logged: ErrorRecords
) -> None:
    if command == "pregunta":
        await services.store.set_context(100, "Ana nació en Zaragoza. Luego se mudó a la costa.")
    reply = await answer(ask(command, HOSTILE[kind]), services, errors_logged)
    shown = plain(reply)
    if (kind, command) in EXPECTED:
        assert reply.parts == [EXPECTED[kind, command]]
    elif command == "completar":
        assert shown.startswith(html_to_plain(texts.MASK_MISSING.split("{")[0]))
    else:
        # There is text, so the command must do its work, not teach usage or give up.
        assert not shown.startswith(USAGE_HEAD), shown
        assert html_to_plain(texts.ERROR_INVALID) not in shown
        assert html_to_plain(texts.NO_CONTEXT) not in shown


@pytest.mark.parametrize("command", [*ARGUMENT_COMMANDS, None])
async def test_zero_width_text_is_answered(
    command: str | None, services: Services, errors_logged: ErrorRecords
) -> None:
    await answer(ask(command, ZERO_WIDTH), services, errors_logged)


@pytest.mark.parametrize("command", ["traducir", "sentimiento", "idioma", "pos", "contexto"])
async def test_zero_width_text_counts_as_no_text(command: str, services: Services) -> None:
    reply = await handlers.dispatch(ask(command, ZERO_WIDTH), services)
    assert plain(reply).startswith(USAGE_HEAD)


@pytest.mark.parametrize("kind", list(HOSTILE))
async def test_strange_plain_message_offers_the_actions(
    kind: str, services: Services, errors_logged: ErrorRecords
) -> None:
    reply = await answer(ask(None, HOSTILE[kind]), services, errors_logged)
    assert reply.parts == [texts.CHOOSE_ACTION]
    for press in [button.data for row in reply.buttons for button in row]:
        pressed = await answer(ask(None, action=press), services, errors_logged)
        assert texts.ERROR_EXPIRED_BUTTON not in plain(pressed)


@pytest.mark.parametrize("kind", list(HOSTILE))
async def test_a_strange_reading_text_can_be_asked_about(
    kind: str, services: Services, errors_logged: ErrorRecords
) -> None:
    await answer(ask("contexto", HOSTILE[kind]), services, errors_logged)
    reply = await answer(ask("pregunta", "¿Dónde nació Ana?"), services, errors_logged)
    shown = plain(reply)
    assert shown.startswith("💬") or shown == html_to_plain(texts.NO_ANSWER), shown


async def test_a_lone_mask_gets_candidate_words(
    services: Services, errors_logged: ErrorRecords
) -> None:
    reply = await answer(ask("completar", "<mask>"), services, errors_logged)
    assert plain(reply).startswith(html_to_plain(texts.FILL_TITLE))
    assert "\u00a0%" in plain(reply)


async def test_five_hundred_labels_are_refused_with_the_limit(
    services: Services, errors_logged: ErrorRecords
) -> None:
    labels = ", ".join(f"etiqueta{n}" for n in range(500))
    reply = await answer(ask("clasificar", f"El Madrid ganó | {labels}"), services, errors_logged)
    assert reply.parts == [texts.CLASSIFY_TOO_MANY_LABELS.format(count=500, limit=MAX_LABELS)]


async def test_labels_longer_than_the_text_are_scored(
    services: Services, errors_logged: ErrorRecords
) -> None:
    labels = ["una etiqueta bastante larga sobre deportes", "otra etiqueta larga sobre política"]
    reply = await answer(ask("clasificar", f"Sí | {', '.join(labels)}"), services, errors_logged)
    shown = plain(reply)
    assert shown.startswith(html_to_plain(texts.CLASSIFY_TITLE))
    assert all(label in shown for label in labels)


async def test_a_label_over_the_limit_is_refused(
    services: Services, errors_logged: ErrorRecords
) -> None:
    label = "x" * (MAX_LABEL_CHARS + 1)
    reply = await answer(ask("clasificar", f"Hola | {label}"), services, errors_logged)
    assert reply.parts == [texts.CLASSIFY_LABEL_TOO_LONG.format(limit=MAX_LABEL_CHARS)]


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("pos", "gato & <perro> " * 1200),  # one word per line: far more than one message
        ("poema", "palabra" * 1500),  # the opening in bold, one endless word: a hard cut
        ("completar", "palabra & " * 1000 + "<mask>."),  # the best sentence in italics
    ],
    ids=["pos", "poema", "completar"],
)
async def test_a_huge_reply_is_split_into_valid_parts(
    command: str, text: str, services: Services, errors_logged: ErrorRecords
) -> None:
    reply = await answer(ask(command, text), services, errors_logged)
    assert len([c for part in reply.parts for c in split_for_telegram(part)]) > 1


async def test_a_long_answer_quoted_in_bold_still_fits_a_message(
    services: Services, errors_logged: ErrorRecords
) -> None:
    """Found by the fuzzer: a one-word reading text whose whole length is the answer."""
    await services.store.set_context(100, "palabra" * 2515)
    await answer(ask("pregunta", "0"), services, errors_logged)


# Files as they arrive: random bytes named as PDF or DOCX (some with the right magic number),
# read by bot.documents as the adapter does, then sent with a command or alone.
MAGIC = [b"", b"%PDF-1.7\n", b"PK\x03\x04", b"PK\x03\x04\x14\x00\x06\x00"]


@PROFILE
@given(
    noise=st.binary(max_size=3000),
    magic=st.sampled_from(MAGIC),
    name=st.sampled_from(["informe.pdf", "carta.docx"]),
    command=st.sampled_from([None, "resumir", "contexto", "traducir", "pregunta", "sentimiento"]),
)
async def test_random_bytes_as_a_document_get_a_sane_reply(
    noise: bytes,
    magic: bytes,
    name: str,
    command: str | None,
    services: Services,
    errors_logged: ErrorRecords,
) -> None:
    read = await read_document(magic + noise, name, "", services.settings.max_document_bytes)
    request = ask(command, document_text=read.text, document_error=read.problem)
    reply = await answer(request, services, errors_logged)
    if read.problem is not None:  # the file's own problem, not a usage line or an apology
        assert reply.parts == [DOCUMENT_PROBLEMS.get(read.problem, texts.ERROR_DOCUMENT_KIND)]


# Links that must be refused before any connection, and malformed ones: never a crash.
HOSTILE_LINKS = [
    "file:///etc/passwd",
    "http://127.0.0.1/",
    "http://[::1]:8080/",
    "http://[::ffff:169.254.169.254]/",
    "http://0.0.0.0/",
    "http://10.0.0.1:22/",
    "http://[::1",
    "https://:80/",
    "gopher://127.0.0.1:70/",
    "javascript://alert(1)",
    "http://%00/",
    "http://\u200b/",
    "https://" + "a" * 300 + ".127.0.0.1.nip.io.invalid/",
]


@pytest.mark.parametrize("link", HOSTILE_LINKS)
@pytest.mark.parametrize("command", ["resumir", "contexto", "traducir", None])
async def test_a_hostile_link_is_refused_with_a_reason(
    link: str,
    command: str | None,
    services: Services,
    errors_logged: ErrorRecords,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_dns(host: str, port: int) -> list[str]:
        raise OSError("no DNS in this test")

    monkeypatch.setattr(links, "network", links.Network(resolve=no_dns))
    if command is None:  # a pasted link: buttons first, the page is read when one is pressed
        offer = await answer(ask(None, link), services, errors_logged)
        [first, *_] = [button for row in offer.buttons for button in row]
        reply = await answer(ask(None, action=first.data), services, errors_logged)
    else:
        reply = await answer(ask(command, link), services, errors_logged)
    assert plain(reply).startswith(("🔗", "🔒")), plain(reply)


# Audio as it arrives: random bytes sent as a voice note (some behind a real container's magic
# number), alone in a private chat (it becomes /transcribir) or with the command anywhere.
AUDIO_MAGIC = [b"", b"OggS\x00\x02", b"ID3\x04\x00", b"\x00\x00\x00\x18ftypmp42", b"RIFF"]
AUDIO_REPLIES = tuple(
    html_to_plain(text.split("{")[0])
    for text in (
        texts.ERROR_AUDIO_UNREADABLE,
        texts.ERROR_AUDIO_NO_SOUND,
        texts.ERROR_AUDIO_TOO_LONG,
        texts.ERROR_AUDIO_OVER_LIMIT,
        texts.TRANSCRIPT_EMPTY,
        texts.TRANSCRIPT,
    )
)


@PROFILE
@given(
    noise=st.binary(max_size=3000),
    magic=st.sampled_from(AUDIO_MAGIC),
    duration=st.sampled_from([0.0, 2.0, 1e9]),
    kind=st.sampled_from(["private", "group"]),
)
async def test_random_bytes_as_audio_get_a_sane_reply(
    noise: bytes,
    magic: bytes,
    duration: float,
    kind: str,
    services: Services,
    errors_logged: ErrorRecords,
) -> None:
    audio = AudioAttachment(magic + noise, "audio/ogg", duration)
    reply = await answer(ask("transcribir", audio=audio, chat_kind=kind), services, errors_logged)
    assert plain(reply).startswith(AUDIO_REPLIES), plain(reply)
