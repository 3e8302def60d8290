// openid-client v6 as a device (RFC 8628) against a live authgate: discovery, device
// authorization, then polling the token endpoint. The Python test plays the person: it
// reads the device authorization response from our first output line and approves (or
// denies) the code on the verification page while we poll.
import * as client from 'openid-client';

const [issuer, clientId, scope] = process.argv.slice(2);

const config = await client.discovery(
  new URL(issuer),
  clientId,
  undefined,
  client.None(), // a public device client
  { execute: [client.allowInsecureRequests] }, // the issuer is http://127.0.0.1
);
const response = await client.initiateDeviceAuthorization(config, { scope });
console.log(JSON.stringify(response));

try {
  const tokens = await client.pollDeviceAuthorizationGrant(config, response);
  console.log(JSON.stringify({
    token_type: tokens.token_type,
    scope: tokens.scope,
    has_refresh_token: typeof tokens.refresh_token === 'string',
    claims: tokens.claims(),
  }));
} catch (error) {
  console.log(JSON.stringify({ error: error.error ?? String(error) }));
}
