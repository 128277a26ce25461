"""PSC token endpoint throughput and userinfo latency, side by side with panva's oidc-provider.

    .venv/bin/python bench/psc_tokens.py [--codes 1000] [--cc 2000] [--userinfo 500] [--concurrency 8]
                                         [--rounds 3] [--workers N] [--database-url postgresql+asyncpg://...]

Both providers run on this machine in the same run (``mes-sandbox serve --workers N``, one worker
per CPU by default, with a fresh SQLite database unless ``--database-url`` is given; ``node
bench/node-psc/op.mjs`` with oidc-provider 9.13.3, installed here by npm on first run, in one process:
it keeps its state in memory, so it cannot share load across processes). The same requests drive
both: codes are minted with httpx, token requests go through the lean load generator
(``bench/loadgen.py``) so that the client takes little of the CPU the servers need:

- ``authorization_code``: codes are minted first (sandbox: ``login_hint`` skips the picker;
  oidc-provider: its interaction is finished automatically), then exchanged (PKCE S256, client
  secret basic) with ``concurrency`` requests in flight; tokens/s = exchanges / wall time.
- ``client_credentials``: the same, without codes.
- userinfo: one request at a time, median and p95 latency.
- server CPU per token (from ``/proc/<pid>/stat``, all threads, background work included): robust
  when other processes share the machine, unlike tokens/s.

Configured alike: RS256 (``--alg ES256`` for both) with ``kid``, PKCE S256 required, refresh token issued on each
code exchange, access token 120 s. oidc-provider runs as two servers: one with its default
opaque access tokens, one with JWT access tokens signed like the sandbox's (PSC's Keycloak issues
JWTs, and DMP and MSSanté verify them offline), through one default resource server; such a token
is not one for userinfo, so that one has no userinfo line. Other differences, printed with the
results: the sandbox persists codes, sessions and refresh tokens in its database and records every
exchange as evidence, while oidc-provider keeps state in process memory.

All three servers (the sandbox, oidc-provider with opaque and with JWT access tokens) start first;
each of ``--rounds`` rounds then measures them one after the other, the order rotated by one each
round, and the medians are printed with each round's ratios: runs on this shared machine vary by
±15 % from one minute to the next. Prints our tokens/s ÷ theirs for each (target ≥ 1.0).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen  # noqa: E402

from sandbox.testing import fresh_database, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "bench" / "node-psc"
CALLBACK = "http://127.0.0.1:8000/callback"
PERSONA = "899700218896"
#: requests sent before each timed phase (twice as many for client_credentials, which are cheaper)
WARM_UP = 100


@dataclass
class Target:
    name: str
    auth: str
    token: str
    userinfo: str
    client_id: str
    secret: str
    pid: int = 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live children (``serve --workers``), all
    threads, from /proc."""
    total, stats = 0.0, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(stat.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])))
    for p, (ppid, ticks) in stats.items():
        if p == pid or ppid == pid:
            total += ticks
    return total / os.sysconf("SC_CLK_TCK")


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout}s")


def start_sandbox(data_dir: Path, database_url: str, alg: str, workers: int) -> tuple[subprocess.Popen, Target]:
    port = free_port()
    env = {**os.environ, "MES_SANDBOX_DATA_DIR": str(data_dir), "MES_SANDBOX_PORT": str(port),
           "MES_SANDBOX_HOST": "127.0.0.1", "MES_SANDBOX_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "MES_SANDBOX_HTTPS_ENABLED": "false", "MES_SANDBOX_PSC_CODE_TTL": "600",
           "MES_SANDBOX_DATABASE_URL": database_url, "MES_SANDBOX_WORKERS": str(workers)}
    exe = Path(sys.executable).with_name("mes-sandbox")
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env, cwd=data_dir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    issuer = f"http://127.0.0.1:{port}/psc/realms/esante-wallet"
    wait_ready(issuer + "/.well-known/openid-configuration", proc, timeout=120)
    oidc = issuer + "/protocol/openid-connect"
    # a bench client like oidc-provider's: same id, secret, grants and signing alg
    r = httpx.post(f"http://127.0.0.1:{port}/sandbox/api/workspaces/default/psc/clients", json={
        "client_id": "bench", "client_secret": "bench-secret", "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "id_token_signed_response_alg": alg})
    r.raise_for_status()
    return proc, Target("mes-sandbox psc", oidc + "/auth", oidc + "/token", oidc + "/userinfo",
                        "bench", "bench-secret", proc.pid)


def start_oidc_provider(alg: str, access_tokens: str) -> tuple[subprocess.Popen, Target]:
    if not (NODE_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        cmd = ["npm", "ci" if (NODE_DIR / "package-lock.json").exists() else "install", "--no-audit", "--no-fund"]
        subprocess.run(cmd, cwd=NODE_DIR, check=True, capture_output=True, timeout=600)
    port = free_port()
    proc = subprocess.Popen(["node", "op.mjs", str(port), alg, access_tokens], cwd=NODE_DIR,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/.well-known/openid-configuration", proc)
    return proc, Target(f"oidc-provider ({access_tokens} AT)", base + "/auth", base + "/token", base + "/me",
                        "bench", "bench-secret", proc.pid)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def mint_code(http: httpx.AsyncClient, t: Target) -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    params = {"response_type": "code", "client_id": t.client_id, "redirect_uri": CALLBACK,
              "scope": "openid profile scope_all", "state": secrets.token_urlsafe(8),
              "nonce": secrets.token_urlsafe(8), "code_challenge": _s256(verifier),
              "code_challenge_method": "S256", "acr_values": "eidas1", "login_hint": PERSONA}
    r = await http.get(t.auth, params=params)
    for _ in range(8):
        location = r.headers.get("location", "")
        if location.startswith(CALLBACK):
            return parse_qs(urlsplit(location).query)["code"][0], verifier
        if r.status_code not in (302, 303) or not location:
            raise RuntimeError(f"{t.name}: authorize answered {r.status_code}: {r.text[:200]}")
        r = await http.get(urljoin(str(r.url), location))
    raise RuntimeError(f"{t.name}: too many redirects")


async def gather_limited(n: int, concurrency: int, fn) -> float:  # noqa: ANN001
    """Run ``fn(i)`` for i in range(n), ``concurrency`` at a time; wall seconds."""
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            await fn(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


def token_request(t: Target, form: dict[str, str]) -> bytes:
    basic = base64.b64encode(f"{t.client_id}:{t.secret}".encode()).decode()
    return loadgen.build("POST", t.token, {"Authorization": f"Basic {basic}",
                                           "Content-Type": "application/x-www-form-urlencoded"},
                         urlencode(form).encode())


async def timed_tokens(t: Target, raws: list[bytes], concurrency: int, what: str) -> tuple[float, float, list[bytes]]:
    """(tokens/s, server CPU ms per token, bodies) for token requests sent by the lean load generator
    (bench/loadgen.py), the same for both providers."""
    bodies: list[bytes] = []

    def check(status: int, body: bytes) -> None:
        if status != 200:
            raise RuntimeError(f"{t.name}: {what} answered {status}: {body[:200]!r}")
        bodies.append(body)

    cpu = cpu_seconds(t.pid)
    done, wall = await loadgen.drive(t.token, iter(raws), concurrency, check)
    await asyncio.sleep(1)  # let background work (evidence writer) finish and count it
    return done / wall, (cpu_seconds(t.pid) - cpu) / done * 1000, bodies


async def bench_target(t: Target, args: argparse.Namespace, userinfo: bool = True) -> dict[str, float]:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    out: dict[str, float] = {}
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        codes: list[tuple[str, str]] = []

        async def mint(_: int) -> None:
            # a fresh cookie jar per login: one browser session per code, on both sides
            async with httpx.AsyncClient(timeout=60) as browser:
                codes.append(await mint_code(browser, t))

        await gather_limited(args.codes + WARM_UP, min(args.concurrency, 4), mint)
        exchanges = [token_request(t, {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                                       "code_verifier": verifier}) for code, verifier in codes]
        await timed_tokens(t, exchanges[:WARM_UP], args.concurrency, "token (warm-up)")
        rate, cpu, bodies = await timed_tokens(t, exchanges[WARM_UP:], args.concurrency, "token")
        out["authorization_code tokens/s"], out["authorization_code server CPU ms/token"] = rate, cpu
        tokens = [json.loads(b) for b in bodies[-5:]]

        cc = token_request(t, {"grant_type": "client_credentials", "scope": "scope_all"})
        await timed_tokens(t, [cc] * 2 * WARM_UP, args.concurrency, "client_credentials (warm-up)")
        rate, cpu, _ = await timed_tokens(t, [cc] * args.cc, args.concurrency, "client_credentials")
        out["client_credentials tokens/s"], out["client_credentials server CPU ms/token"] = rate, cpu

        if not userinfo:  # an access token for a resource server is not one for userinfo
            return out
        access = tokens[-1]["access_token"]
        latencies = []
        for i in range(args.userinfo + 20):
            start = time.perf_counter()
            r = await http.get(t.userinfo, headers={"Authorization": f"Bearer {access}"})
            elapsed = time.perf_counter() - start
            if r.status_code != 200:
                raise RuntimeError(f"{t.name}: userinfo answered {r.status_code}: {r.text[:200]}")
            if i >= 20:
                latencies.append(elapsed * 1000)
        latencies.sort()
        out["userinfo median ms"] = statistics.median(latencies)
        out["userinfo p95 ms"] = latencies[int(len(latencies) * 0.95) - 1]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codes", type=int, default=1000)
    parser.add_argument("--cc", type=int, default=2000)
    parser.add_argument("--userinfo", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3,
                        help="measure every server this many times, rotating the order; medians are printed")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="sandbox worker processes (serve --workers; default: one per CPU). "
                             "oidc-provider keeps its state in process memory: one process")
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL server URL: a fresh database is created there and dropped after "
                             "(default: fresh SQLite)")
    parser.add_argument("--alg", choices=("RS256", "ES256"), default="RS256",
                        help="signing alg of both providers' bench client (default RS256, PSC's default)")
    args = parser.parse_args()
    if not shutil.which("node"):
        sys.exit("node is required for the oidc-provider side")
    tmp = Path(tempfile.mkdtemp(prefix="psc-bench-"))
    if args.database_url:
        os.environ["MES_SANDBOX_TEST_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("MES_SANDBOX_TEST_DATABASE_URL", None)
    procs: list[subprocess.Popen] = []
    with fresh_database(tmp) as db_url:
        try:
            rounds = run(args, tmp, db_url, procs)
        finally:
            for p in procs:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
            shutil.rmtree(tmp, ignore_errors=True)
    report(args, rounds)


def run(args: argparse.Namespace, tmp: Path, db_url: str, procs: list[subprocess.Popen]) -> dict[str, list[dict[str, float]]]:
    """Every target's figures, one dict per round. All three servers stay up; each round measures
    them one after the other, the order rotated by one each round (over three rounds each server
    is first, second and last once), so that a slow spell of the machine, or being measured right
    after another server, falls on every side."""
    sb_proc, ours = start_sandbox(tmp, db_url, args.alg, args.workers)
    procs.append(sb_proc)
    targets = [(ours, True)]
    for access_tokens in ("opaque", "jwt"):
        op_proc, theirs = start_oidc_provider(args.alg, access_tokens)
        procs.append(op_proc)
        # an access token for a resource server is not one for userinfo
        targets.append((theirs, access_tokens == "opaque"))
    rounds: dict[str, list[dict[str, float]]] = {t.name: [] for t, _ in targets}
    for i in range(args.rounds):
        k = i % len(targets)
        for t, userinfo in targets[k:] + targets[:k]:
            rounds[t.name].append(asyncio.run(bench_target(t, args, userinfo=userinfo)))
    return rounds


def report(args: argparse.Namespace, rounds: dict[str, list[dict[str, float]]]) -> None:
    ours, *peers = rounds
    results = {name: {m: statistics.median(r[m] for r in runs) for m in runs[0]} for name, runs in rounds.items()}
    a = results[ours]
    print(f"\nPSC token benchmark — {args.alg}, {os.cpu_count()} CPUs, concurrency {args.concurrency}, "
          f"{args.codes} codes, {args.cc} client_credentials, {args.userinfo} userinfo per round; median of "
          f"{args.rounds} round(s); sandbox with {args.workers} worker process(es), oidc-provider in one (its "
          f"state lives in process memory)")
    print(f"{'metric':40}{ours:>18}" + "".join(f"{p:>28}{'ours ÷':>8}" for p in peers))
    for metric in a:
        line = f"{metric:40}{a[metric]:>18.1f}"
        for p in peers:
            b = results[p].get(metric)
            line += f"{b:>28.1f}{a[metric] / b:>8.2f}" if b else f"{'n/a':>28}{'':>8}"
        print(line)
    if args.rounds > 1:
        print("\neach round, tokens/s (ours ÷ theirs):")
        for metric in ("authorization_code tokens/s", "client_credentials tokens/s"):
            print(f"  {metric.split()[0]:20} {ours:28} " + " ".join(f"{r[metric]:>12.0f}" for r in rounds[ours]))
            for p in peers:
                print(f"  {'':20} {p:28} " + " ".join(f"{t[metric]:>5.0f} ({o[metric] / t[metric]:.2f})"
                                                      for o, t in zip(rounds[ours], rounds[p])))
    print("\n(tokens/s: higher is better, target ratio ≥ 1.0; latency and server CPU per token: lower is "
          "better. CPU per token is measured from /proc and does not depend on other load on the machine; "
          "tokens/s does.)")
    print("oidc-provider runs as two servers: one with its default opaque access tokens (opaque AT), one "
          "with JWT access tokens signed like the sandbox's (jwt AT: one default resource server; its tokens are "
          "not for userinfo, so no userinfo line). Other differences: the sandbox keeps its state in the "
          "database and records every exchange as evidence; oidc-provider keeps its state in memory.")


if __name__ == "__main__":
    main()
