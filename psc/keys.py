"""Signing keys of the provider: ES256 and RS256, ``kid`` in every JWS header, JWKS with public
parts only (RFC 7517 §4), rotation that keeps a retired key published until the last token it
signed has expired (OIDC Core §10.1.1).

Keys live in ``psc_keys`` (not workspace-scoped) so several nodes on one PostgreSQL share them; each
process keeps them loaded. The table is watched (:mod:`sandbox.changes`): a rotation commits the new
key and the change record together, and every process checks the record before using its keys
(signing, verifying, serving the JWKS), so the new key is in every node's JWKS from the moment any
node can sign with it — a token signed with it exists only after the commit, and a JWKS asked for
after that token reloads first. The change notification makes the other nodes reload at once (the
RSA import is not paid on a request); :data:`REFRESH_SECONDS` only bounds changes made by hand.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select, update

from psc.models import PscKeyRow
from sandbox.changes import watch
from sandbox.db import Database, as_utc

SUPPORTED_ALGS = ("ES256", "RS256")
KEYS = watch(PscKeyRow.__table__)
REFRESH_SECONDS = 10.0
#: advisory lock key of the one-time key creation (:meth:`sandbox.db.Database.serialize`)
KEYS_LOCK = 727275
#: extra time a retired key stays published beyond the longest token lifetime (clock skew, clients'
#: JWKS caches)
PUBLISH_SLACK = timedelta(seconds=REFRESH_SECONDS + 5)

Key = ECKey | RSAKey


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    key: Key
    active: bool
    publish_until: datetime | None

    def public_jwk(self) -> dict[str, Any]:
        return {**self.key.as_dict(private=False), "kid": self.kid, "alg": self.alg, "use": "sig"}


def _generate(alg: str) -> Key:
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True)
    if alg == "RS256":
        return RSAKey.generate_key(2048, private=True)
    raise ValueError(f"unsupported signing alg {alg!r}")


def _load(row: PscKeyRow, known: SigningKey | None) -> SigningKey:
    """The row as a key; an already imported key is reused (importing an RSA PEM costs ~40 ms)."""
    if known is not None:
        key = known.key
    else:
        params = {"kid": row.kid, "alg": row.alg, "use": "sig"}
        key = (ECKey if row.alg == "ES256" else RSAKey).import_key(row.private_pem, parameters=params)
    return SigningKey(row.kid, row.alg, key, row.retired_at is None,
                      as_utc(row.publish_until) if row.publish_until else None)


def _new_row(alg: str, now: datetime) -> PscKeyRow:
    kid = f"{alg.lower()}-{now:%Y%m%d}-{secrets.token_hex(4)}"
    pem = _generate(alg).as_pem(private=True).decode()
    return PscKeyRow(kid=kid, alg=alg, private_pem=pem, created_at=now)


class KeyStore:
    """Node-local view of the shared keys."""

    def __init__(self, db: Database, max_token_lifetime: int) -> None:
        self.db = db
        self.max_token_lifetime = max_token_lifetime
        self._keys: dict[str, SigningKey] = {}
        self._loaded = 0.0
        self._stamp: int | None = None  # the change record the loaded keys match
        self._lock = asyncio.Lock()
        self._eager: asyncio.Task[None] | None = None
        db.changes.on_change(KEYS.name, self._reload_soon)

    def _reload_soon(self) -> None:
        """Another process rotated: load the new keys now, before a request needs them."""
        if self._eager is None or self._eager.done():
            self._eager = asyncio.get_running_loop().create_task(self._fresh(force=True))

    async def ensure(self) -> None:
        """Create an active key for each supported alg if the database has none."""
        async with self.db.session() as s:
            await self.db.serialize(s, KEYS_LOCK)  # several nodes may start at once: one creates the keys
            active = set((await s.scalars(
                select(PscKeyRow.alg).where(PscKeyRow.retired_at.is_(None)))).all())
            now = datetime.now(UTC)
            for alg in SUPPORTED_ALGS:
                if alg not in active:
                    s.add(_new_row(alg, now))
        await self.reload()

    async def reload(self) -> None:
        stamp = await self.db.changes.stamp((KEYS.name,))  # read before the rows: never newer than them
        async with self.db.session() as s:
            rows = (await s.scalars(select(PscKeyRow).order_by(PscKeyRow.created_at))).all()
            self._keys = {r.kid: _load(r, self._keys.get(r.kid)) for r in rows}
        self._loaded, self._stamp = time.monotonic(), stamp

    def _stale(self, stamp: int) -> bool:
        return not self._keys or stamp != self._stamp or time.monotonic() - self._loaded > REFRESH_SECONDS

    async def _fresh(self, *, force: bool = False) -> None:
        stamp = await self.db.changes.stamp((KEYS.name,))
        if force or self._stale(stamp):
            async with self._lock:
                if force or self._stale(await self.db.changes.stamp((KEYS.name,))):
                    await self.reload()

    async def signer(self, alg: str) -> SigningKey:
        """The active key for ``alg`` (newest if, transiently, two are active)."""
        await self._fresh()
        for _ in range(2):
            active = [k for k in self._keys.values() if k.alg == alg and k.active]
            if active:
                return active[-1]
            await self.ensure()
        raise LookupError(f"no active {alg} key")

    async def find(self, kid: str) -> SigningKey | None:
        """A published key by ``kid`` (reloads once when the kid is unknown to this node)."""
        await self._fresh()
        key = self._keys.get(kid)
        if key is None and time.monotonic() - self._loaded > 1.0:
            await self.reload()
            key = self._keys.get(kid)
        if key is None or not self._published(key, datetime.now(UTC)):
            return None
        return key

    @staticmethod
    def _published(key: SigningKey, now: datetime) -> bool:
        return key.active or (key.publish_until is not None and key.publish_until > now)

    async def jwks(self) -> dict[str, Any]:
        await self._fresh()
        now = datetime.now(UTC)
        return {"keys": [k.public_jwk() for k in self._keys.values() if self._published(k, now)]}

    async def rotate(self, algs: tuple[str, ...] = SUPPORTED_ALGS) -> list[str]:
        """Retire the active key of each alg, publish it until its tokens expired, make a new one.

        Returns the new kids. Retired keys whose publication ended are deleted.
        """
        now = datetime.now(UTC)
        until = now + timedelta(seconds=self.max_token_lifetime) + PUBLISH_SLACK
        new = []
        async with self.db.session() as s:
            await s.execute(update(PscKeyRow)
                            .where(PscKeyRow.alg.in_(algs), PscKeyRow.retired_at.is_(None))
                            .values(retired_at=now, publish_until=until))
            for row in (await s.scalars(select(PscKeyRow).where(PscKeyRow.retired_at.is_not(None)))).all():
                if row.publish_until is not None and as_utc(row.publish_until) < now:
                    await s.delete(row)
            for alg in algs:
                row = _new_row(alg, now)
                s.add(row)
                new.append(row.kid)
        await self.reload()
        return new
