"""Test PKI, an IGC-Santé look-alike clearly marked TEST (DESIGN "Test PKI"; FACTS §1.2 for the
organisation CA name ``TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS`` and the ``INSI-AUTO`` CN).

At first start: a root CA and two intermediate CAs (organisations and servers; professionals),
plus two server certificates for the TLS listeners: ECDSA P-256 and RSA 2048. MSSanté Ref#2
ECO.1.1.2/1.1.3 (FACTS §2.2) require TLS 1.2 with four ``ECDHE-RSA`` suites, impossible with an
ECDSA-only server key; the server contexts load both chains and OpenSSL picks per cipher.
Organisation certificates carry the FINESS in ``OU`` (as IGC-Santé structure certificates carry the
structure id), professional certificates carry the RPPS/IDNPS in ``CN`` and ``serialNumber``.
Other keys are ECDSA P-256.

The files under the folder are what TLS contexts and users read. A running sandbox keeps the
material itself in the database (:mod:`sandbox.pki_store`, issue 19: every node of one database
presents and trusts one CA) and writes these files as an exported cache (keys 0600).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import ssl
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sandbox.credentials import write_private

ROOT_CN = "TEST AC RACINE IGC-SANTE ELEMENTAIRE (MES-SANDBOX)"
ORG_CA_CN = "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"
PRO_CA_CN = "TEST AC IGC-SANTE ELEMENTAIRE PERSONNES"
TEST_ORG = "MES-SANDBOX TEST - NE PAS UTILISER EN PRODUCTION"


class CertKind(StrEnum):
    SERVER = "server"
    ORGANISATION = "organisation"
    PROFESSIONAL = "professional"


@dataclass(frozen=True)
class Issued:
    cert_pem: Path
    key_pem: Path
    chain_pem: Path
    p12: Path


def _name(cn: str, *, org: str = TEST_ORG, ou: str | None = None, serial: str | None = None,
          given: str | None = None, surname: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    if given:
        attrs.append(x509.NameAttribute(NameOID.GIVEN_NAME, given))
    if surname:
        attrs.append(x509.NameAttribute(NameOID.SURNAME, surname))
    if serial:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


#: the CA and server material a deployment shares: name → (certificate file, key file) under the folder
MATERIAL = {
    "root": ("root-ca.pem", "root-ca.key"),
    "organisations": ("organisations-ca.pem", "organisations-ca.key"),
    "professionals": ("professionals-ca.pem", "professionals-ca.key"),
    "server": ("server/cert.pem", "server/key.pem"),
    "server-rsa": ("server-rsa/cert.pem", "server-rsa/key.pem"),
}


def _pem_key(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class TestPKI:
    """The sandbox's CA material under ``<data_dir>/pki``; created once, reused afterwards."""

    __test__ = False  # not a pytest class

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    # -- layout ---------------------------------------------------------------------------
    @property
    def root_cert(self) -> Path:
        return self.folder / "root-ca.pem"

    @property
    def ca_bundle(self) -> Path:
        """Root + intermediates: what clients and servers trust."""
        return self.folder / "ca-bundle.pem"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server" / "cert.pem"

    @property
    def server_key(self) -> Path:
        return self.folder / "server" / "key.pem"

    @property
    def server_chain(self) -> Path:
        return self.folder / "server" / "chain.pem"

    @property
    def server_rsa_key(self) -> Path:
        return self.folder / "server-rsa" / "key.pem"

    @property
    def server_rsa_chain(self) -> Path:
        """The RSA server certificate's chain (for the ``ECDHE-RSA`` suites of MSSanté Ref#2)."""
        return self.folder / "server-rsa" / "chain.pem"

    def _ca_paths(self, label: str) -> tuple[Path, Path]:
        return self.folder / f"{label}-ca.pem", self.folder / f"{label}-ca.key"

    # -- creation -------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the CAs and the server certificates if they do not exist yet (files only; a
        running sandbox then aligns the folder with the database, :mod:`sandbox.pki_store`)."""
        if self.server_chain.exists() and self.ca_bundle.exists():
            if not self.server_rsa_chain.exists():  # a folder from before the RSA certificate
                self.issue(CertKind.SERVER, "localhost", self.server_rsa_chain.parent, rsa_key=True)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name(ROOT_CN)
        root = self._sign(root_name, root_name, root_key.public_key(), root_key, now, 3650, ca=True)
        self._write(self.folder / "root-ca.key", _pem_key(root_key), secret=True)
        self._write(self.root_cert, _pem(root))
        bundle = [_pem(root)]
        for label, cn in (("organisations", ORG_CA_CN), ("professionals", PRO_CA_CN)):
            key = ec.generate_private_key(ec.SECP256R1())
            cert = self._sign(_name(cn), root_name, key.public_key(), root_key, now, 3650, ca=True)
            cert_path, key_path = self._ca_paths(label)
            self._write(key_path, _pem_key(key), secret=True)
            self._write(cert_path, _pem(cert))
            bundle.append(_pem(cert))
        self._write(self.ca_bundle, b"".join(bundle))
        self.issue(CertKind.SERVER, "localhost", self.server_cert.parent)
        self.issue(CertKind.SERVER, "localhost", self.server_rsa_chain.parent, rsa_key=True)

    # -- the material a deployment shares -------------------------------------------------
    def material(self) -> dict[str, tuple[bytes, bytes]]:
        """name → (certificate PEM, private key PEM) of the CAs and server certificates on disk."""
        return {name: ((self.folder / cert).read_bytes(), (self.folder / key).read_bytes())
                for name, (cert, key) in MATERIAL.items()}

    def install(self, material: dict[str, tuple[bytes, bytes]]) -> bool:
        """Write ``material`` (from the database) as the folder's files, with the CA bundle and the
        server chains derived from it; files already identical are left alone. Whether anything
        changed."""
        root, org = material["root"][0], material["organisations"][0]
        files: dict[Path, tuple[bytes, bool]] = {}
        for name, (cert, key) in MATERIAL.items():
            files[self.folder / cert] = (material[name][0], False)
            files[self.folder / key] = (material[name][1], True)
        files[self.ca_bundle] = (root + org + material["professionals"][0], False)
        files[self.server_chain] = (material["server"][0] + org + root, False)
        files[self.server_rsa_chain] = (material["server-rsa"][0] + org + root, False)
        changed = False
        for path, (data, secret) in files.items():
            try:
                if path.read_bytes() == data:
                    continue
            except OSError:
                pass
            self._write(path, data, secret=secret)
            changed = True
        if changed:  # the server's PKCS#12 of an older folder would name another CA
            (self.server_cert.parent / "cert.p12").unlink(missing_ok=True)
        return changed

    def issue(self, kind: CertKind, subject: str, out: Path, *, identifier: str = "",
              organisation: str = "", given: str = "", surname: str = "", days: int = 825,
              password: str = "", rsa_key: bool = False) -> Issued:
        """Issue a leaf certificate; write PEM (cert, key, chain) and PKCS#12 into ``out``.

        - server: ``subject`` is the DNS name (``localhost``, ``127.0.0.1`` and ``::1`` are added);
        - organisation: ``subject`` is the CN (e.g. ``INSI-AUTO``), ``identifier`` the FINESS;
        - professional: ``subject`` is the RPPS/IDNPS.

        ``rsa_key``: an RSA 2048 key instead of ECDSA P-256 (the RSA server certificate).
        """
        ca_label = "professionals" if kind is CertKind.PROFESSIONAL else "organisations"
        ca_cert_path, ca_key_path = self._ca_paths(ca_label)
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048) if rsa_key
            else ec.generate_private_key(ec.SECP256R1()))
        if kind is CertKind.SERVER:
            name = _name(subject)
        elif kind is CertKind.ORGANISATION:
            name = _name(subject, org=organisation or TEST_ORG, ou=identifier or None)
        else:
            name = _name(subject, ou="TEST", serial=identifier or subject, given=given or None,
                         surname=surname or None)
        now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        cert = self._sign(name, ca_cert.subject, key.public_key(), ca_key, now, days, leaf=kind,
                          san=subject if kind is CertKind.SERVER else None, rsa_leaf=rsa_key)
        out.mkdir(parents=True, exist_ok=True)
        chain = _pem(cert) + ca_cert_path.read_bytes() + self.root_cert.read_bytes()
        issued = Issued(out / "cert.pem", out / "key.pem", out / "chain.pem", out / "cert.p12")
        self._write(issued.cert_pem, _pem(cert))
        self._write(issued.key_pem, _pem_key(key), secret=True)
        self._write(issued.chain_pem, chain)
        encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                      else serialization.NoEncryption())
        p12 = pkcs12.serialize_key_and_certificates(
            subject.encode(), key, cert, [ca_cert, x509.load_pem_x509_certificate(self.root_cert.read_bytes())],
            encryption,
        )
        self._write(issued.p12, p12, secret=True)
        return issued

    @staticmethod
    def _sign(subject: x509.Name, issuer: x509.Name, public_key, signing_key, not_before: dt.datetime,
              days: int, *, ca: bool = False, leaf: CertKind | None = None, san: str | None = None,
              rsa_leaf: bool = False):  # noqa: ANN001
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
             .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
             .not_valid_before(not_before).not_valid_after(not_before + dt.timedelta(days=days))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))
        if ca:
            b = b.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                              key_encipherment=False, data_encipherment=False,
                                              key_agreement=False, key_cert_sign=True, crl_sign=True,
                                              encipher_only=False, decipher_only=False), critical=True)
        else:  # an RSA key signs (ECDHE-RSA) or enciphers; an EC key signs or agrees
            b = b.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                              key_encipherment=rsa_leaf, data_encipherment=False,
                                              key_agreement=not rsa_leaf, key_cert_sign=False, crl_sign=False,
                                              encipher_only=False, decipher_only=False), critical=True)
            usages = [ExtendedKeyUsageOID.SERVER_AUTH] if leaf is CertKind.SERVER else [ExtendedKeyUsageOID.CLIENT_AUTH]
            b = b.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        if san:
            names: list[x509.GeneralName] = [x509.DNSName(san)]
            if san != "localhost":
                names.append(x509.DNSName("localhost"))
            names += [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
            b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return b.sign(signing_key, hashes.SHA256())

    @staticmethod
    def _write(path: Path, data: bytes, secret: bool = False) -> None:
        if secret:  # 0600 from the first byte, not after a window where others could read it
            write_private(path, data)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    # -- TLS contexts ---------------------------------------------------------------------
    def server_context(self, *, client_certs: ssl.VerifyMode = ssl.CERT_OPTIONAL) -> ssl.SSLContext:
        """TLS ≥ 1.2 server context with both sandbox certificates (ECDSA and RSA: OpenSSL picks
        the one the negotiated suite needs), trusting the test CAs."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.server_chain, self.server_key)
        if self.server_rsa_chain.exists():
            ctx.load_cert_chain(self.server_rsa_chain, self.server_rsa_key)
        ctx.load_verify_locations(self.ca_bundle)
        ctx.verify_mode = client_certs
        return ctx

    def client_context(self, issued: Issued | None = None) -> ssl.SSLContext:
        """Client context trusting the test CAs, optionally presenting ``issued``."""
        ctx = ssl.create_default_context(cafile=str(self.ca_bundle))
        if issued is not None:
            ctx.load_cert_chain(issued.chain_pem, issued.key_pem)
        return ctx
