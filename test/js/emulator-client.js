// Signs in with amazon-cognito-identity-js (USER_SRP_AUTH, the library's default)
// against a Cognito endpoint, refreshes, and tries a wrong password; prints what
// happened as JSON. Input on stdin: {endpoint, userPoolId, clientId, username,
// password}. Used by emulator/jsclient_test.go.
'use strict';
const { CognitoUserPool, CognitoUser, AuthenticationDetails } = require('amazon-cognito-identity-js');

function signIn(pool, username, password) {
  const user = new CognitoUser({ Username: username, Pool: pool });
  return new Promise((resolve) => {
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), {
      onSuccess: (session) => resolve({ user, session }),
      onFailure: (err) => resolve({ error: { code: err.code || err.name, message: err.message } }),
      newPasswordRequired: () => resolve({ error: { code: 'NEW_PASSWORD_REQUIRED' } }),
    });
  });
}

function refresh(user, session) {
  return new Promise((resolve) => {
    user.refreshSession(session.getRefreshToken(), (err, s) => {
      if (err) resolve({ error: { code: err.code || err.name, message: err.message } });
      else resolve({ session: s });
    });
  });
}

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const v = JSON.parse(input);
  const pool = new CognitoUserPool({ UserPoolId: v.userPoolId, ClientId: v.clientId, endpoint: v.endpoint });
  const out = {};
  const ok = await signIn(pool, v.username, v.password);
  if (ok.error) {
    out.signInError = ok.error;
  } else {
    out.accessToken = ok.session.getAccessToken().getJwtToken();
    out.idToken = ok.session.getIdToken().getJwtToken();
    out.sub = ok.session.getIdToken().payload.sub;
    const r = await refresh(ok.user, ok.session);
    if (r.error) out.refreshError = r.error;
    else {
      out.refreshedAccessToken = r.session.getAccessToken().getJwtToken();
      out.refreshedAuthTime = r.session.getAccessToken().payload.auth_time;
      out.authTime = ok.session.getAccessToken().payload.auth_time;
    }
  }
  const bad = await signIn(pool, v.username, v.password + 'x');
  out.wrongPasswordError = bad.error || null;
  process.stdout.write(JSON.stringify(out) + '\n');
});
