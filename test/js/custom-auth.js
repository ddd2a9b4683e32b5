// Signs in with amazon-cognito-identity-js's custom authentication against a
// Cognito endpoint whose pool runs a math challenge (DefineAuthChallenge,
// CreateAuthChallenge, VerifyAuthChallengeResponse): CUSTOM_AUTH with initiateAuth
// (no password), and CUSTOM_WITH_SRP with authenticateUser (the library sends
// SRP_A and CHALLENGE_NAME=SRP_A, answers PASSWORD_VERIFIER, then the custom
// challenge). The first answer is wrong on purpose. Input on stdin: {endpoint,
// userPoolId, clientId, username, password}; prints what happened as JSON. Used by
// emulator/jsclient_test.go.
'use strict';
const { CognitoUserPool, CognitoUser, AuthenticationDetails } = require('amazon-cognito-identity-js');

function solve(q) {
  const [a, b] = q.split(' + ').map(Number);
  return String(a + b);
}

function custom(pool, username, password) {
  const user = new CognitoUser({ Username: username, Pool: pool });
  user.setAuthenticationFlowType('CUSTOM_AUTH');
  const seen = [];
  return new Promise((resolve) => {
    const callbacks = {
      onSuccess: (session) => resolve({ seen, username: session.getIdToken().payload['cognito:username'] }),
      onFailure: (err) => resolve({ seen, error: { code: err.code || err.name, message: err.message } }),
      customChallenge: (params) => {
        seen.push(params.question);
        // Wrong first, then right.
        user.sendCustomChallengeAnswer(seen.length === 1 ? '-1' : solve(params.question), callbacks);
      },
    };
    const details = new AuthenticationDetails(password ? { Username: username, Password: password } : { Username: username });
    if (password) user.authenticateUser(details, callbacks);
    else user.initiateAuth(details, callbacks);
  });
}

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const v = JSON.parse(input);
  const pool = new CognitoUserPool({ UserPoolId: v.userPoolId, ClientId: v.clientId, endpoint: v.endpoint });
  const out = {
    custom: await custom(pool, v.username, ''),
    customWithSRP: await custom(pool, v.username, v.password),
    wrongPassword: await custom(pool, v.username, v.password + 'x'),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
});
