"""Mutated messages and packages never make the checks raise (seeded, so a failure replays), plus the
regressions such mutations found: corrupt deflate streams, unknown XML encodings."""

from __future__ import annotations

import random
import zipfile

from mss_checks_util import message, replace_xdm, unzip, xdm_of, zip_of

import profiles
from mss.checks import check_message
from mss.findings import M
from mss.xdm import read_xdm

META = "IHE_XDM/SUBSET01/METADATA.XML"


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        if not b:
            break
        i = rng.randrange(len(b))
        op = rng.random()
        if op < 0.4:
            b[i] = rng.choice(b'<>"&=/ {}[],:\x00\xff0123456789AZ')
        elif op < 0.7:
            del b[i:i + rng.randint(1, 30)]
        else:
            b[i:i] = b[rng.randrange(len(b)):][:rng.randint(1, 40)]
    return bytes(b)


def test_mutated_messages_and_packages() -> None:
    rng = random.Random(20261206)
    bases = [message("ldl"), message("cr-bio")]
    zips = [xdm_of(b) for b in bases]
    for _ in range(150):
        res = check_message(_mutate(rng, rng.choice(bases)))
        res.to_json()
        read_xdm(_mutate(rng, rng.choice(zips))).to_json()


def test_mutated_files_inside_the_package() -> None:
    rng = random.Random(7)
    bases = [message("ldl"), message("cr-bio")]
    for _ in range(100):
        def change(files: dict[str, bytes]) -> None:
            name = rng.choice(sorted(n for n in files if n.startswith("IHE_XDM")))
            files[name] = _mutate(rng, files[name])

        check_message(replace_xdm(rng.choice(bases), change)).to_json()


def test_corrupt_deflate_stream() -> None:
    data = bytearray(xdm_of(message("cr-bio")))
    start = data.find(b"PK\x03\x04") + 30 + len("INDEX.HTM")
    data[start:start + 8] = b"\xff" * 8
    pkg = read_xdm(bytes(data))
    assert M.ZIP_INVALID in {f.id for f in pkg.findings}


def test_compression_method_other_than_deflate() -> None:
    files = unzip(xdm_of(message("cr-bio")))
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_BZIP2) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    pkg = read_xdm(buf.getvalue())
    assert M.ZIP_INVALID in {f.id for f in pkg.findings} and not pkg.documents


def test_unknown_xml_encoding() -> None:
    bad = b'<?xml version="1.0" encoding="no-such-encoding"?><ClinicalDocument xmlns="urn:hl7-org:v3"/>'
    assert profiles.read_cda_header(bad).issues[0].id == "CDA-XML"
    files = unzip(xdm_of(message("cr-bio")))
    files[META] = b'<?xml version="1.0" encoding="no-such-encoding"?><x/>'
    assert M.XDM_METADATA_XML in {f.id for f in read_xdm(zip_of(files)).findings}
