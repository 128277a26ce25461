"""A web page in the vendor's browser cannot reach or change the sandbox: Host allow-list (DNS
rebinding), cross-site state changes refused, cookies SameSite and Secure on TLS."""

from __future__ import annotations

from sandbox.testing import running_sandbox

OIDC = "/psc/realms/esante-wallet/protocol/openid-connect"


def test_unknown_host_is_421_in_the_path_protocol(sandbox) -> None:
    with sandbox.client() as c:
        r = c.get("/sandbox/api/workspaces", headers={"Host": "evil.example"})
        assert r.status_code == 421 and r.headers["content-type"].startswith("application/problem+json")
        r = c.get("/dmp/fhir/metadata", headers={"Host": "rebound.example:8080"})
        assert r.status_code == 421 and r.json()["resourceType"] == "OperationOutcome"
        for host in ("localhost", f"127.0.0.1:{sandbox.settings.port}", "[::1]:8080", "LOCALHOST:1"):
            assert c.get("/sandbox/api/workspaces", headers={"Host": host}).status_code == 200, host


def test_allowed_hosts_setting_and_public_base_url() -> None:
    with running_sandbox(allowed_hosts=["sandbox.lan"], public_base_url="https://mes-sandbox.example") as sb, \
            sb.client() as c:
        for host in ("sandbox.lan", "sandbox.lan:8080", "mes-sandbox.example"):
            assert c.get("/sandbox/api/workspaces", headers={"Host": host}).status_code == 200, host
        assert c.get("/sandbox/api/workspaces", headers={"Host": "other.lan"}).status_code == 421


def test_cross_site_state_changes_are_refused_even_without_keys() -> None:
    with running_sandbox(open_api=True) as sb, sb.client(key=None) as c:
        reset = "/sandbox/api/workspaces/default/reset"
        # what a hostile page can send without a CORS preflight: a form, or a no-cors fetch
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        assert c.post(reset, headers={**form, "Origin": "https://evil.example"}).status_code == 403
        assert c.post(reset, headers={**form, "Sec-Fetch-Site": "cross-site"}).status_code == 403
        assert c.post(reset, headers={"Content-Type": "text/plain", "Origin": "null"}).status_code == 403
        r = c.delete("/sandbox/api/workspaces/default", headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
        # the same call from the sandbox's own pages, or from a script/CLI (no Origin), goes through
        assert c.post(reset, headers={"Origin": sb.base_url, "Sec-Fetch-Site": "same-origin"}).status_code == 200
        assert c.post(reset).status_code == 200
        # a client-authenticated endpoint stays callable cross-origin (browser-based clients)
        r = c.post(OIDC + "/token", data={"grant_type": "client_credentials"},
                   headers={"Origin": "https://app.vendor.example"}, auth=("sandbox-demo", "wrong"))
        assert r.status_code == 401


def test_with_keys_a_cross_site_form_cannot_even_authenticate(sandbox) -> None:
    with sandbox.client(key=None) as c:
        r = c.post("/sandbox/api/workspaces/default/reset", data={"x": "1"})
        assert r.status_code == 401


def test_cookies_are_samesite_and_secure_on_tls(sandbox) -> None:
    with sandbox.client(follow_redirects=False) as c:
        cookie = c.get("/psc/demo/login").headers["set-cookie"].lower()
        assert "samesite=lax" in cookie and "httponly" in cookie and "secure" not in cookie
    with sandbox.https_client(follow_redirects=False) as c:
        cookie = c.get("/psc/demo/login").headers["set-cookie"].lower()
        assert "samesite=lax" in cookie and "secure" in cookie
