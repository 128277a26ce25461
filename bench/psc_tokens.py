"""PSC token endpoint throughput and userinfo latency, side by side with panva's oidc-provider.

    .venv/bin/python bench/psc_tokens.py [--codes 2000] [--cc 4000] [--chunk 200] [--userinfo 500]
                                         [--concurrency 8] [--workers N] [--database-url postgresql+asyncpg://...]
                                         [--baseline ../checkout-of-an-older-commit] [--no-oidc-provider]

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

All three servers (the sandbox, oidc-provider with opaque and with JWT access tokens) start first
and stay up. Each is warmed up, then the servers take turns: ``--chunk`` exchanges each (twice as many
client_credentials tokens), one after the other, the order rotated by one each turn, with a pause
between turns for background work. Runs on this shared machine vary by ±15 % from one minute to the
next: taking turns puts a slow spell on every server alike, where measuring one server after the
other put it on whichever ran then. Prints our tokens/s ÷ theirs for each (target ≥ 1.0), over all
turns, and the spread of the ratios of turns that ran back to back.

``--baseline DIR``: the sandbox of another checkout (a worktree of an older commit, with its own
``.venv``) runs as one more server taking turns, with its own fresh database: the lines
"ours ÷ baseline" compare two versions of the sandbox in the same run, the only comparison this
shared machine allows. ``--no-oidc-provider`` leaves oidc-provider out (shorter turns).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
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
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen  # noqa: E402

from sandbox.testing import free_port, fresh_database, spare_mail_ports  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "bench" / "node-psc"
CALLBACK = "http://127.0.0.1:8000/callback"
PERSONA = "899700218896"
#: requests sent before each timed phase (twice as many for client_credentials, which are cheaper)
WARM_UP = 100
#: seconds between two turns: background work of the server that ran finishes before the next one runs
SETTLE = 0.2


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


def discovery(issuer: str, proc: subprocess.Popen, timeout: float = 120) -> dict[str, Any]:
    """The issuer's discovery document once it answers: PSC's ``wallet-openid-configuration``, or
    the standard name for a baseline checkout older than the wallet host."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {issuer}")
        for name in ("wallet-openid-configuration", "openid-configuration"):
            try:
                r = httpx.get(f"{issuer}/.well-known/{name}", timeout=2)
            except httpx.HTTPError:
                continue
            if r.status_code == 200:
                return r.json()
        time.sleep(0.2)
    raise RuntimeError(f"{issuer} not ready after {timeout}s")


def start_sandbox(data_dir: Path, database_url: str, alg: str, workers: int, checkout: Path | None = None,
                  name: str = "mes-sandbox psc") -> tuple[subprocess.Popen, Target]:
    """``checkout``: another checkout's sandbox, run with that checkout's ``.venv`` (default: this one)."""
    port = free_port()
    env = {**os.environ, "MES_SANDBOX_DATA_DIR": str(data_dir), "MES_SANDBOX_PORT": str(port),
           "MES_SANDBOX_HOST": "127.0.0.1", "MES_SANDBOX_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "MES_SANDBOX_HTTPS_ENABLED": "false", "MES_SANDBOX_PSC_CODE_TTL": "600",
           "MES_SANDBOX_DATABASE_URL": database_url, "MES_SANDBOX_WORKERS": str(workers),
           "MES_SANDBOX_OPEN_API": "true",  # loopback bench: /sandbox/api without keys
           **spare_mail_ports()}  # off the default mail ports, which the user's own sandbox may hold
    exe = (checkout / ".venv" / "bin" if checkout else Path(sys.executable).parent) / "mes-sandbox"
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env, cwd=data_dir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    issuer = f"http://127.0.0.1:{port}/psc/realms/esante-wallet"
    endpoints = discovery(issuer, proc)
    # a bench client like oidc-provider's: same id, secret, grants and signing alg
    r = httpx.post(f"http://127.0.0.1:{port}/sandbox/api/workspaces/default/psc/clients", json={
        "client_id": "bench", "client_secret": "bench-secret", "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "id_token_signed_response_alg": alg})
    r.raise_for_status()
    return proc, Target(name, endpoints["authorization_endpoint"], endpoints["token_endpoint"],
                        endpoints["userinfo_endpoint"], "bench", "bench-secret", proc.pid)


def start_oidc_provider(alg: str, access_tokens: str) -> tuple[subprocess.Popen, Target]:
    if not (NODE_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        cmd = ["npm", "ci" if (NODE_DIR / "package-lock.json").exists() else "install", "--no-audit", "--no-fund"]
        subprocess.run(cmd, cwd=NODE_DIR, check=True, capture_output=True, timeout=600)
    port = free_port()
    # run as deployed (Koa reads NODE_ENV; oidc-provider's behaviour does not depend on it)
    proc = subprocess.Popen(["node", "op.mjs", str(port), alg, access_tokens], cwd=NODE_DIR,
                            env={**os.environ, "NODE_ENV": "production"},
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


async def timed_chunk(t: Target, raws: list[bytes], concurrency: int, what: str) -> tuple[float, float, list[bytes]]:
    """(wall seconds, server CPU seconds, bodies) for token requests sent by the lean load generator
    (bench/loadgen.py), the same for every provider. CPU is read after a pause that lets background
    work (the sandbox's evidence writer, node's garbage collector) finish, so it is counted, and does
    not slow down the next server's chunk."""
    bodies: list[bytes] = []

    def check(status: int, body: bytes) -> None:
        if status != 200:
            raise RuntimeError(f"{t.name}: {what} answered {status}: {body[:200]!r}")
        bodies.append(body)

    cpu = cpu_seconds(t.pid)
    _, wall = await loadgen.drive(t.token, iter(raws), concurrency, check)
    await asyncio.sleep(SETTLE)
    return wall, cpu_seconds(t.pid) - cpu, bodies


@dataclass
class Phase:
    """One measured phase (e.g. authorization_code) of every target: requests, wall and CPU summed
    over the chunks, and each chunk's tokens/s (chunk ``i`` of every target ran back to back)."""
    requests: dict[str, int]
    wall: dict[str, float]
    cpu: dict[str, float]
    chunks: dict[str, list[float]]


async def interleaved(batches: dict[str, tuple[Target, list[bytes]]], chunk: int, concurrency: int,
                      what: str) -> tuple[Phase, dict[str, bytes]]:
    """Send every target's requests in chunks of ``chunk``, the targets taking turns chunk by chunk in
    an order rotated by one each time: a slow spell of this shared machine (runs vary by ±15 % from
    one minute to the next) falls on every target alike instead of on whichever ran then. Returns
    the phase and each target's last answer."""
    names = list(batches)
    phase = Phase({n: 0 for n in names}, {n: 0.0 for n in names}, {n: 0.0 for n in names}, {n: [] for n in names})
    last: dict[str, bytes] = {}
    count = max(len(raws) for _, raws in batches.values())
    for i, offset in enumerate(range(0, count, chunk)):
        for name in names[i % len(names):] + names[:i % len(names)]:
            t, raws = batches[name]
            part = raws[offset:offset + chunk]
            wall, cpu, got = await timed_chunk(t, part, concurrency, what)
            phase.requests[name] += len(part)
            phase.wall[name] += wall
            phase.cpu[name] += cpu
            phase.chunks[name].append(len(part) / wall)
            last[name] = got[-1]
    return phase, last


async def mint_codes(t: Target, n: int, concurrency: int) -> list[tuple[str, str]]:
    codes: list[tuple[str, str]] = []

    async def mint(_: int) -> None:
        # a fresh cookie jar per login: one browser session per code, on both sides
        async with httpx.AsyncClient(timeout=60) as browser:
            codes.append(await mint_code(browser, t))

    await gather_limited(n, min(concurrency, 4), mint)
    return codes


async def userinfo_latencies(t: Target, access: str, n: int) -> list[float]:
    """``n`` userinfo calls one at a time (after 20 unmeasured): milliseconds each."""
    latencies = []
    async with httpx.AsyncClient(timeout=60) as http:
        for i in range(n + 20):
            start = time.perf_counter()
            r = await http.get(t.userinfo, headers={"Authorization": f"Bearer {access}"})
            elapsed = time.perf_counter() - start
            if r.status_code != 200:
                raise RuntimeError(f"{t.name}: userinfo answered {r.status_code}: {r.text[:200]}")
            if i >= 20:
                latencies.append(elapsed * 1000)
    return latencies


async def measure(targets: list[tuple[Target, bool]], args: argparse.Namespace) -> dict[str, Any]:
    """Every phase of every target, interleaved (:func:`interleaved`)."""
    exchanges: dict[str, tuple[Target, list[bytes]]] = {}
    for t, _ in targets:
        codes = await mint_codes(t, args.codes + WARM_UP, args.concurrency)
        exchanges[t.name] = (t, [token_request(t, {"grant_type": "authorization_code", "code": code,
                                                     "redirect_uri": CALLBACK, "code_verifier": verifier})
                                 for code, verifier in codes])
    cc = {t.name: (t, [token_request(t, {"grant_type": "client_credentials", "scope": "scope_all"})] * args.cc)
          for t, _ in targets}
    for t, raws in exchanges.values():  # warm-up: node's JIT, the sandbox's caches and connections
        await timed_chunk(t, raws[:WARM_UP], args.concurrency, "token (warm-up)")
        await timed_chunk(t, cc[t.name][1][:2 * WARM_UP], args.concurrency, "client_credentials (warm-up)")
    code_phase, last = await interleaved({n: (t, raws[WARM_UP:]) for n, (t, raws) in exchanges.items()},
                                           args.chunk, args.concurrency, "token")
    cc_phase, _ = await interleaved(cc, 2 * args.chunk, args.concurrency, "client_credentials")
    latencies: dict[str, list[float]] = {}
    for t, userinfo in targets:
        if userinfo:  # an access token for a resource server is not one for userinfo
            latencies[t.name] = await userinfo_latencies(t, json.loads(last[t.name])["access_token"],
                                                         args.userinfo)
    return {"authorization_code": code_phase, "client_credentials": cc_phase, "userinfo": latencies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codes", type=int, default=2000, help="code exchanges per server")
    parser.add_argument("--cc", type=int, default=4000, help="client_credentials tokens per server")
    parser.add_argument("--chunk", type=int, default=200,
                        help="code exchanges per turn (client_credentials: twice as many); the servers take turns")
    parser.add_argument("--userinfo", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="sandbox worker processes (serve --workers; default: one per CPU). "
                             "oidc-provider keeps its state in process memory: one process")
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL server URL: a fresh database is created there and dropped after "
                             "(default: fresh SQLite)")
    parser.add_argument("--alg", choices=("RS256", "ES256"), default="RS256",
                        help="signing alg of both providers' bench client (default RS256, PSC's default)")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout (with its own .venv) whose sandbox takes turns too: ours ÷ baseline")
    parser.add_argument("--oidc-provider", action=argparse.BooleanOptionalAction, default=True,
                        help="run panva's oidc-provider beside the sandbox (default: yes)")
    args = parser.parse_args()
    if args.oidc_provider and not shutil.which("node"):
        sys.exit("node is required for the oidc-provider side")
    tmp = Path(tempfile.mkdtemp(prefix="psc-bench-"))
    if args.database_url:
        os.environ["MES_SANDBOX_TEST_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("MES_SANDBOX_TEST_DATABASE_URL", None)
    procs: list[subprocess.Popen] = []
    (tmp / "baseline").mkdir()
    load_before = os.getloadavg()
    with contextlib.ExitStack() as databases:
        db_url = databases.enter_context(fresh_database(tmp))
        baseline_url = databases.enter_context(fresh_database(tmp / "baseline")) if args.baseline else ""
        try:
            targets = start_all(args, tmp, db_url, baseline_url, procs)
            results = asyncio.run(measure(targets, args))
        finally:
            for p in procs:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
            shutil.rmtree(tmp, ignore_errors=True)
    report(args, [t.name for t, _ in targets], results, (load_before, os.getloadavg()))


def start_all(args: argparse.Namespace, tmp: Path, db_url: str, baseline_url: str,
              procs: list[subprocess.Popen]) -> list[tuple[Target, bool]]:
    """The sandbox, the baseline checkout's if any, then oidc-provider with opaque and with JWT access
    tokens; (target, has userinfo). All stay up until the end."""
    sb_proc, ours = start_sandbox(tmp, db_url, args.alg, args.workers)
    procs.append(sb_proc)
    targets = [(ours, True)]
    if args.baseline:
        checkout = args.baseline.resolve()
        base_proc, base = start_sandbox(tmp / "baseline", baseline_url, args.alg, args.workers, checkout,
                                        name=f"baseline {checkout.name}")
        procs.append(base_proc)
        targets.append((base, True))
    for access_tokens in ("opaque", "jwt") if args.oidc_provider else ():
        op_proc, theirs = start_oidc_provider(args.alg, access_tokens)
        procs.append(op_proc)
        # an access token for a resource server is not one for userinfo
        targets.append((theirs, access_tokens == "opaque"))
    return targets


def report(args: argparse.Namespace, names: list[str], results: dict[str, Any],
           loads: tuple[tuple[float, ...], ...]) -> None:
    ours, *peers = names
    print(f"\nPSC token benchmark — {args.alg}, {os.cpu_count()} CPUs, concurrency {args.concurrency}, "
          f"{args.codes} code exchanges and {args.cc} client_credentials tokens per server, the servers taking "
          f"turns every {args.chunk} (client_credentials: {2 * args.chunk}); sandbox with {args.workers} worker "
          f"process(es), oidc-provider in one (its state lives in process memory); load average "
          + " -> ".join("/".join(f"{x:.1f}" for x in load) for load in loads) + " (1/5/15 min, start -> end)")
    print(f"{'metric':40}{ours:>18}" + "".join(f"{p:>28}{'ours ÷':>8}" for p in peers))

    def line(metric: str, values: dict[str, float | None]) -> None:
        text = f"{metric:40}{values[ours]:>18.2f}"
        for p in peers:
            v = values.get(p)
            text += f"{v:>28.2f}{values[ours] / v:>8.2f}" if v else f"{'n/a':>28}{'':>8}"
        print(text)

    for grant in ("authorization_code", "client_credentials"):
        ph: Phase = results[grant]
        line(f"{grant} tokens/s", {n: ph.requests[n] / ph.wall[n] for n in names})
        line(f"{grant} server CPU ms/token", {n: ph.cpu[n] / ph.requests[n] * 1000 for n in names})
    lat: dict[str, list[float]] = results["userinfo"]
    line("userinfo median ms", {n: statistics.median(lat[n]) if n in lat else None for n in names})
    line("userinfo p95 ms", {n: sorted(lat[n])[int(len(lat[n]) * 0.95) - 1] if n in lat else None for n in names})

    print("\nturn by turn, ours ÷ theirs in tokens/s (each turn of the servers ran back to back):")
    for grant in ("authorization_code", "client_credentials"):
        ph = results[grant]
        for p in peers:
            ratios = sorted(o / t for o, t in zip(ph.chunks[ours], ph.chunks[p], strict=False))
            print(f"  {grant:20} ÷ {p:28} median {statistics.median(ratios):.2f}, range {ratios[0]:.2f}–"
                  f"{ratios[-1]:.2f}, {sum(r >= 1 for r in ratios)} of {len(ratios)} turns ≥ 1.0")
    print("\n(tokens/s: higher is better, target ratio ≥ 1.0; latency and server CPU per token: lower is "
          "better. CPU per token is measured from /proc and does not depend on other load on the machine; "
          "tokens/s does.)")
    print("oidc-provider runs as two servers: one with its default opaque access tokens (opaque AT), one "
          "with JWT access tokens signed like the sandbox's (jwt AT: one default resource server; its tokens are "
          "not for userinfo, so no userinfo line). Other differences: the sandbox keeps its state in the "
          "database and records every exchange as evidence; oidc-provider keeps its state in memory.")


if __name__ == "__main__":
    main()
