"""No reply shows a model's own label (B-NOUN, NOUN, POS, LABEL_1, entailment...): only Spanish.

The stand-ins here carry the label maps recorded from the real models (tests/model_facts), so
/pos meets RoBERTuito's "B-CONJ" and "B-UNK" as a user's request would.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bot import texts
from bot.engine.labels import UPOS_TAGS
from bot.engine.registry import TASK_KEYS
from handlers.commands import COMMANDS, offered_rows
from tests.handlers.conftest import ANA, Chat, MakeServices, button_data, plain

FACTS = Path(__file__).resolve().parents[1] / "model_facts"
TEXT = "Hola @ana_perez, me encanta 😊 https://t.co/LvRc5JJxvJ jajaja. El gato come pescado."

_TAGS = "|".join(sorted({*UPOS_TAGS, "CONJ", "UNK", "PRT"} - {"X"}))
# Tags in capitals only: "pos" or "det" in lowercase may be Spanish ("en pos de").
RAW_LABEL = re.compile(
    rf"\b(?:[BIESLU]-[A-Z]+|{_TAGS}|POS|NEG|NEU)\b"
    r"|(?i:\bLABEL_\d+\b|\bentailment\b|\bcontradiction\b|\bneutral\b)"
)


def raw_labels(text: str) -> list[str]:
    """The model labels in what the user reads."""
    return RAW_LABEL.findall(text)


def with_recorded_labels(tiny_models: dict[str, Path], root: Path) -> dict[str, str]:
    """A copy of each stand-in whose label map is the real model's, where the sizes agree."""
    folders: dict[str, str] = {}
    for key in TASK_KEYS:
        facts_file = FACTS / f"{key}.json"
        id2label = json.loads(facts_file.read_text())["id2label"] if facts_file.exists() else None
        config = json.loads((tiny_models[key] / "config.json").read_text())
        if not id2label or len(config.get("id2label", {})) != len(id2label):
            continue
        folder = root / key
        shutil.copytree(tiny_models[key], folder)
        config["id2label"] = {str(i): name for i, name in id2label.items()}
        config["label2id"] = {name: int(i) for i, name in id2label.items()}
        (folder / "config.json").write_text(json.dumps(config))
        folders[f"model_{key}"] = str(folder)
    return folders


@pytest.fixture
async def real_labels_chat(
    make_services: MakeServices, tiny_models: dict[str, Path], tmp_path: Path
) -> Chat:
    folders = with_recorded_labels(tiny_models, tmp_path / "models")
    assert {"model_pos", "model_sentiment"} <= set(folders)
    return Chat(await make_services(admin_users=[ANA], **folders))


def argument(name: str) -> str:
    """The command's own example argument, or our text."""
    example = texts.COMMAND_TEXTS[name].example
    return example.split(" ", 1)[1] if " " in example else TEXT


async def test_the_robertuito_pos_labels_are_read_as_recorded(real_labels_chat: Chat) -> None:
    reply = await real_labels_chat.command("pos", TEXT)
    lines = [line for line in plain(reply).splitlines()[1:] if line]
    assert len(lines) == 10  # Hola @ana_perez me encanta url jajaja El gato come pescado
    names = set(texts.POS_NAMES.values())
    assert all(line.split(" — ")[1] in names for line in lines)


async def test_no_command_shows_a_raw_label(real_labels_chat: Chat) -> None:
    chat = real_labels_chat
    for command in COMMANDS:
        for text in (argument(command.name), TEXT):
            reply = await chat.command(command.name, text)
            assert raw_labels(plain(reply)) == [], f"/{command.name} {text}"


async def test_no_button_shows_a_raw_label(real_labels_chat: Chat) -> None:
    chat = real_labels_chat
    offered = button_data(await chat.say(TEXT))
    assert len(offered) == sum(len(row) for row in offered_rows())
    poem = await chat.command("poema", "La luna")
    for data in [*offered, *button_data(poem)]:
        reply = await chat.press(data)
        assert raw_labels(plain(reply)) == [], data


def test_the_check_sees_raw_labels() -> None:
    found = raw_labels("gato — NOUN; B-CONJ; POS 60 %; label_1; Entailment, neutral")
    assert found == ["NOUN", "B-CONJ", "POS", "label_1", "Entailment", "neutral"]
    assert raw_labels("gato — sustantivo; neutro; en pos de") == []
