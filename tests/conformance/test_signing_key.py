"""The report-signing key is the deployment's, kept in the database beside the test PKI (issue 19;
conformance/signing.py): a key file of an older version is imported on first start, so the reports it
signed still verify; several nodes starting at once end with one key; the private key is sealed."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from conformance import signing
from conformance.report import seal
from conformance.verify import verify_report
from sandbox import migrate, pki_store
from sandbox.db import Database
from sandbox.services import discover
from sandbox.testing import fresh_database, running_sandbox

SHARED_URL = "http://sandbox.test"


def _legacy_key_file(data_dir: Path) -> signing.OKPKey:
    """A data folder as an older version left it: the key in ``pki/conformance-signing-key.pem``."""
    key = signing.generate()
    path = data_dir / "pki" / signing.LEGACY_KEY_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(key.as_pem(private=True))
    return key


def test_an_older_node_s_key_file_is_imported_and_its_reports_still_verify(tmp_path: Path) -> None:
    old = _legacy_key_file(tmp_path / "a")
    other = _legacy_key_file(tmp_path / "b")  # a second node that had its own key
    signed_before = seal({"verdict": "pass", "tests": []}, old)
    secret = {"pki_secret_file": tmp_path / "pki-secret"}
    with tempfile.TemporaryDirectory(prefix="mes-sandbox-sign-") as tmp, fresh_database(Path(tmp)) as url:
        with running_sandbox(database_url=url, public_base_url=SHARED_URL, data_dir=tmp_path / "a", **secret) as a, \
                running_sandbox(database_url=url, public_base_url=SHARED_URL, data_dir=tmp_path / "b", **secret) as b:
            served = []
            for node in (a, b):
                with node.client() as c:
                    r = c.get("/conformance/api/signing-key")
                assert r.status_code == 200, r.text
                served.append(r.json())
            # the first node's file became the deployment's key; the second node serves it too
            assert [jwk["kid"] for jwk in served] == [old.thumbprint(), old.thumbprint()]
            assert verify_report(signed_before, signing.import_public(served[1])).ok
            # offline verification on either machine trusts the exported public key, not the stale file
            for folder in (tmp_path / "a", tmp_path / "b"):
                local = signing.local_public(folder / "pki")
                assert local is not None and local.thumbprint() == old.thumbprint()
            assert other.thumbprint() != old.thumbprint()  # so B's stale file was really set aside

            async def row() -> pki_store.PkiMaterialRow:
                db = Database(url)
                try:
                    async with db.session() as s:
                        return (await s.scalars(select(pki_store.PkiMaterialRow)
                                                .where(pki_store.PkiMaterialRow.name == signing.ROW))).one()
                finally:
                    await db.dispose()

            stored = asyncio.run(row())
    # sealed at rest: neither the PEM nor the raw private bytes are in the row
    raw = serialization.load_pem_private_key(old.as_pem(private=True), None).private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    assert raw not in stored.key_sealed and b"PRIVATE KEY" not in stored.key_sealed
    assert signing.import_public(stored.cert_pem.encode()).thumbprint() == old.thumbprint()


def test_ten_nodes_starting_at_once_on_an_empty_database_get_one_key(tmp_path: Path) -> None:
    secret = tmp_path / "secret"

    async def run(url: str) -> set[str]:
        db = Database(url)
        try:
            await migrate.upgrade(db, discover())
            keys = await asyncio.gather(*(signing.load_shared(db, tmp_path / f"node{i}" / "pki", secret)
                                          for i in range(10)))
            exported = {signing.local_public(tmp_path / f"node{i}" / "pki").thumbprint()  # type: ignore[union-attr]
                        for i in range(10)}
            return {k.thumbprint() for k in keys} | exported
        finally:
            await db.dispose()

    with tempfile.TemporaryDirectory(prefix="mes-sandbox-sign-") as tmp, fresh_database(Path(tmp)) as url:
        assert len(asyncio.run(run(url))) == 1


def test_a_node_with_another_pki_secret_cannot_open_the_key(tmp_path: Path) -> None:
    async def run(url: str) -> None:
        db = Database(url)
        try:
            await migrate.upgrade(db, discover())
            await signing.load_shared(db, tmp_path / "a", tmp_path / "secret-a")
            pki_store.read_or_create_secret(tmp_path / "secret-b", create=True)
            with pytest.raises(pki_store.PkiSecretError, match="does not open .*MES_SANDBOX_PKI_SECRET_FILE"):
                await signing.load_shared(db, tmp_path / "b", tmp_path / "secret-b")
        finally:
            await db.dispose()

    with tempfile.TemporaryDirectory(prefix="mes-sandbox-sign-") as tmp, fresh_database(Path(tmp)) as url:
        asyncio.run(run(url))
