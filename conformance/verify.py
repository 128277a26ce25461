"""Offline verification of a signed report (DESIGN "Reports": ``verify`` needs nothing but the
report, the public key and, optionally, the cited evidence bodies).

It names what was altered rather than answering yes or no: a file that is not JSON (and where it
stops), bytes that are not the canonical form, a signature by another key, a manifest whose
signature fails, each report part whose digest changed (``tests/dpi-ldl.dmp.03``), each evidence
body whose SHA-256 does not match.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

from conformance.canonical import CanonicalError, canonical_bytes
from conformance.report import manifest
from conformance.signing import ALG, SignatureError, header_of, verify_detached
from conformance.text import Text

SIGNATURE_MEMBERS = {"alg", "kid", "manifest", "jws"}


@dataclass(frozen=True)
class Problem:
    id: str
    where: str
    text: Text


@dataclass
class Verification:
    problems: list[Problem] = field(default_factory=list)
    report: dict[str, Any] | None = None
    kid: str = ""
    evidence_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, pid: str, where: str, fr: str, en: str) -> None:
        self.problems.append(Problem(pid, where, Text(fr, en)))


def _first_difference(a: bytes, b: bytes) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def _ends_early(data: bytes) -> bool:
    """True when the text stops inside a string or with objects or arrays still open (or is empty):
    what a truncated file looks like, as opposed to bytes that are wrong where they stand."""
    depth = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):
            depth += 1
        elif byte in (0x7D, 0x5D):
            depth -= 1
    return in_string or depth > 0 or not data.strip()


def verify_report(data: bytes, trusted: OKPKey | None, evidence_dir: Path | None = None) -> Verification:
    v = Verification()
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        v.add("verify.not-utf8", f"byte {exc.start}", f"le fichier n'est pas de l'UTF-8 (octet {exc.start})",
              f"the file is not UTF-8 (byte {exc.start})")
        return v
    except json.JSONDecodeError as exc:
        if _ends_early(data):
            v.add("verify.truncated", f"byte {len(data)}",
                  f"le fichier s'arrête avant la fin du rapport (tronqué à l'octet {len(data)})",
                  f"the file ends before the report does (truncated at byte {len(data)})")
        else:
            v.add("verify.not-json", f"byte {exc.pos}",
                  f"le fichier n'est pas du JSON valide à l'octet {exc.pos} ({exc.msg})",
                  f"the file is not valid JSON at byte {exc.pos} ({exc.msg})")
        return v
    if not (isinstance(doc, dict) and isinstance(doc.get("report"), dict) and isinstance(doc.get("signature"), dict)):
        v.add("verify.not-a-report", "/", "le fichier n'est pas un rapport signé (report + signature attendus)",
              "the file is not a signed report (report + signature expected)")
        return v
    report: dict[str, Any] = doc["report"]
    signature: dict[str, Any] = doc["signature"]
    v.report = report
    try:
        canonical = canonical_bytes(doc)
    except CanonicalError as exc:
        canonical = b""
        v.add("verify.not-canonical", "/", f"contenu non canonicalisable : {exc}",
              f"content cannot be canonicalised: {exc}")
    if canonical and canonical != data:
        at = _first_difference(canonical, data)
        v.add("verify.not-canonical", f"byte {at}",
              f"les octets du fichier ne sont pas la forme canonique de son contenu : modifiés vers l'octet {at}",
              f"the file's bytes are not the canonical form of its content: altered near byte {at}")

    signed = signature.get("manifest")
    jws_value = signature.get("jws")
    if not isinstance(signed, dict) or not isinstance(jws_value, str):
        v.add("verify.no-signature", "signature", "la signature ou son manifeste manque",
              "the signature or its manifest is missing")
        return v
    try:
        v.kid = str(header_of(jws_value).get("kid", ""))
    except SignatureError as exc:
        v.add("verify.bad-signature", "signature.jws", f"signature illisible : {exc}", f"unreadable signature: {exc}")
        return v
    if signature.get("kid") != v.kid or signature.get("alg") != ALG or set(signature) != SIGNATURE_MEMBERS:
        v.add("verify.signature-altered", "signature",
              "les champs de la signature (alg, kid) ne sont plus ceux de la JWS signée",
              "the signature's fields (alg, kid) no longer match the signed JWS")
    if trusted is None:
        v.add("verify.no-trusted-key", "signature", "aucune clé de confiance pour vérifier la signature",
              "no trusted key to check the signature against")
    else:
        expected = trusted.thumbprint()
        if v.kid != expected:
            v.add("verify.other-key", "signature.kid",
                  f"signé par une autre clé (kid {v.kid or '(aucun)'}) que la clé de confiance (kid {expected})",
                  f"signed by another key (kid {v.kid or '(none)'}) than the trusted key (kid {expected})")
        else:
            try:
                verify_detached(jws_value, canonical_bytes(signed), trusted)
            except (SignatureError, CanonicalError):
                v.add("verify.bad-signature", "signature",
                      "la signature ne correspond pas au manifeste : le manifeste ou la signature a été modifié",
                      "the signature does not match the manifest: the manifest or the signature was altered")

    try:
        actual = manifest(report)
    except CanonicalError as exc:
        v.add("verify.not-canonical", "report", f"rapport non canonicalisable : {exc}",
              f"report cannot be canonicalised: {exc}")
        return v
    raw_parts = signed.get("parts")
    signed_parts: dict[str, Any] = raw_parts if isinstance(raw_parts, dict) else {}
    for part in sorted(set(signed_parts) | set(actual["parts"])):
        if part not in actual["parts"]:
            v.add("verify.part-removed", part, f"partie supprimée du rapport : {part}",
                  f"part removed from the report: {part}")
        elif part not in signed_parts:
            v.add("verify.part-added", part, f"partie ajoutée au rapport : {part}", f"part added to the report: {part}")
        elif signed_parts[part] != actual["parts"][part]:
            v.add("verify.part-altered", part, f"partie modifiée : {part}", f"part altered: {part}")
    if signed.get("report_sha256") != actual["report_sha256"] and not any(
            p.id.startswith("verify.part-") for p in v.problems):
        v.add("verify.part-altered", "report", "le rapport a été modifié", "the report was altered")

    if evidence_dir is not None:
        _check_evidence(v, report, evidence_dir)
    return v


def _check_evidence(v: Verification, report: dict[str, Any], folder: Path) -> None:
    raw = report.get("evidence")
    cited: dict[str, Any] = raw if isinstance(raw, dict) else {}
    excerpts: dict[str, str] = {}
    for t in report.get("tests", []):
        for ex in t.get("exchanges", []):
            for body in (ex.get("request_body"), ex.get("response_body")):
                if isinstance(body, dict):
                    excerpts[body.get("sha256", "")] = body.get("excerpt", "")
    for sha, meta in sorted(cited.items()):
        path = next((p for p in (folder / sha, folder / f"{sha}.bin") if p.is_file()), None)
        if path is None:
            v.add("verify.evidence-missing", f"evidence/{sha}", f"corps de preuve absent du dossier : {sha}",
                  f"evidence body missing from the folder: {sha}")
            continue
        data = path.read_bytes()
        v.evidence_checked += 1
        if hashlib.sha256(data).hexdigest() == sha:
            continue
        if isinstance(meta, dict) and meta.get("cut_in_store") and len(data) < int(meta.get("size", 0)):
            excerpt = excerpts.get(sha, "")
            if data[: len(excerpt.encode())].decode("utf-8", errors="replace").startswith(excerpt[:256]):
                continue  # the sandbox kept only the start of this body: its digest cannot be recomputed
        v.add("verify.evidence-altered", f"evidence/{sha}",
              f"le corps de preuve {path.name} ne correspond pas à son empreinte SHA-256 citée",
              f"evidence body {path.name} does not match its cited SHA-256")
