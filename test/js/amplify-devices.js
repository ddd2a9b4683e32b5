// Remembered devices through Amplify JS v6 (aws-amplify/auth) against the emulator:
// sign in with SMS MFA, rememberDevice, sign out, sign in again (MFA must be
// skipped: DEVICE_SRP_AUTH), forgetDevice, sign out, sign in (MFA asked again).
// Input on stdin: {endpoint, userPoolId, clientId, username, password}. The SMS
// codes come from the emulator's loopback admin endpoint. Prints one JSON object:
// the steps each sign-in went through and the emulator's request counters after
// each phase. Tokens are never printed.
'use strict';

// Amplify reads navigator.userAgent for the device name when it confirms a new
// device; without a navigator it skips device confirmation without a word.
if (typeof globalThis.navigator === 'undefined' || !globalThis.navigator.userAgent) {
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'cogauth-test/1.0 (Node)' }, configurable: true });
}

const { Amplify } = require('aws-amplify');
const { signIn, confirmSignIn, signOut, rememberDevice, forgetDevice, fetchDevices } = require('aws-amplify/auth');

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  main(JSON.parse(input)).then(
    (out) => process.stdout.write(JSON.stringify(out) + '\n'),
    (err) => {
      process.stdout.write(JSON.stringify({ error: { name: err && err.name, message: err && err.message } }) + '\n');
    },
  );
});

async function admin(v, path) {
  const r = await fetch(v.endpoint + '/_emulator/' + path);
  if (!r.ok) throw new Error('admin ' + path + ': HTTP ' + r.status);
  return r.json();
}

async function lastCode(v) {
  const q = new URLSearchParams({ poolId: v.userPoolId, username: v.username });
  const { messages } = await admin(v, 'codes?' + q);
  const sms = messages.filter((m) => m.kind === 'SMS_MFA');
  if (sms.length === 0) throw new Error('no SMS_MFA code was sent');
  return sms[sms.length - 1].code;
}

// signInOnce signs in and answers an SMS MFA challenge when one comes; it returns
// the steps Amplify reported.
async function signInOnce(v) {
  const steps = [];
  let r = await signIn({ username: v.username, password: v.password });
  steps.push(r.nextStep.signInStep);
  if (r.nextStep.signInStep === 'CONFIRM_SIGN_IN_WITH_SMS_CODE') {
    r = await confirmSignIn({ challengeResponse: await lastCode(v) });
    steps.push(r.nextStep.signInStep);
  }
  return steps;
}

async function main(v) {
  Amplify.configure({
    Auth: { Cognito: { userPoolId: v.userPoolId, userPoolClientId: v.clientId, userPoolEndpoint: v.endpoint } },
  });
  const out = {};
  out.first = await signInOnce(v);
  await rememberDevice();
  out.devicesAfterRemember = (await fetchDevices()).length;
  out.countsAfterFirst = (await admin(v, 'requests')).requests;
  await signOut();

  out.second = await signInOnce(v);
  out.countsAfterSecond = (await admin(v, 'requests')).requests;
  out.devicesAfterSecond = (await fetchDevices()).length;

  await forgetDevice();
  await signOut();
  out.third = await signInOnce(v);
  out.countsAfterThird = (await admin(v, 'requests')).requests;
  await signOut();
  return out;
}
