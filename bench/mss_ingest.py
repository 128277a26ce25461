"""MSSanté throughput (issue 17 "Performance"), each figure beside a baseline measured in the same run:

- **SMTP ingest**: messages per second from ``--senders`` concurrent smtplib clients, each on its
  own session (STARTTLS + professional client certificate), sending a CR-BIO message with its
  ``IHE_XDM.ZIP`` (XDM parse, CDA header, FHIR/CDA checks, storage in INBOX and Sent, evidence);
  baseline: a bare aiosmtpd sink (STARTTLS with the same server certificate and client
  certificate, ``250`` without looking at the message) in its own process, same senders.
- **IMAP FETCH**: ``FETCH 1:* (RFC822)`` of the ``--messages`` messages in one INBOX over
  STARTTLS; baseline: the same fetch against pymap's own in-memory demo backend (``pymap dict``)
  holding as many messages of the same size, same TLS. Every message differs (its Message-ID).

    python bench/mss_ingest.py [--messages 1000] [--senders 4] [--workers 1]
    MES_SANDBOX_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres python bench/mss_ingest.py

Targets: ≥ 100 messages/s and ≥ 40 % of the bare sink. The sandbox runs as its own
``mes-sandbox serve`` process so the load generator does not share its GIL.
"""

from __future__ import annotations

import argparse
import imaplib
import json
import os
import re
import secrets
import shutil
import smtplib
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from proc_cpu import cpu_seconds  # noqa: E402

from mss.samples import build_message  # noqa: E402
from sandbox.pki import CertKind, TestPKI  # noqa: E402
from sandbox.testing import free_port, fresh_database  # noqa: E402

PRO = "899700218896"
SINK = r"""
import asyncio, ssl, sys
from aiosmtpd.smtp import SMTP
from sandbox.server import run, bind

class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

async def main(port, chain, key, ca):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(chain, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    loop = asyncio.get_running_loop()
    sock = bind("127.0.0.1", port)
    sock.listen(512)
    handler = Sink()
    await loop.create_server(lambda: SMTP(handler, tls_context=ctx, require_starttls=True, hostname="sink",
                                          data_size_limit=26 * 1024 * 1024, loop=loop), sock=sock)
    print("ready", flush=True)
    await asyncio.Event().wait()

run(main(int(sys.argv[1]), *sys.argv[2:]))
"""


def _wait_port(port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as s:
                s.noop()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{what} did not start") from None
            time.sleep(0.2)



def variant(raw: bytes, n: int) -> bytes:
    """``raw`` with its own Message-ID: every message sent is distinct, as a real client's are (the
    store keeps identical bytes once, which would flatter the IMAP figure)."""
    return re.sub(rb"(?m)^Message-ID: <[^>]*>", b"Message-ID: <bench-%d-%s@sandbox.invalid>"
                  % (n, uuid.uuid4().hex.encode()), raw, count=1)


def send_all(port: int, tls: ssl.SSLContext, sender: str, rcpt: str, raw: bytes, total: int,
             senders: int) -> float:
    """Messages per second: ``senders`` threads, one SMTP session each, each message distinct."""
    per = [total // senders + (1 if n < total % senders else 0) for n in range(senders)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(senders + 1)

    def work(count: int) -> None:
        try:
            with smtplib.SMTP("localhost", port, timeout=60) as s:
                s.starttls(context=tls)
                s.ehlo()
                bodies = [variant(raw, n) for n in range(count)]
                barrier.wait()
                for body in bodies:
                    refused = s.sendmail(sender, [rcpt], body)
                    assert refused == {}, refused
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            try:
                barrier.abort()
            except threading.BrokenBarrierError:
                pass

    threads = [threading.Thread(target=work, args=(n,)) for n in per]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"sending failed: {errors[0]!r}")
    return total / elapsed


def fetch_all(port: int, tls: ssl.SSLContext, login) -> tuple[float, int]:  # noqa: ANN001 - callable
    m = imaplib.IMAP4("localhost", port, timeout=120)
    m.starttls(ssl_context=tls)
    login(m)
    typ, data = m.select("INBOX", readonly=True)
    count = int(data[0] or 0)
    start = time.perf_counter()
    typ, fetched = m.fetch("1:*", "(RFC822)")
    elapsed = time.perf_counter() - start
    assert typ == "OK" and sum(1 for part in fetched if isinstance(part, tuple)) == count
    m.logout()
    return elapsed, count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--fetch-rounds", type=int, default=5, help="FETCH rounds against each server (median)")
    ap.add_argument("--workers", type=int, default=1, help="worker processes of the sandbox (serve --workers)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="mss-bench-"))
    procs: list[subprocess.Popen] = []
    try:
        with fresh_database(tmp) as url:  # SQLite, or PostgreSQL per MES_SANDBOX_TEST_DATABASE_URL
            ports = {k: free_port() for k in ("PORT", "HTTPS_PORT", "SMTP_PORT", "SMTPS_PORT", "IMAP_PORT",
                                               "IMAPS_PORT")}
            key = secrets.token_urlsafe(24)  # /sandbox/api needs the operator key
            env = {**os.environ, "MES_SANDBOX_DATA_DIR": str(tmp), "MES_SANDBOX_DATABASE_URL": url,
                   "MES_SANDBOX_OPERATOR_KEY": key,
                   **{f"MES_SANDBOX_{k}": str(v) for k, v in ports.items()}}
            sandbox = subprocess.Popen([sys.executable, "-c", "from sandbox.cli import main; main()", "serve",
                                        "--workers", str(args.workers)],
                                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(sandbox)
            _wait_port(ports["SMTP_PORT"], sandbox, "the sandbox")
            base = f"http://127.0.0.1:{ports['PORT']}"

            def api(path: str) -> dict:
                req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {key}"})
                return json.load(urllib.request.urlopen(req, timeout=30))

            api("/sandbox/api/workspaces")
            robert = api(f"/sandbox/api/personas/professional/{PRO}")
            patient = api("/sandbox/api/personas/patient/pat-0001")
            pros = api("/sandbox/api/personas?kind=professional&limit=100")
            gp = next(p for p in pros["personas"] if p["id"] != PRO)
            pki = TestPKI(tmp / "pki")
            cert = pki.issue(CertKind.PROFESSIONAL, PRO, tmp / "pro")
            gp_cert = pki.issue(CertKind.PROFESSIONAL, gp["id"], tmp / "gp")
            tls = pki.client_context(cert)
            raw = build_message("cr-bio", sender=robert["mailbox"], recipients=[gp["mailbox"]],
                                patient_ins=patient["matricule"], patient=patient, patient_oid=patient["ins"]["oid"])
            print(f"message: CR-BIO with IHE_XDM.ZIP, {len(raw)} bytes; {args.senders} senders, "
                  f"STARTTLS + client certificate; sandbox workers: {args.workers}")

            sink_port = free_port()
            sink = subprocess.Popen([sys.executable, "-c", SINK, str(sink_port), str(pki.server_chain),
                                     str(pki.server_key), str(pki.ca_bundle)], stdout=subprocess.PIPE, text=True)
            procs.append(sink)
            _wait_port(sink_port, sink, "the sink")

            cpu_ms: dict[str, list[float]] = {"sandbox": [], "sink": []}

            def measured(name: str, proc: subprocess.Popen, port: int, n: int) -> float:
                before = cpu_seconds(proc.pid)
                rate = send_all(port, tls, robert["mailbox"], gp["mailbox"], raw, n, args.senders)
                cpu_ms[name].append((cpu_seconds(proc.pid) - before) * 1000 / n)
                return rate

            def sandbox_round(n: int) -> float:
                return measured("sandbox", sandbox, ports["SMTP_PORT"], n)

            def sink_round(n: int) -> float:
                return measured("sink", sink, sink_port, n)

            sink_round(args.warmup)
            sandbox_round(args.warmup)
            sink_rate = sink_round(args.messages)
            rate = sandbox_round(args.messages - args.warmup)
            sink_rate2 = sink_round(args.messages)
            baseline = (sink_rate + sink_rate2) / 2
            print(f"SMTP ingest   sandbox {rate:8.1f} msg/s   bare aiosmtpd sink {baseline:8.1f} msg/s "
                  f"(rounds {sink_rate:.1f}, {sink_rate2:.1f})   ratio {rate / baseline:6.1%}   "
                  f"target ≥ 100 msg/s and ≥ 40 %: {'met' if rate >= 100 and rate / baseline >= 0.4 else 'NOT met'}")
            sandbox_cpu, sink_cpu = cpu_ms["sandbox"][-1], sum(cpu_ms["sink"][-2:]) / 2
            print(f"CPU per message   sandbox {sandbox_cpu:6.2f} ms   sink {sink_cpu:6.2f} ms   "
                  f"ratio (sink/sandbox) {sink_cpu / sandbox_cpu:6.1%}   load average {os.getloadavg()[0]:.2f}")

            gp_tls = pki.client_context(gp_cert)

            def sandbox_fetch() -> tuple[float, int]:  # a new session each time: nothing parsed yet
                return fetch_all(ports["IMAP_PORT"], gp_tls,
                                 lambda m: m.authenticate("EXTERNAL", lambda _c: gp["mailbox"].encode()))

            _, count = sandbox_fetch()

            demo_port = free_port()
            pymap = Path(sys.executable).with_name("pymap")  # the venv's, whether or not it is on the PATH
            demo = subprocess.Popen([str(pymap), "--port", str(demo_port), "--host", "127.0.0.1", "--cert",
                                     str(pki.server_chain), "--key", str(pki.server_key), "dict"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(demo)
            deadline = time.monotonic() + 60
            while True:
                try:
                    m = imaplib.IMAP4("localhost", demo_port, timeout=30)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("pymap demo backend did not start") from None
                    time.sleep(0.2)
            m.starttls(ssl_context=pki.client_context())
            m.login("demouser", "demopass")
            for n in range(count):
                m.append("INBOX", "()", None, variant(raw, n))
            m.logout()
            ours, theirs = [], []
            for _ in range(args.fetch_rounds):  # taking turns, so both see the same load; medians
                ours.append(sandbox_fetch()[0])
                demo_elapsed, demo_count = fetch_all(demo_port, pki.client_context(),
                                                     lambda m: m.login("demouser", "demopass"))
                theirs.append(demo_elapsed)
            elapsed, demo_elapsed = statistics.median(ours), statistics.median(theirs)
            print(f"IMAP FETCH    sandbox {count} messages in {elapsed * 1000:8.1f} ms   pymap demo backend "
                  f"{demo_count} in {demo_elapsed * 1000:8.1f} ms   ratio (demo/sandbox) {demo_elapsed / elapsed:6.1%}"
                  f"   (medians of {args.fetch_rounds} rounds; load average {os.getloadavg()[0]:.2f})")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)  # data folder, certificates, SQLite file


if __name__ == "__main__":
    main()
