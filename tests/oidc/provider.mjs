// A real OpenID provider for parro's tests: the certified `oidc-provider` package on a
// loopback port. tests/oidc_provider.py starts it once per test session.
//
// Input (JSON on stdin): { clients: [...client metadata], accounts: { login: {...} } }.
// An account is { sub, email, email_verified?, name, amr?, acr? }; a missing
// email_verified is left out of the ID token (as Microsoft Entra ID does).
// Output: one line `ready <issuer>` on stdout once it listens.
//
// What a real provider has and a test needs besides:
// - the login page (/interaction/:uid) is a small form: type the account's login and
//   submit; the account's `amr`/`acr` (multi-factor or not) go into the session and so
//   into the ID token, as a provider does after its own login with or without MFA;
// - consent is granted at once (a school's own app needs none);
// - dynamic client registration is open, so a test can register a client for the
//   port its live server got;
// - POST /__test__/tamper {"mode": "payload"|"none"} changes the ID token in the NEXT
//   token response only, after it was signed: "payload" swaps the e-mail address inside
//   the signed token (the signature no longer matches), "none" re-sends the claims with
//   alg "none" and no signature. It stands for an attacker between parro and the
//   provider; the provider itself stays honest.
import http from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const input = JSON.parse(await new Promise((resolve) => {
  let data = '';
  process.stdin.on('data', (chunk) => { data += chunk; });
  process.stdin.on('end', () => resolve(data));
}));
const accounts = input.accounts;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: input.clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: ['parro-test-provider-cookie-key'] },
  claims: {
    // amr, acr and auth_time go into every ID token (as Entra ID's amr does), as the
    // login set them
    openid: ['sub', 'amr', 'acr', 'auth_time'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // Like Entra ID and Google: the ID token itself carries the e-mail address and name.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  // PKCE for every client, so a request without it is refused: parro must send it.
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        const claims = { sub: account.sub, email: account.email, name: account.name };
        if (account.email_verified !== undefined) claims.email_verified = account.email_verified;
        return claims;
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError(ctx, out) {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = `provider error: ${out.error}: ${out.error_description}`;
  },
});
// The accounts' subjects are the logins: findAccount is keyed on them.
for (const [login, account] of Object.entries(accounts)) {
  if (account.sub !== login) throw new Error(`account ${login}: sub must equal the login`);
}

function readForm(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(new URLSearchParams(data)));
  });
}

function b64json(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function tamper(idToken, mode) {
  const [header, payload, signature] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  if (mode === 'none') return `${b64json({ alg: 'none', typ: 'JWT' })}.${b64json(claims)}.`;
  claims.email = 'admin@school.example';
  return `${header}.${b64json(claims)}.${signature}`;
}

let tamperNext = null;

provider.use(async (ctx, next) => {
  const login = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (login && ctx.method === 'GET' && !login[2]) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = `<!doctype html><html lang="en"><head><title>Test provider: sign in</title></head>
<body><h1>Test provider</h1><p>Sign in to continue to ${details.params.client_id}.</p>
<form method="post" action="/interaction/${details.uid}/login">
<label>Login <input name="login" autofocus></label>
<button type="submit">Sign in</button></form></body></html>`;
    return;
  }
  if (login && ctx.method === 'POST' && login[2]) {
    const form = await readForm(ctx.req);
    const account = accounts[form.get('login')];
    if (!account) {
      ctx.status = 400;
      ctx.body = 'unknown test login';
      return;
    }
    const result = {
      login: {
        accountId: account.sub,
        ...(account.amr ? { amr: account.amr } : {}),
        ...(account.acr ? { acr: account.acr } : {}),
      },
    };
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.respond = false;
    return;
  }
  if (ctx.path === '/__test__/tamper' && ctx.method === 'POST') {
    tamperNext = (await readForm(ctx.req)).get('mode');
    ctx.body = 'ok';
    return;
  }
  await next();
  if (ctx.path === '/token' && tamperNext && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: tamper(ctx.body.id_token, tamperNext) };
    tamperNext = null;
  }
});

server.on('request', provider.callback());
process.stdout.write(`ready ${issuer}\n`);
// It runs until the test session ends it (SIGTERM).
