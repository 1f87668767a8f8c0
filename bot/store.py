"""Per-chat state in SQLite: reading texts, question mode, texts behind buttons."""

from __future__ import annotations

import contextlib
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
    """A small synchronous store: every call is one short transaction, safe to call anywhere.

    Every failure of the database (corrupt, locked past `busy_timeout` seconds, unwritable) is
    a StoreError, and a file that cannot be read is left exactly as it is, never recreated.
    """

    def __init__(self, path: Path, busy_timeout: float = 5.0) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, timeout=busy_timeout, check_same_thread=False, isolation_level=None
            )
        except (OSError, sqlite3.Error) as exc:
            raise self._cannot_open(exc) from exc
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            self._db.close()
            raise self._cannot_open(exc) from exc

    def _cannot_open(self, exc: BaseException) -> StoreError:
        # The file may hold every chat's reading text: say so loudly and leave it untouched.
        log.error(
            "cannot open the database %s: %s; the file is left as it is "
            "(restore a backup or move it away to start empty)",
            self.path,
            exc,
        )
        return StoreError(f"cannot open the database {self.path}: {exc}")

    def _failed(self, exc: sqlite3.Error) -> StoreError:
        log.error("database error on %s: %s", self.path, exc)
        return StoreError(f"database error on {self.path}: {exc}")

    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc

    def _write(self, *statements: tuple[str, tuple[object, ...]]) -> list[sqlite3.Cursor]:
        """Runs the statements as one transaction: all of them happen, or none."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                cursors = [self._db.execute(sql, args) for sql, args in statements]
                self._db.execute("COMMIT")
                return cursors
            except sqlite3.Error as exc:
                # A failed statement must not leave the connection inside a transaction.
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise self._failed(exc) from exc

    # Reading text
    def set_context(self, chat_id: int, text: str) -> None:
        self._write(
            (
                "INSERT INTO contexts (chat_id, text, updated) VALUES (?, ?, ?) "
                "ON CONFLICT(chat_id) DO UPDATE "
                "SET text = excluded.text, updated = excluded.updated",
                (chat_id, text, time.time()),
            )
        )

    def get_context(self, chat_id: int) -> str | None:
        rows = self._read("SELECT text FROM contexts WHERE chat_id = ?", (chat_id,))
        return str(rows[0][0]) if rows else None

    # Question mode
    def start_questions(self, chat_id: int, user_id: int) -> None:
        self._write(
            (
                "INSERT OR REPLACE INTO question_mode (chat_id, user_id, last_active) "
                "VALUES (?, ?, ?)",
                (chat_id, user_id, time.time()),
            )
        )

    def in_questions(self, chat_id: int, user_id: int, idle_seconds: float) -> bool:
        """True while the user is in question mode and has not been idle too long."""
        rows = self._read(
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
        self._write(
            (
                "UPDATE question_mode SET last_active = ? WHERE chat_id = ? AND user_id = ?",
                (time.time(), chat_id, user_id),
            )
        )

    def end_questions(self, chat_id: int, user_id: int) -> bool:
        [cur] = self._write(
            (
                "DELETE FROM question_mode WHERE chat_id = ? AND user_id = ?",
                (chat_id, user_id),
            )
        )
        return cur.rowcount > 0

    # Texts behind buttons (callback data is limited to 64 bytes)
    def save_text(self, chat_id: int, text: str) -> int:
        [cur] = self._write(
            (
                "INSERT INTO saved_texts (chat_id, text, created) VALUES (?, ?, ?)",
                (chat_id, text, time.time()),
            )
        )
        return int(cur.lastrowid or 0)

    def get_text(self, chat_id: int, text_id: int) -> str | None:
        rows = self._read(
            "SELECT text FROM saved_texts WHERE id = ? AND chat_id = ?", (text_id, chat_id)
        )
        return str(rows[0][0]) if rows else None

    # Privacy
    def forget_chat(self, chat_id: int) -> None:
        """Delete everything stored for a chat (/olvidar)."""
        self._write(
            *(
                (f"DELETE FROM {table} WHERE chat_id = ?", (chat_id,))
                for table in ("contexts", "question_mode", "saved_texts")
            )
        )

    def purge(self, older_than_days: float) -> int:
        """Delete reading texts and saved texts older than the retention period."""
        cutoff = time.time() - older_than_days * 86400
        cursors = self._write(
            ("DELETE FROM contexts WHERE updated < ?", (cutoff,)),
            ("DELETE FROM saved_texts WHERE created < ?", (cutoff,)),
        )
        return sum(cur.rowcount for cur in cursors)

    def close(self) -> None:
        with self._lock:
            self._db.close()
