// Cross-check of cogauth's jwt.Verifier against aws-jwt-verify (AWS's own Node
// library). Reads JSON on stdin:
//   {"userPoolId": "...", "clientId": "...", "jwks": {...}, "tokens": [{"use": "access"|"id", "token": "..."}]}
// The JWKS is handed over from the Go side (cacheJwks), so the verifier checks the
// real Cognito issuer format while the keys come from the emulator.
// Writes [{"ok": true} | {"ok": false, "error": "<error class>"}] on stdout, one per
// token, in order. Tokens are never printed.
"use strict";
const { CognitoJwtVerifier } = require("aws-jwt-verify");

let input = "";
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", async () => {
  const req = JSON.parse(input);
  const verifiers = {};
  for (const use of ["access", "id"]) {
    const v = CognitoJwtVerifier.create({ userPoolId: req.userPoolId, tokenUse: use, clientId: req.clientId });
    v.cacheJwks(req.jwks);
    verifiers[use] = v;
  }
  const out = [];
  for (const t of req.tokens) {
    try {
      await verifiers[t.use].verify(t.token);
      out.push({ ok: true });
    } catch (e) {
      out.push({ ok: false, error: e && e.constructor ? e.constructor.name : String(e) });
    }
  }
  process.stdout.write(JSON.stringify(out));
});
