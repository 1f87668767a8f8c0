"""Per-chat state in SQLite: reading texts, question mode, texts behind buttons."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS contexts (
    chat_id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS question_mode (
    chat_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    last_active REAL NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);
CREATE TABLE IF NOT EXISTS saved_texts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    text TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS saved_texts_chat ON saved_texts (chat_id);
"""


class StoreError(RuntimeError):
    """The database cannot be used (corrupt, locked, unwritable)."""


class ChatStore:
    """A small synchronous store: every call is one short transaction, safe to call anywhere."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                path, timeout=5.0, check_same_thread=False, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            log.error("cannot open the database %s: %s", path, exc)
            raise StoreError(f"cannot open the database {path}: {exc}") from exc

    def _execute(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:
                log.error("database error on %s: %s", self.path, exc)
                raise StoreError(str(exc)) from exc

    # Reading text
    def set_context(self, chat_id: int, text: str) -> None:
        self._execute(
            "INSERT INTO contexts (chat_id, text, updated) VALUES (?, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET text = excluded.text, updated = excluded.updated",
            (chat_id, text, time.time()),
        )

    def get_context(self, chat_id: int) -> str | None:
        rows = self._execute("SELECT text FROM contexts WHERE chat_id = ?", (chat_id,))
        return str(rows[0][0]) if rows else None

    # Question mode
    def start_questions(self, chat_id: int, user_id: int) -> None:
        self._execute(
            "INSERT OR REPLACE INTO question_mode (chat_id, user_id, last_active) VALUES (?, ?, ?)",
            (chat_id, user_id, time.time()),
        )

    def in_questions(self, chat_id: int, user_id: int, idle_seconds: float) -> bool:
        """True while the user is in question mode and has not been idle too long."""
        rows = self._execute(
            "SELECT last_active FROM question_mode WHERE chat_id = ? AND user_id = ?",
            (chat_id, user_id),
        )
        if not rows:
            return False
        if time.time() - float(rows[0][0]) > idle_seconds:  # type: ignore[arg-type]
            self.end_questions(chat_id, user_id)
            return False
        return True

    def touch_questions(self, chat_id: int, user_id: int) -> None:
        self._execute(
            "UPDATE question_mode SET last_active = ? WHERE chat_id = ? AND user_id = ?",
            (time.time(), chat_id, user_id),
        )

    def end_questions(self, chat_id: int, user_id: int) -> bool:
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM question_mode WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
            )
            return cur.rowcount > 0

    # Texts behind buttons (callback data is limited to 64 bytes)
    def save_text(self, chat_id: int, text: str) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO saved_texts (chat_id, text, created) VALUES (?, ?, ?)",
                (chat_id, text, time.time()),
            )
            return int(cur.lastrowid or 0)

    def get_text(self, chat_id: int, text_id: int) -> str | None:
        rows = self._execute(
            "SELECT text FROM saved_texts WHERE id = ? AND chat_id = ?", (text_id, chat_id)
        )
        return str(rows[0][0]) if rows else None

    # Privacy
    def forget_chat(self, chat_id: int) -> None:
        """Delete everything stored for a chat (/olvidar)."""
        with self._lock:
            self._db.execute("BEGIN")
            for table in ("contexts", "question_mode", "saved_texts"):
                self._db.execute(f"DELETE FROM {table} WHERE chat_id = ?", (chat_id,))
            self._db.execute("COMMIT")

    def purge(self, older_than_days: float) -> int:
        """Delete reading texts and saved texts older than the retention period."""
        cutoff = time.time() - older_than_days * 86400
        with self._lock:
            removed = self._db.execute("DELETE FROM contexts WHERE updated < ?", (cutoff,)).rowcount
            removed += self._db.execute(
                "DELETE FROM saved_texts WHERE created < ?", (cutoff,)
            ).rowcount
            return removed

    def close(self) -> None:
        with self._lock:
            self._db.close()
