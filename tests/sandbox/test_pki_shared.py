"""The test PKI in the database (issue 19): every node of one database presents and trusts one CA,
its private keys sealed at rest; the RSA server certificate beside the ECDSA one (issue 17, MSSanté
Ref#2 ECO.1.1.2/1.1.3, FACTS §2.2)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from sandbox import migrate, pki_store
from sandbox.db import Database
from sandbox.pki import CertKind, TestPKI
from sandbox.services import discover
from sandbox.testing import fresh_database, running_sandbox

SHARED_URL = "http://sandbox.test"


def _handshake(port: int, cafile: Path, cipher: str) -> tuple[str, str, str]:
    """(TLS version, cipher, server certificate's key type) of a TLS 1.2 client restricted to ``cipher``."""
    ctx = ssl.create_default_context(cafile=str(cafile))
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(cipher)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        der = tls.getpeercert(binary_form=True)
        assert der is not None
        key = x509.load_der_x509_certificate(der).public_key()
        kind = "rsa" if isinstance(key, rsa.RSAPublicKey) else \
            "ec" if isinstance(key, ec.EllipticCurvePublicKey) else "?"
        version, negotiated = tls.version() or "", (tls.cipher() or ("",))[0]
        return version, negotiated, kind


@pytest.mark.parametrize("cipher,key", [("ECDHE-RSA-AES256-GCM-SHA384", "rsa"), ("ECDHE-RSA-AES128-GCM-SHA256", "rsa"),
                                        ("ECDHE-RSA-AES256-SHA384", "rsa"), ("ECDHE-RSA-AES128-SHA256", "rsa"),
                                        ("ECDHE-ECDSA-AES256-GCM-SHA384", "ec")])
def test_https_port_negotiates_the_mssante_rsa_suites_and_ecdsa(sandbox, cipher, key):
    version, negotiated, kind = _handshake(sandbox.settings.https_port, sandbox.ctx.pki.ca_bundle, cipher)
    assert (version, negotiated, kind) == ("TLSv1.2", cipher, key)


def test_two_nodes_on_one_database_present_and_trust_one_ca(tmp_path):
    with tempfile.TemporaryDirectory(prefix="mes-sandbox-pki-") as tmp, fresh_database(Path(tmp)) as url, \
            running_sandbox(database_url=url, public_base_url=SHARED_URL) as a, \
            running_sandbox(database_url=url, public_base_url=SHARED_URL) as b:
        assert a.settings.data_dir != b.settings.data_dir
        assert a.ctx.pki.root_cert.read_bytes() == b.ctx.pki.root_cert.read_bytes()
        assert a.ctx.pki.ca_bundle.read_bytes() == b.ctx.pki.ca_bundle.read_bytes()
        # a client certificate A issued is accepted and attributed on B's HTTPS listener, and a
        # client trusting A's bundle verifies B's server certificates
        issued = a.ctx.pki.issue(CertKind.ORGANISATION, "INSI-AUTO", tmp_path / "org", identifier="0B0193488")
        corr = uuid.uuid4().hex
        with b.https_client(issued) as c:
            assert c.get("/sandbox/api/workspaces", headers={"X-Correlation-ID": corr}).status_code == 200
        actor = b.exchanges(correlation_id=corr)[0]["actor"]
        assert "CN=INSI-AUTO" in actor and "OU=0B0193488" in actor
        for cipher in ("ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"):
            assert _handshake(b.settings.https_port, a.ctx.pki.ca_bundle, cipher)[0] == "TLSv1.2"


def test_private_keys_are_sealed_at_rest_and_exported_0600(sandbox):
    async def rows() -> list[pki_store.PkiMaterialRow]:
        async with sandbox.ctx.db.session() as s:
            return list((await s.scalars(select(pki_store.PkiMaterialRow))).all())

    found = sandbox.call(rows)
    # the CAs, the server certificates and the conformance report-signing key (conformance/signing.py)
    assert sorted(r.name for r in found) == ["organisations", "professionals", "report-signing", "root", "server",
                                             "server-rsa"]
    sealer = pki_store.Sealer(pki_store.read_or_create_secret(sandbox.settings.pki_secret_path, create=False))
    pki = sandbox.ctx.pki
    for row in found:
        assert b"PRIVATE KEY" not in row.key_sealed and b"-----BEGIN" not in row.key_sealed
        opened = sealer.open(row.name, row.key_sealed)
        assert b"PRIVATE KEY" in opened
    # the folder is the exported cache: keys owner-only, identical to the database's
    for path in (pki.folder / "root-ca.key", pki.server_key, pki.server_rsa_key):
        assert path.stat().st_mode & 0o777 == 0o600
    root = next(r for r in found if r.name == "root")
    assert pki.root_cert.read_text() == root.cert_pem
    # a sealed key moved to another row does not open (the row name is bound to the ciphertext)
    with pytest.raises(pki_store.PkiSecretError):
        sealer.open("server", root.key_sealed)


def test_a_node_with_another_secret_refuses_to_start(tmp_path, caplog):
    other = tmp_path / "other-secret"
    other.write_text("x" * 43 + "\n")
    with tempfile.TemporaryDirectory(prefix="mes-sandbox-pki-") as tmp, fresh_database(Path(tmp)) as url, \
            running_sandbox(database_url=url, public_base_url=SHARED_URL):
        with pytest.raises(RuntimeError, match="failed to start"):
            with running_sandbox(database_url=url, public_base_url=SHARED_URL, pki_secret_file=other):
                pass
    said = [r.getMessage() for r in caplog.records if r.name == "sandbox.app"]
    assert any("MES_SANDBOX_PKI_SECRET_FILE" in m and "does not open" in m for m in said), said


def test_ten_nodes_racing_on_an_empty_database_get_one_ca(tmp_path):
    """Ten first starts at once on one empty database (each with a CA of its own in its folder):
    one insert wins, every folder ends up with the winner's CA."""
    secret = tmp_path / "secret"

    async def run(url: str) -> list[bytes]:
        db = Database(url)
        try:
            await migrate.upgrade(db, discover())
            pkis = [TestPKI(tmp_path / f"node{i}" / "pki") for i in range(10)]
            await asyncio.gather(*(pki_store.sync(p, db, secret) for p in pkis))
            async with db.session() as s:
                count = len((await s.scalars(select(pki_store.PkiMaterialRow))).all())
            assert count == 5
            return [p.root_cert.read_bytes() for p in pkis]
        finally:
            await db.dispose()

    with tempfile.TemporaryDirectory(prefix="mes-sandbox-pki-") as tmp, fresh_database(Path(tmp)) as url:
        roots = asyncio.run(run(url))
    assert len(set(roots)) == 1


def test_an_existing_folder_ca_is_kept_on_upgrade(tmp_path):
    """A sandbox from before the PKI moved to the database keeps the CA its users already trust."""
    folder = TestPKI(tmp_path / "data" / "pki")
    folder.ensure()
    before = folder.root_cert.read_bytes()

    async def run(url: str) -> None:
        db = Database(url)
        try:
            await migrate.upgrade(db, discover())
            await pki_store.sync(folder, db, tmp_path / "secret")
            other = TestPKI(tmp_path / "other" / "pki")
            await pki_store.sync(other, db, tmp_path / "secret")
            assert other.root_cert.read_bytes() == before
        finally:
            await db.dispose()

    with tempfile.TemporaryDirectory(prefix="mes-sandbox-pki-") as tmp, fresh_database(Path(tmp)) as url:
        asyncio.run(run(url))
    assert folder.root_cert.read_bytes() == before


def test_a_missing_or_short_secret_file_is_named_in_one_line(tmp_path):
    with pytest.raises(pki_store.PkiSecretError, match="no PKI secret file .*MES_SANDBOX_PKI_SECRET_FILE"):
        pki_store.read_or_create_secret(tmp_path / "absent", create=False)
    short = tmp_path / "short"
    short.write_text("too-short\n")
    with pytest.raises(pki_store.PkiSecretError, match="fewer than 32 characters"):
        pki_store.read_or_create_secret(short, create=True)
    made = pki_store.read_or_create_secret(tmp_path / "made", create=True)
    assert (tmp_path / "made").stat().st_mode & 0o777 == 0o600 and len(made) >= 32
    assert pki_store.read_or_create_secret(tmp_path / "made", create=True) == made  # created once
