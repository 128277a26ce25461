// Reference OpenID Provider for bench/psc_tokens.py: panva oidc-provider 9.13.3, configured like
// the sandbox's PSC for the measured paths — RS256 (or ES256) ID tokens with kid, PKCE S256 required,
// authorization_code + refresh_token (issued on every code exchange, like PSC) + client_credentials,
// client_secret_basic, acr eidas1, access token 120 s, code TTL 600 s (so codes minted before the
// timed phase stay valid). Interactions are finished automatically for the account named by
// login_hint (the sandbox's login_hint shortcut). Storage: oidc-provider's in-memory adapter.
// With a third argument `jwt`, access tokens are JWTs signed like the ID token (through
// oidc-provider's resource indicators: one default resource server, audience `bench`), as the
// sandbox and PSC issue them; the default is oidc-provider's opaque access tokens.
// usage: node op.mjs <port> [RS256|ES256] [opaque|jwt]
import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';

const port = Number(process.argv[2] ?? 3000);
const alg = process.argv[3] ?? 'RS256';
const jwtAccessTokens = process.argv[4] === 'jwt';
const RESOURCE = 'urn:mes-sandbox:bench';
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = await generateKeyPair(alg, { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: `bench-${alg.toLowerCase()}`, alg, use: 'sig' };

// oidc-provider's bundled dev adapter is an LRU of 1000 entries: minted codes would be evicted
// before the timed phase. This one is a plain Map with expiry (still in process memory).
const stores = new Map();
class MemoryAdapter {
  constructor(name) { this.name = name; }
  key(id) { return `${this.name}:${id}`; }
  async upsert(id, payload, expiresIn) {
    stores.set(this.key(id), { payload, exp: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    if (payload.grantId) {
      const k = `grant:${payload.grantId}`;
      stores.set(k, { payload: [...(stores.get(k)?.payload ?? []), this.key(id)], exp: Infinity });
    }
    if (payload.userCode) stores.set(`userCode:${payload.userCode}`, { payload: id, exp: Infinity });
    if (payload.uid) stores.set(`uid:${this.name}:${payload.uid}`, { payload: id, exp: Infinity });
  }
  async find(id) {
    const hit = stores.get(this.key(id));
    if (!hit || hit.exp < Date.now()) return undefined;
    return hit.payload;
  }
  async findByUid(uid) { const id = stores.get(`uid:${this.name}:${uid}`)?.payload; return id && this.find(id); }
  async findByUserCode(code) { const id = stores.get(`userCode:${code}`)?.payload; return id && this.find(id); }
  async consume(id) { const hit = stores.get(this.key(id)); if (hit) hit.payload.consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { stores.delete(this.key(id)); }
  async revokeByGrantId(grantId) {
    for (const k of stores.get(`grant:${grantId}`)?.payload ?? []) stores.delete(k);
    stores.delete(`grant:${grantId}`);
  }
}

const provider = new Provider(issuer, {
  adapter: MemoryAdapter,
  clients: [{
    client_id: 'bench', client_secret: 'bench-secret',
    redirect_uris: ['http://127.0.0.1:8000/callback'], response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: alg,
    scope: 'openid profile scope_all',
  }],
  jwks: { keys: [jwk] },
  acrValues: ['eidas1'],
  scopes: ['openid', 'profile', 'scope_all'],
  claims: { openid: ['sub'], profile: ['given_name', 'family_name', 'preferred_username'] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    ...(jwtAccessTokens ? {
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'scope_all', audience: 'bench', accessTokenTTL: 120, accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        }),
      },
    } : {}),
  },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: { AccessToken: 120, AuthorizationCode: 600, IdToken: 300, RefreshToken: 1800, Interaction: 600,
         Session: 3600, Grant: 3600, ClientCredentials: 120 },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, given_name: 'ROBERT', family_name: 'SPECIALISTE0021889', preferred_username: id }),
  }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['mes-sandbox-bench'] },
});

provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!m) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const accountId = details.params.login_hint || 'anonymous';
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  if (jwtAccessTokens) grant.addResourceScope(RESOURCE, 'scope_all');
  const grantId = await grant.save();
  const url = await provider.interactionResult(ctx.req, ctx.res, {
    login: { accountId, acr: 'eidas1' }, consent: { grantId },
  }, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(url);
});

provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
