// Computes Cognito SRP values with amazon-cognito-identity-js's own
// AuthenticationHelper, for fixed inputs read as a JSON array on stdin, so the Go
// srp package can be checked against the library every Cognito JS client uses.
// Each input: {poolName, userId, password, aHex, bHex, saltHex, secretBlock, timestamp}.
// Each output adds: {srpA, signature, verifier}.
'use strict';
const AuthenticationHelper = require('amazon-cognito-identity-js/lib/AuthenticationHelper').default;
const BigInteger = require('amazon-cognito-identity-js/lib/BigInteger').default;
const { Sha256 } = require('@aws-crypto/sha256-js');

function one(v) {
  return new Promise((resolve, reject) => {
    const h = new AuthenticationHelper(v.poolName);
    h.smallAValue = new BigInteger(v.aHex, 16);
    h.largeAValue = undefined;
    h.getLargeAValue((err, A) => {
      if (err) return reject(err);
      const B = new BigInteger(v.bHex, 16);
      const salt = new BigInteger(v.saltHex, 16);
      h.getPasswordAuthenticationKey(v.userId, v.password, B, salt, (err2, hkdf) => {
        if (err2) return reject(err2);
        const msg = Buffer.concat([
          Buffer.from(v.poolName, 'utf8'),
          Buffer.from(v.userId, 'utf8'),
          Buffer.from(v.secretBlock, 'base64'),
          Buffer.from(v.timestamp, 'utf8'),
        ]);
        const mac = new Sha256(hkdf);
        mac.update(msg);
        const signature = Buffer.from(mac.digestSync()).toString('base64');
        // The verifier as generateHashDevice builds it: g^H(pad(salt) | H(prefix|user:pw)).
        const x = new BigInteger(h.hexHash(h.padHex(salt) + h.hash(`${v.poolName}${v.userId}:${v.password}`)), 16);
        h.g.modPow(x, h.N, (err3, ver) => {
          if (err3) return reject(err3);
          resolve(Object.assign({}, v, { srpA: A.toString(16), signature, verifier: ver.toString(16) }));
        });
      });
    });
  });
}

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const out = [];
  for (const v of JSON.parse(input)) out.push(await one(v));
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
});
