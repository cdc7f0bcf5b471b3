// A throwaway OpenID Connect provider for the Rust test suite (panva/oidc-provider).
//
//   node provider.mjs --port 0 --client-id ID --client-secret SECRET \
//     --redirect-uri http://127.0.0.1:PORT/auth/callback
//
// Prints `READY <issuer>` on stdout once listening; exits 0 on SIGTERM/SIGINT.
// `--port 0` (the default) picks a free port; the issuer reflects the real one.
//
// Login: the built-in dev interaction form at /interaction/<uid> accepts any
// login name (POST prompt=login&login=NAME&password=anything). That name is the
// account: sub = email = NAME, email_verified = true unless NAME starts with
// `unverified-`. Consent is granted automatically (see loadExistingGrant), so
// no consent POST is needed.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

// oidc-provider writes its "you SHOULD change this default" notices with
// console.info; keep stdout for the READY line only.
console.info = console.error;

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.OIDC_PORT ?? '0' },
    'client-id': { type: 'string', default: process.env.OIDC_CLIENT_ID },
    'client-secret': { type: 'string', default: process.env.OIDC_CLIENT_SECRET },
    'redirect-uri': { type: 'string', default: process.env.OIDC_REDIRECT_URI },
  },
});
for (const name of ['client-id', 'client-secret', 'redirect-uri']) {
  if (!args[name]) {
    console.error(`provider.mjs: --${name} is required`);
    process.exit(2);
  }
}

// The issuer must contain the real port, so bind first and build the provider after.
let handler = (_req, res) => { res.statusCode = 503; res.end(); };
const server = createServer((req, res) => handler(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(args.port), '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`; // no trailing slash

// Fresh signing key per run instead of the library's fixed, publicly known dev key.
const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  alg: 'RS256',
  use: 'sig',
  kid: randomBytes(8).toString('hex'),
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    redirect_uris: [args['redirect-uri']],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // oidc-provider treats basic and post as interchangeable, so either works.
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'email'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // Put scope-granted claims in the ID token even though an access token is issued too.
  conformIdTokenClaims: false,
  // Confidential clients are not forced into PKCE by default; the app must always use it.
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
  },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: sub, email_verified: !sub.startsWith('unverified-') };
      },
    };
  },
  // Auto-consent: hand back a grant covering everything this provider offers,
  // so the dev consent form never shows.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email');
    await grant.save();
    return grant;
  },
});
handler = provider.callback();

process.stdout.write(`READY ${issuer}\n`);

const shutdown = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // keep-alive sockets would otherwise hold close() open
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
