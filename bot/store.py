"""Per-chat state behind one async protocol: reading texts, question mode, texts behind buttons,
and a group's options and recent messages (/autotraducir, /memoria).

Handlers see only `Store`: `SQLiteStore` keeps it in a file (the embedded default), and
`RedisStore` (bot/store_redis.py, when REDIS_URL is set) in Redis, shared by every bot process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

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
CREATE TABLE IF NOT EXISTS group_options (
    chat_id INTEGER NOT NULL,
    option TEXT NOT NULL,
    PRIMARY KEY (chat_id, option)
);
CREATE TABLE IF NOT EXISTS group_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    sent REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS group_messages_chat ON group_messages (chat_id, id);
CREATE INDEX IF NOT EXISTS group_messages_sent ON group_messages (sent);
"""

GroupOption = Literal["autotranslate", "memory"]
"""What an administrator can switch on in a group: /autotraducir and /memoria."""


@dataclass(frozen=True)
class GroupMessage:
    """One remembered message of a group with /memoria on; `sent` is wall-clock seconds."""

    author: str
    text: str
    sent: float


Statement = tuple[str, tuple[object, ...]]


class StoreError(RuntimeError):
    """The store cannot be used (corrupt, locked, unreachable, closed); the user gets an apology."""


class Store(Protocol):
    """What a chat keeps between messages. Each call is atomic; every failure is a StoreError."""

    # Reading text
    async def set_context(self, chat_id: int, text: str) -> None: ...

    async def get_context(self, chat_id: int) -> str | None: ...

    # Question mode
    async def start_questions(self, chat_id: int, user_id: int) -> None: ...

    async def in_questions(self, chat_id: int, user_id: int, idle_seconds: float) -> bool:
        """True while the user is in question mode and has not been idle too long; else ends it."""
        ...

    async def touch_questions(self, chat_id: int, user_id: int) -> None:
        """Renews an active question mode; never starts one."""
        ...

    async def end_questions(self, chat_id: int, user_id: int) -> bool:
        """Leaves question mode; False when it was not on."""
        ...

    # Texts behind buttons (callback data is limited to 64 bytes, so a button carries an id)
    async def save_text(self, chat_id: int, text: str) -> int: ...

    async def get_text(self, chat_id: int, text_id: int) -> str | None:
        """None for an unknown id or another chat's text, so a forged button reads nothing."""
        ...

    # Groups: the options an administrator switched on, and what a group with memory said
    async def set_group_option(self, chat_id: int, option: GroupOption, on: bool) -> None: ...

    async def group_options(self, chat_id: int) -> frozenset[str]:
        """The options switched on in the chat; empty for a chat that never had one."""
        ...

    async def remember_message(
        self, chat_id: int, author: str, text: str, keep: int, max_age: float
    ) -> None:
        """Adds a message; the chat's oldest beyond `keep`, and any older than `max_age`
        seconds, are deleted at once."""
        ...

    async def recent_messages(self, chat_id: int, limit: int, max_age: float) -> list[GroupMessage]:
        """The chat's last `limit` messages younger than `max_age` seconds, oldest first."""
        ...

    async def forget_messages(self, chat_id: int) -> int:
        """Delete the chat's remembered messages (/memoria off); how many."""
        ...

    async def purge_messages(self, max_age: float) -> int:
        """Delete every chat's messages older than `max_age` seconds; how many."""
        ...

    # Privacy
    async def forget_chat(self, chat_id: int) -> None:
        """Delete everything stored for a chat (/olvidar), remembered messages included.

        A group's options stay: they are its administrators' choice, not anyone's data.
        """
        ...

    async def purge(self, older_than_days: float) -> int:
        """Delete reading texts and saved texts older than the retention period; how many."""
        ...

    async def close(self) -> None:
        """Let calls in flight finish, then release the store; later calls are StoreErrors."""
        ...


def now() -> float:
    """Wall-clock seconds for ages and idle times: one seam, so tests move time for every store."""
    return time.time()


async def open_store(settings: Settings) -> Store:
    """The store a run uses: one place to choose the implementation (REDIS_URL, else SQLite)."""
    if settings.redis_url:
        from bot.store_redis import RedisStore  # imported only when used: redis is slow to import

        return await RedisStore.open(settings.redis_url)
    return await SQLiteStore.open(settings.database_path)


class SQLiteStore:
    """A SQLite file (WAL), used from one dedicated thread that owns the connection.

    The event loop only waits for results, so a slow disk or a lock held elsewhere (up to
    `busy_timeout` seconds, then a StoreError) delays store calls, never other chats.
    A file that cannot be read is left exactly as it is, never recreated.
    """

    def __init__(self, path: Path, db: sqlite3.Connection, thread: ThreadPoolExecutor) -> None:
        """Use `await SQLiteStore.open(path)`: the connection must be made on `thread`."""
        self.path = path
        self._db = db
        self._thread = thread
        self._closed = False

    @classmethod
    async def open(cls, path: Path, busy_timeout: float = 5.0) -> SQLiteStore:
        """Creates the file and tables if missing; a file that cannot be used is a StoreError."""
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        try:
            db = await asyncio.get_running_loop().run_in_executor(
                thread, _connect, path, busy_timeout
            )
        except BaseException:
            thread.shutdown(wait=False)
            raise
        return cls(path, db, thread)

    async def _run(self, work: Callable[..., T], *args: object) -> T:
        """`work(connection, *args)` on the store's thread, in the order the calls were made."""
        if self._closed:
            raise StoreError(f"the database {self.path} is closed")
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, self._guarded, work, args
        )

    def _guarded(self, work: Callable[..., T], args: tuple[object, ...]) -> T:
        """On the store's thread: any database failure becomes a logged StoreError."""
        try:
            return work(self._db, *args)
        except sqlite3.Error as exc:
            # A failed statement must not leave the connection inside a transaction.
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            log.error("database error on %s: %s", self.path, exc)
            raise StoreError(f"database error on {self.path}: {exc}") from exc

    # Reading text
    async def set_context(self, chat_id: int, text: str) -> None:
        await self._run(
            _changed,
            (
                "INSERT INTO contexts (chat_id, text, updated) VALUES (?, ?, ?) "
                "ON CONFLICT(chat_id) DO UPDATE "
                "SET text = excluded.text, updated = excluded.updated",
                (chat_id, text, now()),
            ),
        )

    async def get_context(self, chat_id: int) -> str | None:
        found = await self._run(_first, "SELECT text FROM contexts WHERE chat_id = ?", (chat_id,))
        return None if found is None else str(found)

    # Question mode
    async def start_questions(self, chat_id: int, user_id: int) -> None:
        await self._run(
            _changed,
            (
                "INSERT OR REPLACE INTO question_mode (chat_id, user_id, last_active) "
                "VALUES (?, ?, ?)",
                (chat_id, user_id, now()),
            ),
        )

    async def in_questions(self, chat_id: int, user_id: int, idle_seconds: float) -> bool:
        """True while the user is in question mode and has not been idle too long; else ends it."""
        return await self._run(_still_asking, chat_id, user_id, now() - idle_seconds)

    async def touch_questions(self, chat_id: int, user_id: int) -> None:
        await self._run(
            _changed,
            (
                "UPDATE question_mode SET last_active = ? WHERE chat_id = ? AND user_id = ?",
                (now(), chat_id, user_id),
            ),
        )

    async def end_questions(self, chat_id: int, user_id: int) -> bool:
        removed = await self._run(
            _changed,
            ("DELETE FROM question_mode WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)),
        )
        return removed > 0

    # Texts behind buttons
    async def save_text(self, chat_id: int, text: str) -> int:
        return await self._run(_insert_text, chat_id, text, now())

    async def get_text(self, chat_id: int, text_id: int) -> str | None:
        found = await self._run(
            _first, "SELECT text FROM saved_texts WHERE id = ? AND chat_id = ?", (text_id, chat_id)
        )
        return None if found is None else str(found)

    # Groups
    async def set_group_option(self, chat_id: int, option: GroupOption, on: bool) -> None:
        sql = (
            "INSERT OR IGNORE INTO group_options (chat_id, option) VALUES (?, ?)"
            if on
            else "DELETE FROM group_options WHERE chat_id = ? AND option = ?"
        )
        await self._run(_changed, (sql, (chat_id, option)))

    async def group_options(self, chat_id: int) -> frozenset[str]:
        rows = await self._run(
            _rows, "SELECT option FROM group_options WHERE chat_id = ?", (chat_id,)
        )
        return frozenset(str(option) for (option,) in rows)

    async def remember_message(
        self, chat_id: int, author: str, text: str, keep: int, max_age: float
    ) -> None:
        """Adds a message and, in the same transaction, drops what is too old or too many."""
        sent = now()
        await self._run(
            _changed,
            (
                "INSERT INTO group_messages (chat_id, author, text, sent) VALUES (?, ?, ?, ?)",
                (chat_id, author, text, sent),
            ),
            (
                "DELETE FROM group_messages WHERE chat_id = ? AND id <= (SELECT id FROM "
                "group_messages WHERE chat_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (chat_id, chat_id, keep),
            ),
            # Every group's expired messages, not only this one's: quiet groups expire too.
            ("DELETE FROM group_messages WHERE sent < ?", (sent - max_age,)),
        )

    async def recent_messages(self, chat_id: int, limit: int, max_age: float) -> list[GroupMessage]:
        rows = await self._run(
            _rows,
            "SELECT author, text, sent FROM group_messages WHERE chat_id = ? AND sent >= ? "
            "ORDER BY id DESC LIMIT ?",
            (chat_id, now() - max_age, limit),
        )
        return [GroupMessage(str(a), str(t), float(s)) for a, t, s in reversed(rows)]  # type: ignore[arg-type]

    async def forget_messages(self, chat_id: int) -> int:
        return await self._run(
            _changed, ("DELETE FROM group_messages WHERE chat_id = ?", (chat_id,))
        )

    async def purge_messages(self, max_age: float) -> int:
        return await self._run(
            _changed, ("DELETE FROM group_messages WHERE sent < ?", (now() - max_age,))
        )

    # Privacy
    async def forget_chat(self, chat_id: int) -> None:
        """Delete everything stored for a chat (/olvidar), all tables in one transaction."""
        await self._run(
            _changed,
            *(
                (f"DELETE FROM {table} WHERE chat_id = ?", (chat_id,))
                for table in ("contexts", "question_mode", "saved_texts", "group_messages")
            ),
        )

    async def purge(self, older_than_days: float) -> int:
        """Delete reading texts and saved texts older than the retention period."""
        cutoff = now() - older_than_days * 86400
        return await self._run(
            _changed,
            ("DELETE FROM contexts WHERE updated < ?", (cutoff,)),
            ("DELETE FROM saved_texts WHERE created < ?", (cutoff,)),
        )

    async def close(self) -> None:
        """Calls already made finish first; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._thread, self._guarded, sqlite3.Connection.close, ()
            )
        finally:
            self._thread.shutdown(wait=False)


# What runs on the store's thread. Each function is one call: at most one transaction.
def _connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise _cannot_open(path, exc) from exc
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
    except sqlite3.Error as exc:
        db.close()
        raise _cannot_open(path, exc) from exc
    return db


def _cannot_open(path: Path, exc: BaseException) -> StoreError:
    # The file may hold every chat's reading text: say so loudly and leave it untouched.
    log.error(
        "cannot open the database %s: %s; the file is left as it is "
        "(restore a backup or move it away to start empty)",
        path,
        exc,
    )
    return StoreError(f"cannot open the database {path}: {exc}")


def _transaction(db: sqlite3.Connection, *statements: Statement) -> list[sqlite3.Cursor]:
    """Runs the statements as one transaction: all of them happen, or none."""
    db.execute("BEGIN IMMEDIATE")
    cursors = [db.execute(sql, args) for sql, args in statements]
    db.execute("COMMIT")
    return cursors


def _changed(db: sqlite3.Connection, *statements: Statement) -> int:
    """How many rows the statements changed, together."""
    return sum(cursor.rowcount for cursor in _transaction(db, *statements))


def _first(db: sqlite3.Connection, sql: str, args: tuple[object, ...]) -> object | None:
    """The first column of the first row, or None when there is no row."""
    row = db.execute(sql, args).fetchone()
    return None if row is None else row[0]


def _rows(db: sqlite3.Connection, sql: str, args: tuple[object, ...]) -> list[tuple[object, ...]]:
    return db.execute(sql, args).fetchall()


def _insert_text(db: sqlite3.Connection, chat_id: int, text: str, created: float) -> int:
    [cursor] = _transaction(
        db,
        (
            "INSERT INTO saved_texts (chat_id, text, created) VALUES (?, ?, ?)",
            (chat_id, text, created),
        ),
    )
    return int(cursor.lastrowid or 0)


def _still_asking(db: sqlite3.Connection, chat_id: int, user_id: int, cutoff: float) -> bool:
    """Active since `cutoff`; an expired row is removed so /fin later says it was not on."""
    last_active = _first(
        db,
        "SELECT last_active FROM question_mode WHERE chat_id = ? AND user_id = ?",
        (chat_id, user_id),
    )
    if last_active is None:
        return False
    if float(last_active) >= cutoff:  # type: ignore[arg-type]
        return True
    # Readers are not blocked by a writer elsewhere (WAL); only an expiry needs the write lock.
    _transaction(
        db,
        (
            "DELETE FROM question_mode WHERE chat_id = ? AND user_id = ? AND last_active < ?",
            (chat_id, user_id, cutoff),
        ),
    )
    return False
