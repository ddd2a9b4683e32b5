// Sign-up flows of Amplify JS v6 (aws-amplify/auth) against the emulator that
// amplify-account.js leaves out: resendSignUpCode (the first code dies, the new
// one confirms; a confirmed or unknown user is refused) and autoSignIn after
// signUp with `autoSignIn: { authFlowType: 'USER_AUTH' }`, which signs in with
// InitiateAuth USER_AUTH and the Session that ConfirmSignUp returned, no
// password sent; and the passwordless sign-up that USER_AUTH allows (no
// password, then e-mail codes). Input on stdin: {endpoint, userPoolId, clientId,
// case} (case "passwordless" runs that variant). Codes come from the emulator's
// loopback admin endpoint. Prints one JSON object; never a token.
'use strict';

if (typeof globalThis.navigator === 'undefined' || !globalThis.navigator.userAgent) {
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'cogauth-test/1.0 (Node)' }, configurable: true });
}

const { Amplify } = require('aws-amplify');
const auth = require('aws-amplify/auth');

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  // Amplify keeps a timer running after sign-up: exit once the answer is out.
  const done = (v) => process.stdout.write(JSON.stringify(v) + '\n', () => process.exit(0));
  const v = JSON.parse(input);
  (v.case === 'passwordless' ? passwordless : main)(v).then(
    (out) => done(out),
    (err) => done({ error: { name: err && err.name, message: err && err.message } }),
  );
});

async function codes(v, username, kind) {
  const q = new URLSearchParams({ poolId: v.userPoolId, username });
  const r = await fetch(v.endpoint + '/_emulator/codes?' + q);
  const { messages } = await r.json();
  return messages.filter((x) => x.kind === kind).map((x) => x.code);
}

// failure runs f, which must throw, and gives the error's name.
async function failure(f) {
  try {
    await f();
  } catch (e) {
    return e.name;
  }
  return 'no error';
}

// flows lists the InitiateAuth flows Amplify sends, by watching its requests.
const flows = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const target = init && init.headers && (init.headers['x-amz-target'] || init.headers['X-Amz-Target']);
  if (target === 'AWSCognitoIdentityProviderService.InitiateAuth') {
    const body = JSON.parse(init.body);
    flows.push({ flow: body.AuthFlow, session: !!body.Session, password: !!(body.AuthParameters && body.AuthParameters.PASSWORD) });
  }
  return realFetch(url, init);
};

function configure(v) {
  Amplify.configure({
    Auth: { Cognito: { userPoolId: v.userPoolId, userPoolClientId: v.clientId, userPoolEndpoint: v.endpoint } },
  });
}

async function main(v) {
  configure(v);
  const out = {};
  const user = 'ben';
  const pw = 'Ben-Passw0rd!1';

  const su = await auth.signUp({
    username: user, password: pw,
    options: { userAttributes: { email: 'ben@example.com' }, autoSignIn: { authFlowType: 'USER_AUTH' } },
  });
  out.signUpStep = su.nextStep.signUpStep;
  out.signUpMedium = su.nextStep.codeDeliveryDetails.deliveryMedium;
  const first = await codes(v, user, 'SIGN_UP');

  const rs = await auth.resendSignUpCode({ username: user });
  out.resend = { medium: rs.deliveryMedium, attribute: rs.attributeName, destination: rs.destination };
  const after = await codes(v, user, 'SIGN_UP');
  out.codesSent = after.length;
  out.newCode = after[after.length - 1] !== first[first.length - 1];
  // The code resent replaces the first one.
  out.firstCodeAfterResend = await failure(() => auth.confirmSignUp({ username: user, confirmationCode: first[first.length - 1] }));

  const cs = await auth.confirmSignUp({ username: user, confirmationCode: after[after.length - 1] });
  out.confirmStep = cs.nextStep.signUpStep;
  const as = await auth.autoSignIn();
  out.autoSignIn = as.nextStep.signInStep;
  const cu = await auth.getCurrentUser();
  out.user = cu.username;
  out.authFlowType = cu.signInDetails && cu.signInDetails.authFlowType;
  const s = await auth.fetchAuthSession();
  out.tokenUser = s.tokens && s.tokens.accessToken.payload.username;
  out.flows = flows.slice();
  await auth.signOut();

  // Afterwards the password signs in with USER_AUTH as usual.
  const again = await auth.signIn({ username: user, password: pw, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'PASSWORD' } });
  out.passwordAfter = again.nextStep.signInStep;
  await auth.signOut();

  out.resendConfirmed = await failure(() => auth.resendSignUpCode({ username: user }));
  out.resendUnknown = await failure(() => auth.resendSignUpCode({ username: 'nobody' }));
  return out;
}

// passwordless: signUp without a password (the pool allows EMAIL_OTP and
// verifies e-mail), autoSignIn with USER_AUTH, then sign-ins by e-mail code. Its
// own process: Amplify drops an autoSignIn call that comes within 300 ms of the
// one before (a debounce).
async function passwordless(v) {
  configure(v);
  const out = {};
  const pl = 'cat';
  const psu = await auth.signUp({
    username: pl,
    options: { userAttributes: { email: 'cat@example.com' }, autoSignIn: { authFlowType: 'USER_AUTH' } },
  });
  out.signUpStep = psu.nextStep.signUpStep;
  const pcodes = await codes(v, pl, 'SIGN_UP');
  const pcs = await auth.confirmSignUp({ username: pl, confirmationCode: pcodes[pcodes.length - 1] });
  out.confirmStep = pcs.nextStep.signUpStep;
  out.autoSignIn = (await auth.autoSignIn()).nextStep.signInStep;
  out.user = (await auth.getCurrentUser()).username;
  await auth.signOut();
  let r = await auth.signIn({ username: pl, options: { authFlowType: 'USER_AUTH' } });
  out.selectStep = r.nextStep.signInStep;
  out.available = r.nextStep.availableChallenges || [];
  r = await auth.confirmSignIn({ challengeResponse: 'EMAIL_OTP' });
  const otp = await codes(v, pl, 'EMAIL_OTP');
  r = await auth.confirmSignIn({ challengeResponse: otp[otp.length - 1] });
  out.otpDone = r.nextStep.signInStep;
  await auth.signOut();
  out.passwordSignIn = await failure(() => auth.signIn({ username: pl, password: 'Cat-Passw0rd!1' }));
  return out;
}
