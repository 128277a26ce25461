"""Group ``psc`` of suite ``dpi-ldl``: the DPI's Pro Santé Connect login (FACTS §4, §8 items 7–8)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from conformance import EvidenceQuery, Group, Message, TestContext, Text, test
from conformance.suites.dpi_ldl.evidence import (
    DMP_SEARCH_OPS,
    LOGIN_PROMPT,
    first_login,
    form,
    grant,
    now,
    ordered,
    patient_params,
    patient_text,
    query_params,
    since,
)

WALLET = "/.well-known/wallet-openid-configuration"

NO_DISCOVERY = Message(
    "dpi-ldl.psc.no-discovery", "Aucune lecture du document de découverte avant la connexion.",
    "No discovery document was read before the login.",
    "Lisez {issuer}/.well-known/wallet-openid-configuration et prenez-y les points d'accès.",
    "Read <issuer>/.well-known/wallet-openid-configuration and take the endpoints from it.")
WRONG_DISCOVERY = Message(
    "dpi-ldl.psc.discovery-name", "Document de découverte lu à {path} : Pro Santé Connect publie le sien sous "
    "/.well-known/wallet-openid-configuration.",
    "Discovery document read at {path}: Pro Santé Connect publishes its own under "
    "/.well-known/wallet-openid-configuration.",
    "N'utilisez pas le nom standard openid-configuration : le royaume esante-wallet publie "
    "wallet-openid-configuration, avec un point d'autorisation sur un autre hôte.",
    "Do not use the standard openid-configuration name: realm esante-wallet publishes "
    "wallet-openid-configuration, with an authorization endpoint on another host.")
NOT_CODE_FLOW = Message(
    "dpi-ldl.psc.response-type", "Demande d'autorisation avec response_type={value} : le flux code d'autorisation "
    "(response_type=code) est attendu.", "Authorization request with response_type={value}: the authorization "
    "code flow (response_type=code) is expected.",
    "Utilisez response_type=code, state et nonce aléatoires.", "Use response_type=code with random state and nonce.")
NO_STATE_NONCE = Message(
    "dpi-ldl.psc.state-nonce", "Demande d'autorisation sans {missing}.", "Authorization request without {missing}.",
    "Envoyez un state et un nonce imprévisibles, propres à chaque connexion.",
    "Send an unpredictable state and nonce, fresh for each login.")
NOT_DISCOVERED_ENDPOINT = Message(
    "dpi-ldl.psc.authorize-endpoint", "Demande d'autorisation envoyée à {path}, pas au point annoncé par la "
    "découverte ({expected}).", "Authorization request sent to {path}, not to the endpoint the discovery "
    "document names ({expected}).",
    "Prenez authorization_endpoint dans le document de découverte ; ne le construisez pas.",
    "Take authorization_endpoint from the discovery document; do not build it.")
NO_PKCE = Message(
    "dpi-ldl.psc.pkce", "Demande d'autorisation sans PKCE S256 (code_challenge={challenge!r}, "
    "code_challenge_method={method!r}).", "Authorization request without PKCE S256 (code_challenge={challenge!r}, "
    "code_challenge_method={method!r}).",
    "Générez un code_verifier aléatoire par connexion, envoyez code_challenge = BASE64URL(SHA-256(verifier)) "
    "avec code_challenge_method=S256, puis le code_verifier à l'échange du code.",
    "Generate a random code_verifier per login, send code_challenge = BASE64URL(SHA-256(verifier)) with "
    "code_challenge_method=S256, then the code_verifier when exchanging the code.")
BAD_VERIFIER = Message(
    "dpi-ldl.psc.code-verifier", "L'échange du code ne porte pas le code_verifier correspondant au code_challenge.",
    "The code exchange does not carry the code_verifier matching the code_challenge.",
    "Envoyez à l'échange du code le code_verifier dont le code_challenge a été envoyé.",
    "Send, when exchanging the code, the code_verifier whose code_challenge was sent.")
NO_ACR = Message(
    "dpi-ldl.psc.acr", "Demande d'autorisation avec acr_values={value!r} : eidas1 est attendu.",
    "Authorization request with acr_values={value!r}: eidas1 is expected.",
    "Ajoutez acr_values=eidas1 à la demande d'autorisation (seule valeur reconnue par Pro Santé Connect).",
    "Add acr_values=eidas1 to the authorization request (the only value Pro Santé Connect knows).")
WRONG_CLIENT = Message(
    "dpi-ldl.psc.client", "Jeton obtenu par le client {actor!r}, pas par le client déclaré {client!r}.",
    "Token obtained by client {actor!r}, not by the declared client {client!r}.",
    "Authentifiez-vous au point d'échange de jetons avec les identifiants du client déclaré pour le logiciel.",
    "Authenticate to the token endpoint with the credentials of the client declared for the software.")
NO_JWKS = Message(
    "dpi-ldl.psc.jwks", "Les clés de signature ont changé avant l'émission du jeton d'identité, et le logiciel n'a "
    "pas relu le JWKS avant d'utiliser la session : le jeton d'identité n'a pas pu être vérifié.",
    "The signing keys changed before the ID token was issued, and the software did not read the JWKS again "
    "before using the session: the ID token cannot have been verified.",
    "Vérifiez chaque jeton d'identité (signature avec le JWKS, iss, aud, nonce, exp, acr) ; relisez le JWKS "
    "quand le kid est inconnu.",
    "Verify every ID token (signature against the JWKS, iss, aud, nonce, exp, acr); read the JWKS again "
    "when the kid is unknown.")
NOT_REFRESH = Message(
    "dpi-ldl.psc.refresh", "Renouvellement demandé avec grant_type={grant!r} : refresh_token est attendu.",
    "Renewal asked with grant_type={grant!r}: refresh_token is expected.",
    "Renouvelez le jeton d'accès avec le jeton de rafraîchissement (grant_type=refresh_token) sans "
    "reconnecter l'utilisateur.", "Renew the access token with the refresh token (grant_type=refresh_token) "
    "without logging the user in again.")
STALE_REFRESH = Message(
    "dpi-ldl.psc.refresh-token", "Le jeton de rafraîchissement présenté n'est pas le dernier reçu "
    "(les jetons de rafraîchissement tournent : un jeton déjà utilisé met fin à la session).",
    "The refresh token presented is not the last one received (refresh tokens rotate: a used one ends the "
    "session).", "Conservez le jeton de rafraîchissement de chaque réponse et présentez toujours le dernier.",
    "Keep the refresh token of every answer and always present the latest.")
REFUSED = Message(
    "dpi-ldl.psc.refused", "{what} refusé : HTTP {status}.", "{what} refused: HTTP {status}.",
    "Voir la réponse citée.", "See the cited answer.")
NOT_REVOKED_FIRST = Message(
    "dpi-ldl.psc.revocation-not-seen", "Le premier appel au DMP n'a pas été refusé (HTTP {status}) : le jeton révoqué "
    "n'a pas été présenté après l'étape.", "The first DMP call was not refused (HTTP {status}): the revoked token "
    "was not presented after the step.", "", "")
REPLAYED = Message(
    "dpi-ldl.psc.replayed-token", "Après le refus du jeton (401), le logiciel a rappelé le DMP {detail}.",
    "After the token was refused (401), the software called the DMP again {detail}.",
    "Sur un 401 invalid_token, renouvelez le jeton (refresh_token) ou reconnectez l'utilisateur avant de "
    "rappeler le service ; ne rejouez jamais le jeton refusé.",
    "On a 401 invalid_token, renew the token (refresh_token) or log the user in again before calling the "
    "service again; never replay the refused token.")
NO_HINT = Message(
    "dpi-ldl.psc.logout-hint", "Déconnexion sans id_token_hint.", "Logout without id_token_hint.",
    "Appelez end_session_endpoint avec id_token_hint et post_logout_redirect_uri déclarée.",
    "Call end_session_endpoint with id_token_hint and a registered post_logout_redirect_uri.")
AFTER_LOGOUT = Message(
    "dpi-ldl.psc.after-logout", "Après la déconnexion, le DMP a été appelé {detail}.",
    "After logout, the DMP was called {detail}.",
    "À la déconnexion, oubliez les jetons de la session ; reconnectez l'utilisateur avant tout nouvel appel.",
    "At logout, forget the session's tokens; log the user in again before any new call.")


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _authorize_requests(login: list) -> list:
    return [e for e in login if e.operation == "psc.authorize" and (e.summary or {}).get("method") == "GET"]


@test("01", title=Text("Découverte et flux code d'autorisation", "Discovery and authorization code flow"),
      description=Text("Le logiciel lit wallet-openid-configuration et suit le point d'autorisation annoncé, "
                       "en flux code avec state et nonce.",
                       "The software reads wallet-openid-configuration and follows the authorization endpoint "
                       "it names, in code flow with state and nonce."),
      verifies=("PSC.OIDC/01", "PSC.OIDC/02"))
async def discovery(ctx: TestContext) -> None:
    login = await first_login(ctx)
    # every discovery read, answered or not (a strict provider does not serve the standard name)
    reads = [e for e in login if "/.well-known/" in str((e.summary or {}).get("path", ""))]
    discos = [e for e in reads if e.operation == "psc.discovery" and e.status == "200"
              and str((e.summary or {}).get("path", "")).endswith(WALLET)]
    for e in reads:
        path = str((e.summary or {}).get("path", ""))
        ctx.check(path.endswith(WALLET), WRONG_DISCOVERY, exchanges=(e,), path=path)
    if not ctx.check(bool(discos), NO_DISCOVERY, exchanges=login[-1:], issuer="…/realms/esante-wallet"):
        return
    meta = await ctx.response_json(ordered(discos)[-1])
    expected = urlsplit(str(meta.get("authorization_endpoint", ""))).path if isinstance(meta, dict) else ""
    for e in _authorize_requests(login):
        q = query_params(e)
        ctx.check(q.get("response_type") == ["code"], NOT_CODE_FLOW, exchanges=(e,),
                  value=",".join(q.get("response_type", [])) or "(absent)")
        missing = [k for k in ("state", "nonce") if not (q.get(k) or [""])[0]]
        ctx.check(not missing, NO_STATE_NONCE, exchanges=(e,), missing=", ".join(missing))
        path = str((e.summary or {}).get("path", ""))
        ctx.check(not expected or path == expected, NOT_DISCOVERED_ENDPOINT, exchanges=(e,), path=path,
                  expected=expected)


@test("02", title=Text("PKCE S256", "PKCE S256"),
      description=Text("Chaque demande d'autorisation porte un code_challenge S256 et l'échange du code le "
                       "code_verifier correspondant.", "Every authorization request carries an S256 "
                       "code_challenge and the code exchange the matching code_verifier."),
      verifies=("PSC.OIDC/04",))
async def pkce(ctx: TestContext) -> None:
    login = await first_login(ctx)
    requests = _authorize_requests(login)
    for e in requests:
        q = query_params(e)
        challenge, method = (q.get("code_challenge") or [""])[0], (q.get("code_challenge_method") or [""])[0]
        ctx.check(bool(challenge) and method == "S256", NO_PKCE, exchanges=(e,), challenge=challenge, method=method)
    token = login[-1]
    verifier = form(await ctx.request_body(token)).get("code_verifier", "")
    if requests:
        challenge = (query_params(requests[-1]).get("code_challenge") or [""])[0]
        # the evidence redacts the verifier (sandbox.redaction): PSC checks it against the challenge
        # (RFC 7636 §4.6), so a redacted verifier matched exactly when the code exchange succeeded
        matched = token.status == "200" if verifier.startswith("redacted:") else _s256(verifier) == challenge
        ctx.check(bool(verifier) and matched, BAD_VERIFIER, exchanges=(requests[-1], token))


@test("03", title=Text("Niveau d'authentification eidas1", "Authentication level eidas1"),
      description=Text("Chaque demande d'autorisation porte acr_values=eidas1.",
                       "Every authorization request carries acr_values=eidas1."),
      verifies=("PSC.OIDC/03",))
async def acr(ctx: TestContext) -> None:
    for e in _authorize_requests(await first_login(ctx)):
        value = (query_params(e).get("acr_values") or [""])[0]
        ctx.check("eidas1" in value.split(), NO_ACR, exchanges=(e,), value=value)


@test("04", title=Text("Jeton d'identité vérifié après rotation des clés", "ID token verified after a key rotation"),
      description=Text("Le bac à sable change ses clés de signature juste avant d'émettre le jeton : le logiciel "
                       "doit relire le JWKS pour vérifier le jeton d'identité ; le jeton est obtenu par le client "
                       "déclaré.", "The sandbox rotates its signing keys just before issuing the token: the "
                       "software must read the JWKS again to verify the ID token; the token is obtained by the "
                       "declared client."),
      verifies=("PSC.OIDC/05", "PSC.OIDC/06"))
async def id_token_verified(ctx: TestContext) -> None:
    await ctx.drive.fault("psc", "jwks_rotated", operation="token")
    pro = ctx.inputs["professional"]
    start = now()
    await ctx.wait_for(EvidenceQuery(service="psc", operation="psc.userinfo", label="PSC userinfo"),
                       prompt=LOGIN_PROMPT.format(professional=pro), action="psc.login",
                       params={"professional": pro})
    window = since(await ctx.find(EvidenceQuery(service="psc")), start)
    tokens = [e for e in window if grant(e, "authorization_code")]
    if not tokens:
        ctx.fail(REFUSED, exchanges=window[-1:], what="PSC token", status="(none)")
    token = tokens[-1]
    # the seeded demo client: sandbox-demo in the default workspace, sandbox-demo-<ws> elsewhere
    demo = "sandbox-demo" if ctx.workspace == "default" else f"sandbox-demo-{ctx.workspace}"
    client = ctx.inputs.get("client_id") or demo
    ctx.check(token.status == "200", REFUSED, exchanges=(token,), what="PSC token", status=token.status)
    ctx.check(token.actor == client, WRONG_CLIENT, exchanges=(token,), actor=token.actor, client=client)
    userinfo = [e for e in window if e.operation == "psc.userinfo" and e.started_at >= token.ended_at]
    certs = [e for e in window if e.operation == "psc.certs" and e.started_at >= token.ended_at
             and (not userinfo or e.started_at <= userinfo[0].started_at)]
    ctx.check(bool(certs), NO_JWKS, exchanges=(token, *userinfo[:1]))


@test("05", title=Text("Renouvellement par le jeton de rafraîchissement", "Renewal with the refresh token"),
      description=Text("Le jeton d'accès est renouvelé par grant_type=refresh_token avec le dernier jeton de "
                       "rafraîchissement reçu.", "The access token is renewed with grant_type=refresh_token and "
                       "the last refresh token received."),
      verifies=("PSC.OIDC/08",))
async def refresh(ctx: TestContext) -> None:
    await first_login(ctx)
    start = now()
    found = await ctx.wait_for(EvidenceQuery(service="psc", operation="psc.token", label="PSC token"), prompt=Text(
        "Le jeton d'accès dure 120 s : faites renouveler la session par le logiciel (jeton de rafraîchissement).",
        "The access token lasts 120 s: have the software renew the session (refresh token)."),
        action="psc.refresh", params={})
    ex = ordered(found)[0]
    sent = form(await ctx.request_body(ex))
    if not ctx.check(sent.get("grant_type") == "refresh_token", NOT_REFRESH, exchanges=(ex,),
                     grant=sent.get("grant_type", "")):
        return
    ctx.check(ex.status == "200", REFUSED, exchanges=(ex,), what="refresh_token", status=ex.status)
    earlier = [e for e in await ctx.find(EvidenceQuery(service="psc", operation="psc.token", status="200"))
               if e.started_at < start]
    if earlier:
        last = ordered(earlier)[-1]
        issued = await ctx.response_json(last)
        ctx.check(sent.get("refresh_token") == (issued or {}).get("refresh_token"), STALE_REFRESH,
                  exchanges=(last, ex))


def _dmp_query(label: str) -> EvidenceQuery:
    return EvidenceQuery(service="dmp", operation=DMP_SEARCH_OPS, label=label)


@test("06", title=Text("Jeton révoqué : renouvelé, jamais rejoué", "Revoked token: renewed, never replayed"),
      description=Text("Le bac à sable refuse le jeton d'accès en cours (401) : le logiciel renouvelle le jeton ou "
                       "reconnecte l'utilisateur avant de rappeler le DMP.", "The sandbox refuses the current access "
                       "token (401): the software renews it or logs the user in again before calling the DMP again."),
      verifies=("PSC.OIDC/11",))
async def revoked(ctx: TestContext) -> None:
    await first_login(ctx)
    await ctx.drive.fault("psc", "token_expired_early", operation="verify")
    p = ctx.inputs["patient"]
    start = now()
    found = ordered(await ctx.wait_for(_dmp_query("DMP ITI-67 (x2)"), count=2, prompt=Text(
        f"Consultez les documents DMP du patient {patient_text(p)} ; le jeton d'accès en cours sera refusé.",
        f"Look up the DMP documents of patient {patient_text(p)}; the current access token will be refused."),
        action="dmp.search", params=patient_params(p)))
    first, second = found[0], found[1]
    if not ctx.check(first.status == "401", NOT_REVOKED_FIRST, exchanges=(first,), status=first.status):
        return
    renewed = [e for e in since(await ctx.find(EvidenceQuery(service="psc", operation="psc.token", status="200")),
                                start) if first.ended_at <= e.started_at <= second.started_at]
    ctx.check(bool(renewed), REPLAYED, exchanges=(first, second),
              detail="sans avoir renouvelé le jeton / without renewing the token")
    ctx.check(second.status != "401", REPLAYED, exchanges=(second,), detail=f"→ HTTP {second.status}")


@test("07", title=Text("Déconnexion honorée", "Logout honoured"),
      description=Text("La déconnexion appelle end_session_endpoint avec id_token_hint ; ensuite aucun jeton de la "
                       "session n'est réutilisé.", "Logout calls end_session_endpoint with id_token_hint; afterwards "
                       "no token of the session is used again."),
      verifies=("PSC.OIDC/09",))
async def logout(ctx: TestContext) -> None:
    await first_login(ctx)
    (out,) = ordered(await ctx.wait_for(EvidenceQuery(service="psc", operation="psc.logout", label="PSC logout"),
                                        prompt=Text("Déconnectez l'utilisateur du logiciel.",
                                                    "Log the user out of the software."),
                                        action="psc.logout", params={}))[:1]
    ctx.check(bool((query_params(out).get("id_token_hint") or [""])[0]), NO_HINT, exchanges=(out,))
    p = ctx.inputs["patient"]
    (call,) = ordered(await ctx.wait_for(_dmp_query("DMP ITI-67"), prompt=Text(
        f"Consultez à nouveau les documents DMP du patient {patient_text(p)}.",
        f"Look up the DMP documents of patient {patient_text(p)} again."),
        action="dmp.search", params=patient_params(p)))[:1]
    ctx.check(call.status != "401", AFTER_LOGOUT, exchanges=(out, call),
              detail=f"avec un jeton de la session close (HTTP {call.status}) / with a token of the closed session")
    tokens = [e for e in await ctx.find(EvidenceQuery(service="psc", operation="psc.token", status="200"))
              if out.ended_at <= e.started_at <= call.started_at]
    ctx.check(bool(tokens), AFTER_LOGOUT, exchanges=(out, call),
              detail="sans nouvelle connexion / without logging in again")


group = Group("psc", Text("Pro Santé Connect", "Pro Santé Connect"),
              Text("Connexion des professionnels par Pro Santé Connect (OpenID Connect).",
                   "Professionals' login through Pro Santé Connect (OpenID Connect)."),
              (discovery, pkce, acr, id_token_verified, refresh, revoked, logout))
