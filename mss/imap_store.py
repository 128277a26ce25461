"""pymap's mailbox model over the MSSanté store (:mod:`mss.store`): one account per mailbox with
two folders, INBOX and Sent (RFC 3501 §5.1 names; UIDs and UIDVALIDITY come from the store).

pymap keeps, per session, the in-memory view its own dictionary backend keeps (messages, flags,
modification sequences, selected-mailbox bookkeeping); this module fills it from the database
and writes every change (APPEND, STORE, EXPUNGE, COPY, MOVE) back to it before answering.
Messages delivered meanwhile — by SMTP, ``/mss/api`` or another worker process — appear at the
next command, and during IDLE within :data:`IDLE_POLL` seconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from pymap.backend.dict.mailbox import MailboxData as DictMailboxData
from pymap.backend.dict.mailbox import Message as DictMessage
from pymap.backend.dict.mailbox import _ContentCache, _ThreadCache
from pymap.backend.mailbox import MailboxSetInterface
from pymap.backend.session import BaseSession
from pymap.concurrent import Event
from pymap.config import BackendCapability, IMAPConfig
from pymap.exceptions import MailboxConflict, NotAllowedError
from pymap.flags import FlagOp
from pymap.interfaces.message import CachedMessage
from pymap.listtree import ListTree
from pymap.mailbox import MailboxSnapshot
from pymap.mime import MessageBody, MessageContent, MessageHeader
from pymap.parsing.message import AppendMessage
from pymap.parsing.specials import FetchRequirement, ObjectId
from pymap.parsing.specials.flag import Flag
from pymap.selected import SelectedMailbox

from mss import headers
from mss.store import FOLDERS, INBOX, MailStore, StoredMessage

IDLE_POLL = 0.5  # seconds between looks at the database while a client idles
PREFETCH = 1000  # messages read in one query when a command needs their bytes (FETCH 1:* of 1,000: one)
CONTENT_CACHE = 2000  # parsed messages kept per open folder


def _flags(names: Iterable[str]) -> frozenset[Flag]:
    return frozenset(Flag(n.encode()) for n in names)


def _names(flags: Iterable[Flag]) -> list[str]:
    return sorted(str(f) for f in flags)


class LazyContent(MessageContent):
    """A message's bytes at once, pymap's MIME parse only when a command needs the structure
    (headers, a part, BODYSTRUCTURE, ENVELOPE, SEARCH on a header): ``FETCH RFC822``, ``BODY[]``
    and ``RFC822.SIZE`` are answered from the bytes. Why: the parse costs ~2.4 ms for a 7 KB
    discharge letter with its ``IHE_XDM.ZIP``, ten times the rest of a FETCH; pymap's own demo
    backend parses at APPEND, so its FETCH never pays it."""

    __slots__ = ["_data", "_parsed"]

    def __init__(self, data: bytes) -> None:  # no super().__init__: it would parse
        self._raw = memoryview(data)
        self._data = data
        self._parsed: MessageContent | None = None

    def _content(self) -> MessageContent:
        if self._parsed is None:
            self._parsed = MessageContent.parse(self._data)
        return self._parsed

    @property  # type: ignore[misc]
    def header(self) -> MessageHeader:  # type: ignore[override]
        return self._content().header

    @property  # type: ignore[misc]
    def body(self) -> MessageBody:  # type: ignore[override]
        return self._content().body

    @property  # type: ignore[misc]
    def lines(self) -> int:  # type: ignore[override]
        return self._content().lines

    def __bytes__(self) -> bytes:
        return self._data


class StoredImapMessage(DictMessage):
    """A message whose bytes are read from the store when a command needs them."""

    __slots__ = ["_loader"]

    def __init__(self, *args: Any, loader: Any = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._loader = loader

    async def load_content(self, requirement: FetchRequirement) -> Any:
        if self._content is None and requirement != FetchRequirement.NONE and self._loader is not None:
            self._content = await self._loader()
        return await super().load_content(requirement)


class StoredFolder(DictMailboxData):
    """One folder of one mailbox, synchronised with the store."""

    def __init__(self, st: MailStore, workspace: str, mailbox: str, folder: str) -> None:
        super().__init__(_ContentCache(), _ThreadCache())
        self.store = st
        self.workspace = workspace
        self.mailbox = mailbox
        self.folder = folder
        self._ids: dict[int, int] = {}  # uid -> store id
        self._shas: dict[int, str] = {}  # uid -> sha256 of the bytes
        self._contents: dict[str, MessageContent] = {}  # sha256 -> parsed message, this session only
        self._flags_json: dict[int, str] = {}  # uid -> the flags as the store last gave them

    def _loader(self, sha: str) -> Any:
        async def load() -> MessageContent:
            content = self._contents.get(sha)
            if content is None:
                await self._prefetch(sha)
                content = self._contents[sha]
            return content
        return load

    async def _prefetch(self, sha: str) -> None:
        """Read and parse ``sha`` and the folder's other messages not read yet, in one query (a
        FETCH of a range would otherwise cost a query per message). Parsed contents are shared by
        identical messages, as the store keeps their bytes once."""
        wanted = [sha] + [h for h in self._shas.values() if h not in self._contents and h != sha][:PREFETCH - 1]
        raws = await self.store.raws(self.workspace, wanted)
        if len(self._contents) + len(raws) > CONTENT_CACHE:
            self._contents.clear()
        for h in wanted:
            self._contents[h] = LazyContent(raws.get(h, b""))

    async def sync(self) -> bool:
        """Bring the in-memory view up to date with the store; True if anything changed."""
        state, rows = await self.store.folder_index(self.workspace, self.mailbox, self.folder)
        self._uid_validity = state.uidvalidity
        changed: list[int] = []
        seen: set[int] = set()
        known = self._flags_json
        for row in rows:
            seen.add(row.uid)
            current = self._messages.get(row.uid)
            if current is not None and known.get(row.uid) == row.flags_json:
                continue  # the usual case: nothing changed since the last command
            flags = _flags(row.flags)
            known[row.uid] = row.flags_json
            if current is None:
                self._messages[row.uid] = StoredImapMessage(
                    row.uid, row.received_at, flags, email_id=ObjectId.random_email_id(),
                    thread_id=ObjectId.random_thread_id(), loader=self._loader(row.sha256))
                self._ids[row.uid] = row.id
                self._shas[row.uid] = row.sha256
                changed.append(row.uid)
            elif current.permanent_flags != flags:
                current.permanent_flags = flags
                changed.append(row.uid)
        gone = [uid for uid in self._messages if uid not in seen]
        for uid in gone:
            del self._messages[uid]
            self._ids.pop(uid, None)
            self._shas.pop(uid, None)
            known.pop(uid, None)
        self._max_uid = max(state.next_uid - 1, self._max_uid if self._messages else 0)
        if changed:
            self._mod_sequences.update(changed)
        if gone:
            self._mod_sequences.expunge(gone)
        if changed or gone:
            self._updated.set()
        return bool(changed or gone)

    async def update_selected(self, selected: SelectedMailbox, *,
                              wait_on: Event | None = None) -> SelectedMailbox:
        if wait_on is None:
            await self.sync()
        else:  # IDLE: until the client says DONE or something changed
            while not wait_on.is_set() and not await self.sync():
                await wait_on.wait(timeout=IDLE_POLL)
        return await super().update_selected(selected)

    async def append(self, append_msg: AppendMessage, *, recent: bool = False) -> DictMessage:
        raw = bytes(append_msg.literal)
        h = headers.parse(raw)
        meta = {"sender": headers.text(h.get("From")), "subject": headers.text(h.get("Subject")),
                "message_id": headers.text(h.get("Message-ID"))}
        stored = await self.store.append(self.workspace, self.mailbox, self.folder, raw,
                                         _names(append_msg.flag_set), meta)
        await self.sync()
        return self._messages[stored.uid]

    async def copy(self, uid: int, destination: DictMailboxData, *, recent: bool = False) -> int | None:
        assert isinstance(destination, StoredFolder)
        msg = await self._stored(uid)
        if msg is None:
            return None
        raw = await self.store.raw(self.workspace, msg.sha256) or b""
        stored = await destination.store.append(destination.workspace, destination.mailbox, destination.folder,
                                                raw, msg.flags, {"sender": msg.sender, "subject": msg.subject,
                                                                 "message_id": msg.message_id})
        await destination.sync()
        return stored.uid

    async def move(self, uid: int, destination: DictMailboxData, *, recent: bool = False) -> int | None:
        new_uid = await self.copy(uid, destination, recent=recent)
        if new_uid is not None:
            await self.delete([uid])
        return new_uid

    async def _stored(self, uid: int) -> StoredMessage | None:
        message_id = self._ids.get(uid)
        return await self.store.get(self.workspace, message_id) if message_id is not None else None

    async def update(self, uid: int, cached_msg: CachedMessage, flag_set: frozenset[Flag],
                     mode: FlagOp) -> DictMessage:
        msg = await super().update(uid, cached_msg, flag_set, mode)
        message_id = self._ids.get(uid)
        if message_id is not None and not msg.expunged:
            await self.store.set_flags(self.workspace, message_id, _names(msg.permanent_flags))
        return msg

    async def delete(self, uids: Iterable[int]) -> None:
        uids = list(uids)
        await self.store.delete(self.workspace, [self._ids[u] for u in uids if u in self._ids])
        await super().delete(uids)
        for u in uids:
            self._ids.pop(u, None)

    async def snapshot(self) -> MailboxSnapshot:
        await self.sync()
        return await super().snapshot()


class StoredFolders(MailboxSetInterface[StoredFolder]):
    """INBOX and Sent of one mailbox; folders cannot be created, renamed or deleted."""

    def __init__(self, st: MailStore, workspace: str, mailbox: str) -> None:
        self._folders = {name: StoredFolder(st, workspace, mailbox, name) for name in FOLDERS}
        self._subscribed: set[str] = set(FOLDERS)

    @property
    def delimiter(self) -> str:
        return "/"

    async def set_subscribed(self, name: str, subscribed: bool) -> None:
        (self._subscribed.add if subscribed else self._subscribed.discard)(name)

    async def list_subscribed(self) -> ListTree:
        return ListTree(self.delimiter).update(*sorted(self._subscribed))

    async def list_mailboxes(self) -> ListTree:
        return ListTree(self.delimiter).update(*FOLDERS)

    async def get_mailbox(self, name: str) -> StoredFolder:
        key = INBOX if name.upper() == INBOX else name
        return self._folders[key]  # KeyError = no such folder

    async def add_mailbox(self, name: str) -> ObjectId:
        raise MailboxConflict(name)

    async def delete_mailbox(self, name: str) -> None:
        raise NotAllowedError("Les dossiers INBOX et Sent sont fixes / folders are fixed")

    async def rename_mailbox(self, before: str, after: str) -> None:
        raise NotAllowedError("Les dossiers INBOX et Sent sont fixes / folders are fixed")


class MailSession(BaseSession[DictMessage]):
    def __init__(self, owner: str, config: IMAPConfig, folders: StoredFolders) -> None:
        super().__init__(owner)
        self._config = config
        self._folders = folders

    @property
    def config(self) -> IMAPConfig:
        return self._config

    @property
    def mailbox_set(self) -> StoredFolders:  # type: ignore[override]
        return self._folders


class MailboxIdentity:
    """pymap's identity of a logged-in mailbox (pymap.interfaces.login.IdentityInterface)."""

    def __init__(self, name: str, config: IMAPConfig, st: MailStore, workspace: str) -> None:
        self._name = name
        self.config = config
        self.store = st
        self.workspace = workspace

    @property
    def name(self) -> str:
        return self._name

    @property
    def roles(self) -> frozenset[str]:
        return frozenset()

    @asynccontextmanager
    async def new_session(self) -> AsyncIterator[MailSession]:
        yield MailSession(self._name, self.config, StoredFolders(self.store, self.workspace, self._name))

    async def new_token(self, *, expiration: datetime | None = None) -> str | None:
        return None

    async def get(self) -> Any:
        raise NotAllowedError("no user metadata")

    async def set(self, metadata: Any) -> int | None:
        raise NotAllowedError("no user metadata")

    async def delete(self) -> None:
        raise NotAllowedError("no user metadata")


CAPABILITY = BackendCapability(idle=True, object_id=False, multi_append=False)
