// openid-client v6 against a live authgate: discovery, authorization URL with PKCE, code
// exchange with ID token validation, UserInfo; then, with offline_access, refresh with
// rotation (refreshTokenGrant), RFC 7662 introspection (tokenIntrospection) and RFC 7009
// revocation (tokenRevocation). The Python test completes each login and consent: for
// every authorization it reads {"authorization_url": …} from our output and writes the
// callback URL (where authgate redirected the browser) to our stdin. The last output line
// is the result.
import * as client from 'openid-client';
import readline from 'node:readline';

const [issuer, clientId, clientSecret, redirectUri] = process.argv.slice(2);

const config = await client.discovery(
  new URL(issuer),
  clientId,
  undefined,
  client.ClientSecretBasic(clientSecret),
  { execute: [client.allowInsecureRequests] }, // the issuer is http://127.0.0.1
);
const input = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function codeFlow() {
  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    // OIDC Core §11: offline_access with prompt=consent gets a refresh token.
    scope: 'openid profile email offline_access',
    prompt: 'consent',
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  console.log(JSON.stringify({ authorization_url: url.href }));
  const callback = (await input.next()).value;
  return client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: codeVerifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  });
}

// The error code a refresh with this token gets (null if it succeeds).
async function refreshError(refreshToken) {
  try {
    await client.refreshTokenGrant(config, refreshToken);
    return null;
  } catch (error) {
    return error.error ?? String(error);
  }
}

async function active(token) {
  return (await client.tokenIntrospection(config, token)).active;
}

// 1. The code flow, the ID token and UserInfo.
const tokens = await codeFlow();
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

// 2. Refresh with rotation: a new refresh token; presenting the old one again is a replay
// (RFC 9700 §4.14.2), refused, and it ends the whole family.
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const rotation = {
  new_refresh_token: typeof refreshed.refresh_token === 'string'
    && refreshed.refresh_token !== tokens.refresh_token,
  refreshed_claims_sub: refreshed.claims()?.sub ?? null,
  new_access_token_active: await active(refreshed.access_token),
  new_refresh_token_active: await active(refreshed.refresh_token),
  old_refresh_token_error: await refreshError(tokens.refresh_token),
  after_replay_active: await active(refreshed.access_token),
};

// 3. Introspection and revocation on a second authorization: revoking the refresh token
// ends the grant's access tokens too (RFC 7009 §2.1).
const second = await codeFlow();
const introspected = await client.tokenIntrospection(config, second.access_token);
await client.tokenRevocation(config, second.refresh_token);
const revocation = {
  access_token_active_after: await active(second.access_token),
  refresh_token_active_after: await active(second.refresh_token),
  refresh_error_after: await refreshError(second.refresh_token),
};

console.log(JSON.stringify({
  token_type: tokens.token_type,
  scope: tokens.scope,
  expires_in: tokens.expiresIn(),
  has_refresh_token: typeof tokens.refresh_token === 'string',
  claims,
  userinfo,
  rotation,
  introspection: introspected,
  revocation,
}));
process.exit(0);
