"""``serve --workers 2``: a killed worker is logged and replaced, the sandbox goes on serving, and
the supervisor exits 0 on SIGTERM; it exits 1 only when workers keep dying."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from sandbox.credentials import read_operator_key
from sandbox.testing import free_port, fresh_database, spare_mail_ports

CLI = [sys.executable, "-c", "from sandbox.cli import main; main()"]


def _workers(pid: int) -> set[int]:
    found = set()
    for child in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split():
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            found.add(int(child))
    return found


def _get(url: str, key: str) -> httpx.Response:
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {key}"}) as c:  # a new connection
        return c.get(url)


def _until(predicate, seconds: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_a_killed_worker_is_replaced(tmp_path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with fresh_database(tmp_path) as url:
        env = {**os.environ, "MES_SANDBOX_DATA_DIR": str(tmp_path), "MES_SANDBOX_DATABASE_URL": url,
               "MES_SANDBOX_PORT": str(port), "MES_SANDBOX_HTTPS_ENABLED": "false",
               # free mail ports: a sandbox the user started may hold the defaults (README quick start)
               **spare_mail_ports()}
        proc = subprocess.Popen([*CLI, "serve", "--workers", "2"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            def up() -> bool:
                try:
                    return _get(base + "/sandbox/api/workspaces", read_operator_key(tmp_path) or "").status_code == 200
                except httpx.TransportError:
                    assert proc.poll() is None, "serve exited"
                    return False

            _until(up, 120, "serve did not come up")
            key = read_operator_key(tmp_path) or ""
            _until(lambda: len(_workers(proc.pid)) == 2, 30, "two workers")
            first = _workers(proc.pid)
            victim = min(first)
            os.kill(victim, signal.SIGKILL)
            _until(lambda: len(_workers(proc.pid)) == 2 and victim not in _workers(proc.pid), 60,
                   "the killed worker was not replaced")
            assert proc.poll() is None
            for _ in range(10):  # every call answered, whichever worker takes it
                _until(lambda: _get(base + "/sandbox/api/workspaces", key).status_code == 200, 30, "serving")
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=60)
            assert proc.returncode == 0, out
            assert f"pid {victim}) died with exit code -9; starting a new one" in out, out
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def test_workers_that_keep_dying_stop_the_supervisor_with_exit_1(tmp_path) -> None:
    port = free_port()
    with fresh_database(tmp_path) as url:
        env = {**os.environ, "MES_SANDBOX_DATA_DIR": str(tmp_path), "MES_SANDBOX_DATABASE_URL": url,
               "MES_SANDBOX_PORT": str(port), "MES_SANDBOX_HTTPS_ENABLED": "false",
               # free mail ports: a sandbox the user started may hold the defaults (README quick start)
               **spare_mail_ports()}
        proc = subprocess.Popen([*CLI, "serve", "--workers", "2"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            killed: set[int] = set()
            deadline = time.monotonic() + 120
            while proc.poll() is None:
                assert time.monotonic() < deadline, "the supervisor never gave up"
                for pid in _workers(proc.pid) - killed:
                    os.kill(pid, signal.SIGKILL)
                    killed.add(pid)
                time.sleep(0.05)
            out, _ = proc.communicate(timeout=30)
            assert proc.returncode == 1, out
            assert "giving up" in out and len(killed) > 5
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
