"""One public base URL for the whole deployment (issue 19; DESIGN "Persistence").

Every node of a deployment shares one database, and clients must see one sandbox: one OIDC
issuer, one address in links and stored document URLs. The first node to start records its public
base URL (``MES_SANDBOX_PUBLIC_BASE_URL``, else ``http://<host>:<port>``) in the ``deployment``
table; a node whose URL differs refuses to start, with one line saying how to fix it, unless it is
told to take the deployment over (setting ``MES_SANDBOX_TAKE_OVER_PUBLIC_BASE_URL`` or
``mes-sandbox serve --take-over-public-base-url``), which records its URL instead.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from sandbox.db import Database
from sandbox.models import DeploymentRow
from sandbox.settings import Settings

__all__ = ["BASE_URL_KEY", "BaseUrlMismatch", "claim_base_url"]

BASE_URL_KEY = "public_base_url"
_LOCK = 727275  # advisory lock key (PostgreSQL) of the first record, beside migrations' 727274

MESSAGES = {
    "fr": ("deployment-base-url-mismatch: cette base de données sert l'URL publique {recorded} ; ce nœud "
           "annoncerait {mine}. Donnez-lui MES_SANDBOX_PUBLIC_BASE_URL={recorded} (la même adresse que les "
           "autres nœuds), ou reprenez le déploiement avec `mes-sandbox serve --take-over-public-base-url` "
           "(MES_SANDBOX_TAKE_OVER_PUBLIC_BASE_URL=true)."),
    "en": ("deployment-base-url-mismatch: this database serves the public base URL {recorded}; this node "
           "would announce {mine}. Give it MES_SANDBOX_PUBLIC_BASE_URL={recorded} (the address the other "
           "nodes share), or take the deployment over with `mes-sandbox serve --take-over-public-base-url` "
           "(MES_SANDBOX_TAKE_OVER_PUBLIC_BASE_URL=true)."),
}


class BaseUrlMismatch(RuntimeError):
    """This node's public base URL is not the one the deployment's database records."""

    def __init__(self, recorded: str, mine: str, language: str) -> None:
        super().__init__(MESSAGES.get(language, MESSAGES["fr"]).format(recorded=recorded, mine=mine))
        self.recorded = recorded
        self.mine = mine


async def claim_base_url(db: Database, settings: Settings) -> str:
    """Record this node's base URL at first start, or check it against the recorded one (raises
    :class:`BaseUrlMismatch`); with the take-over setting, record it in any case. Returns it."""
    mine = settings.base_url
    for _ in range(2):  # a second pass only when a concurrent first start won the insert
        try:
            async with db.session() as s:
                await db.serialize(s, _LOCK)
                row = await s.get(DeploymentRow, BASE_URL_KEY)
                if row is None:
                    s.add(DeploymentRow(key=BASE_URL_KEY, value=mine, updated_at=datetime.now(UTC)))
                    await s.flush()
                elif row.value != mine:
                    if not settings.take_over_public_base_url:
                        raise BaseUrlMismatch(row.value, mine, settings.language)
                    row.value, row.updated_at = mine, datetime.now(UTC)
            return mine
        except IntegrityError:
            continue
    raise RuntimeError("could not record the deployment's public base URL")
