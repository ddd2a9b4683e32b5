// The account lifecycle through Amplify JS v6 (aws-amplify/auth) against the
// emulator: signUp → confirmSignUp → autoSignIn, updateUserAttributes (the
// original e-mail kept until verified) → confirmUserAttribute, setUpTOTP → verifyTOTPSetup → updateMFAPreference →
// fetchMFAPreference, updatePassword, signOut, resetPassword →
// confirmResetPassword, signIn USER_AUTH with preferredChallenge EMAIL_OTP,
// deleteUser. Input on stdin: {endpoint, userPoolId, clientId}. Codes come from
// the emulator's loopback admin endpoint, TOTP codes from the Go side's secret
// (computed here with RFC 6238). Prints one JSON object; never a token.
'use strict';

if (typeof globalThis.navigator === 'undefined' || !globalThis.navigator.userAgent) {
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'cogauth-test/1.0 (Node)' }, configurable: true });
}

const crypto = require('crypto');
const { Amplify } = require('aws-amplify');
const auth = require('aws-amplify/auth');

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  // Amplify keeps a timer running after sign-in: exit once the answer is out.
  const done = (v) => process.stdout.write(JSON.stringify(v) + '\n', () => process.exit(0));
  main(JSON.parse(input)).then(
    (out) => done(out),
    (err) => done({ error: { name: err && err.name, message: err && err.message } }),
  );
});

async function code(v, username, kind) {
  const q = new URLSearchParams({ poolId: v.userPoolId, username });
  const r = await fetch(v.endpoint + '/_emulator/codes?' + q);
  const { messages } = await r.json();
  const m = messages.filter((x) => x.kind === kind);
  if (m.length === 0) throw new Error('no ' + kind + ' code');
  return m[m.length - 1].code;
}

async function emulatorNow(v) {
  const r = await fetch(v.endpoint + '/_emulator/clock');
  return new Date((await r.json()).now);
}

function base32(s) {
  const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of s.replace(/=+$/, '')) bits += alpha.indexOf(ch).toString(2).padStart(5, '0');
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}

function totp(secret, when) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(when.getTime() / 30000)));
  const h = crypto.createHmac('sha1', base32(secret)).update(msg).digest();
  const off = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

async function main(v) {
  Amplify.configure({
    Auth: { Cognito: { userPoolId: v.userPoolId, userPoolClientId: v.clientId, userPoolEndpoint: v.endpoint } },
  });
  const out = {};
  const user = 'amy';
  const pw1 = 'Amy-Passw0rd!1', pw2 = 'Amy-Passw0rd!2', pw3 = 'Amy-Passw0rd!3';

  const su = await auth.signUp({
    username: user, password: pw1,
    options: { userAttributes: { email: 'amy@example.com' }, autoSignIn: true },
  });
  out.signUpStep = su.nextStep.signUpStep;
  const cs = await auth.confirmSignUp({ username: user, confirmationCode: await code(v, user, 'SIGN_UP') });
  out.confirmStep = cs.nextStep.signUpStep;
  const as = await auth.autoSignIn();
  out.autoSignIn = as.nextStep.signInStep;
  out.user = (await auth.getCurrentUser()).username;

  const up = await auth.updateUserAttributes({ userAttributes: { email: 'amy2@example.com', nickname: 'a' } });
  out.updateEmailStep = up.email.nextStep.updateAttributeStep;
  // The pool keeps the original address until the new one is verified.
  const pending = await auth.fetchUserAttributes();
  out.pendingAttributes = { email: pending.email, email_verified: pending.email_verified, nickname: pending.nickname || '' };
  await auth.confirmUserAttribute({ userAttributeKey: 'email', confirmationCode: await code(v, user, 'VERIFY_ATTRIBUTE') });
  await auth.sendUserAttributeVerificationCode({ userAttributeKey: 'email' });
  await auth.deleteUserAttributes({ userAttributeKeys: ['nickname'] });
  const attrs = await auth.fetchUserAttributes();
  out.attributes = { email: attrs.email, email_verified: attrs.email_verified, nickname: attrs.nickname || '' };

  const setup = await auth.setUpTOTP();
  const secret = setup.sharedSecret;
  out.totpURI = setup.getSetupUri('cogauth').toString().startsWith('otpauth://totp/');
  await auth.verifyTOTPSetup({ code: totp(secret, await emulatorNow(v)) });
  await auth.updateMFAPreference({ totp: 'PREFERRED' });
  out.mfa = await auth.fetchMFAPreference();
  await auth.updateMFAPreference({ totp: 'DISABLED' });

  await auth.updatePassword({ oldPassword: pw1, newPassword: pw2 });
  await auth.signOut();

  const rp = await auth.resetPassword({ username: user });
  out.resetStep = rp.nextStep.resetPasswordStep;
  await auth.confirmResetPassword({ username: user, newPassword: pw3, confirmationCode: await code(v, user, 'FORGOT_PASSWORD') });
  let r = await auth.signIn({ username: user, password: pw3 });
  out.passwordSignIn = r.nextStep.signInStep;
  await auth.signOut();

  r = await auth.signIn({ username: user, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'EMAIL_OTP' } });
  out.otpStep = r.nextStep.signInStep;
  r = await auth.confirmSignIn({ challengeResponse: await code(v, user, 'EMAIL_OTP') });
  out.otpDone = r.nextStep.signInStep;
  await auth.signOut();

  r = await auth.signIn({ username: user, options: { authFlowType: 'USER_AUTH' } });
  out.selectStep = r.nextStep.signInStep;
  out.available = r.nextStep.availableChallenges || [];
  r = await auth.confirmSignIn({ challengeResponse: 'EMAIL_OTP' });
  out.selectedStep = r.nextStep.signInStep;
  r = await auth.confirmSignIn({ challengeResponse: await code(v, user, 'EMAIL_OTP') });
  out.selectedDone = r.nextStep.signInStep;

  await auth.deleteUser();
  try {
    await auth.signIn({ username: user, password: pw3 });
    out.afterDelete = 'signed in';
  } catch (e) {
    out.afterDelete = e.name;
  }
  return out;
}
