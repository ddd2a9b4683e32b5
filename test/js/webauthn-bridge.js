// A browser's WebAuthn surface for Node, bridged to a software authenticator on
// the Go side: navigator.credentials.create/get turn their options back into
// the JSON forms (PublicKeyCredentialCreationOptionsJSON /
// PublicKeyCredentialRequestOptionsJSON), POST them to `${url}/create` or
// `${url}/get`, and make the answer JSON (RegistrationResponseJSON /
// AuthenticationResponseJSON) into PublicKeyCredential objects with
// ArrayBuffers, as a browser does. So Amplify's own passkey code (its options
// parsing, its serialization, its service calls) runs unchanged; the signatures
// are the Go authenticator's. window and document are the least Amplify checks
// for (isBrowser, isSecureContext); a page on http://localhost is a secure
// context.
'use strict';

const b64url = (buf) => Buffer.from(buf instanceof ArrayBuffer ? new Uint8Array(buf) : buf).toString('base64url');
const toBuffer = (s) => {
  const b = Buffer.from(s, 'base64url');
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
};

class AuthenticatorResponse {
  constructor(r) {
    this.clientDataJSON = toBuffer(r.clientDataJSON);
  }
}

class AuthenticatorAttestationResponse extends AuthenticatorResponse {
  constructor(r) {
    super(r);
    this.attestationObject = toBuffer(r.attestationObject);
    this._r = r;
  }
  getTransports() { return this._r.transports || []; }
  getPublicKeyAlgorithm() { return this._r.publicKeyAlgorithm; }
  getAuthenticatorData() { return toBuffer(this._r.authenticatorData); }
  getPublicKey() { return this._r.publicKey ? toBuffer(this._r.publicKey) : null; }
}

class AuthenticatorAssertionResponse extends AuthenticatorResponse {
  constructor(r) {
    super(r);
    this.authenticatorData = toBuffer(r.authenticatorData);
    this.signature = toBuffer(r.signature);
    this.userHandle = r.userHandle ? toBuffer(r.userHandle) : null;
  }
}

class PublicKeyCredential {
  constructor(j, response) {
    this.id = j.id;
    this.rawId = toBuffer(j.rawId);
    this.type = j.type;
    this.authenticatorAttachment = j.authenticatorAttachment || null;
    this.response = response;
    this._ext = j.clientExtensionResults || {};
  }
  getClientExtensionResults() { return this._ext; }
}

function install(url) {
  // calls counts the ceremonies, for the test to see that they happened.
  const calls = { create: 0, get: 0 };
  const post = async (path, body) => {
    const r = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await r.text();
    if (!r.ok) {
      const e = new Error(text);
      e.name = 'NotAllowedError';
      throw e;
    }
    return JSON.parse(text);
  };
  const credentials = {
    async create({ publicKey: o }) {
      calls.create++;
      const j = await post('/create', {
        ...o,
        challenge: b64url(o.challenge),
        user: { ...o.user, id: b64url(o.user.id) },
        excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: b64url(c.id) })),
      });
      return new PublicKeyCredential(j, new AuthenticatorAttestationResponse(j.response));
    },
    async get({ publicKey: o }) {
      calls.get++;
      const j = await post('/get', {
        ...o,
        challenge: b64url(o.challenge),
        allowCredentials: (o.allowCredentials || []).map((c) => ({ ...c, id: b64url(c.id) })),
      });
      return new PublicKeyCredential(j, new AuthenticatorAssertionResponse(j.response));
    },
  };
  Object.defineProperty(globalThis.navigator, 'credentials', { value: credentials, configurable: true });
  Object.assign(globalThis, { PublicKeyCredential, AuthenticatorAttestationResponse, AuthenticatorAssertionResponse });
  globalThis.window = globalThis;
  globalThis.isSecureContext = true;
  // Amplify's framework detection looks for a few elements: there are none.
  globalThis.document = { addEventListener() {}, removeEventListener() {}, querySelector: () => null, querySelectorAll: () => [] };
  return calls;
}

module.exports = { install };
