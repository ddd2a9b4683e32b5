// Passkey management of Amplify JS v6 (aws-amplify/auth) against the emulator:
// listWebAuthnCredentials (one page, and page by page with pageSize and
// nextToken) and deleteWebAuthnCredential, for a user whose passkeys the Go
// side registered with a software authenticator. Then, with navigator.credentials
// bridged to a Go software authenticator (webauthn-bridge.js), Amplify's own
// passkey code: associateWebAuthnCredential, and signIn with USER_AUTH by
// preferredChallenge WEB_AUTHN and by selecting WEB_AUTHN. Input on stdin:
// {endpoint, userPoolId, clientId, username, password, authenticator (the
// bridge's URL)}. Prints one JSON object; never a token.
'use strict';

if (typeof globalThis.navigator === 'undefined' || !globalThis.navigator.userAgent) {
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'cogauth-test/1.0 (Node)' }, configurable: true });
}

const { Amplify } = require('aws-amplify');
const auth = require('aws-amplify/auth');

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  // Amplify keeps a timer running after sign-in: exit once the answer is out.
  const done = (v) => process.stdout.write(JSON.stringify(v) + '\n', () => process.exit(0));
  main(JSON.parse(input)).then(
    (out) => done(out),
    (err) => done({ ...out, error: { name: err && err.name, message: err && err.message, underlying: err && err.underlyingError && String(err.underlyingError) } }),
  );
});

async function failure(f) {
  try {
    await f();
  } catch (e) {
    return e.name;
  }
  return 'no error';
}

const shown = (c) => ({
  id: c.credentialId,
  name: c.friendlyCredentialName,
  rpId: c.relyingPartyId,
  attachment: c.authenticatorAttachment,
  transports: c.authenticatorTransports,
  createdAt: c.createdAt instanceof Date ? c.createdAt.toISOString() : String(c.createdAt),
});

// out is what happened so far, printed with an error too.
const out = {};

async function main(v) {
  Amplify.configure({
    Auth: { Cognito: { userPoolId: v.userPoolId, userPoolClientId: v.clientId, userPoolEndpoint: v.endpoint } },
  });
  const ceremonies = require('./webauthn-bridge').install(v.authenticator);
  out.listSignedOut = await failure(() => auth.listWebAuthnCredentials());
  const r = await auth.signIn({ username: v.username, password: v.password });
  out.signIn = r.nextStep.signInStep;

  const all = await auth.listWebAuthnCredentials();
  out.all = all.credentials.map(shown);
  out.allNextToken = all.nextToken || '';

  // Page by page, two at a time.
  out.pages = [];
  let next;
  for (let i = 0; i < 10; i++) {
    const page = await auth.listWebAuthnCredentials({ pageSize: 2, nextToken: next });
    out.pages.push(page.credentials.map((c) => c.credentialId));
    next = page.nextToken;
    if (!next) break;
  }

  const gone = out.all[0].id;
  await auth.deleteWebAuthnCredential({ credentialId: gone });
  out.deleted = gone;
  out.afterDelete = (await auth.listWebAuthnCredentials()).credentials.map((c) => c.credentialId);
  out.deleteAgain = await failure(() => auth.deleteWebAuthnCredential({ credentialId: gone }));

  // Amplify registers a passkey itself (StartWebAuthnRegistration, create(),
  // CompleteWebAuthnRegistration) ...
  await auth.associateWebAuthnCredential();
  const after = (await auth.listWebAuthnCredentials()).credentials.map((c) => c.credentialId);
  out.associated = after.filter((id) => !out.afterDelete.includes(id));
  await auth.signOut();

  // ... and signs in with it: the WEB_AUTHN challenge answered through get().
  let s = await auth.signIn({ username: v.username, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'WEB_AUTHN' } });
  out.preferred = s.nextStep.signInStep;
  out.preferredUser = (await auth.getCurrentUser()).username;
  await auth.signOut();
  s = await auth.signIn({ username: v.username, options: { authFlowType: 'USER_AUTH' } });
  out.selectStep = s.nextStep.signInStep;
  out.available = s.nextStep.availableChallenges || [];
  s = await auth.confirmSignIn({ challengeResponse: 'WEB_AUTHN' });
  out.selected = s.nextStep.signInStep;
  out.selectedUser = (await auth.getCurrentUser()).username;
  await auth.signOut();
  out.ceremonies = ceremonies;
  return out;
}
