// A strict relying party (panva openid-client 6.8.9) against the sandbox's PSC, used by
// tests/psc/test_openid_client_node.py: discovery through PSC's wallet-openid-configuration,
// code + PKCE (S256) with state/nonce/acr_values and login_hint, ID token validation, userinfo,
// refresh token rotation, introspection. Prints one JSON object on stdout.
// usage: node rp-flow.mjs <issuer> <client_id> <client_secret> <redirect_uri> <login_hint>
import * as client from 'openid-client';

const [issuer, clientId, clientSecret, redirectUri, loginHint] = process.argv.slice(2);
const config = await client.discovery(
  new URL(`${issuer}/.well-known/wallet-openid-configuration`), clientId, clientSecret, undefined,
  { execute: [client.allowInsecureRequests] });

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri, scope: 'openid scope_all profile',
  code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  state, nonce, acr_values: 'eidas1', login_hint: loginHint,
});
const res = await fetch(url, { redirect: 'manual' });
const location = res.headers.get('location');
if (res.status !== 302 || !location) throw new Error(`authorize answered ${res.status}`);

const tokens = await client.authorizationCodeGrant(config, new URL(location), {
  pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const introspection = await client.tokenIntrospection(config, refreshed.access_token);
let replay = null;
try {
  await client.refreshTokenGrant(config, tokens.refresh_token);
} catch (err) {
  replay = err.error ?? err.code ?? String(err);
}
console.log(JSON.stringify({
  issuer: config.serverMetadata().issuer, claims, userinfo,
  refreshed: Boolean(refreshed.access_token && refreshed.refresh_token !== tokens.refresh_token),
  introspection, replay,
}));
