// An independent OpenID provider for the browser tests: oidc-provider (panva) on loopback with
// its development login form. Users and their claims come from the USERS environment variable
// (JSON: {login: {oid, name, upn, groups?: [...], overage?: true}}); an unknown login signs in
// as a user without groups.
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT);
const issuer = `http://127.0.0.1:${port}`;
const rps = (process.env.RP_BASES || "").split(",");
const tenant = process.env.TENANT_ID;
const users = JSON.parse(process.env.USERS || '{}');

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };

function claimsOf(login) {
  const u = users[login] || { oid: crypto.createHash('sha256').update(login).digest('hex').slice(0, 32), name: login, upn: `${login}@contoso.test` };
  const claims = { sub: login, oid: u.oid, tid: tenant, name: u.name, preferred_username: u.upn };
  if (u.overage) {
    // What Entra sends instead of `groups` for a user in too many groups.
    claims._claim_names = { groups: 'src1' };
    claims._claim_sources = { src1: { endpoint: `https://graph.microsoft.com/v1.0/users/${u.oid}/getMemberObjects` } };
  } else {
    claims.groups = u.groups || [];
  }
  return claims;
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    application_type: 'web',
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_post',
    redirect_uris: rps.map((b) => `${b}/signin-oidc`),
    post_logout_redirect_uris: rps.map((b) => `${b}/signout-callback-oidc`),
  }],
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub', 'oid', 'tid', 'groups', '_claim_names', '_claim_sources'],
    profile: ['name', 'preferred_username'],
  },
  cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = `<!DOCTYPE html><html><body>${form}<script>document.forms[0].submit()</script></body></html>`;
      },
    },
  },
  // No consent page: the test client is trusted.
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile');
    await grant.save();
    return grant;
  },
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => claimsOf(id) }),
});
provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
