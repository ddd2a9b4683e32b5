// Package websession signs browser users in through the Cognito hosted UI and
// keeps their Cognito sessions on the server: the "backend for frontend" pattern,
// in which the browser holds an opaque cookie and never sees a token.
//
// A Sessions serves the sign-in routes (login with PKCE S256, the callback, a
// POST-only logout, and a "me" endpoint with the user's claims) and a middleware
// that loads the session of each request, refreshes it when due — one refresh
// per session across every replica, through the store's Locker — and gives
// handlers the user (UserFrom): claims, a token source for httpauth and an
// aws.CredentialsProvider. Cross-origin requests that change state are refused
// with net/http's CrossOriginProtection, and the cookie is SameSite=Lax. No
// request waits longer than Config.RefreshWait for a refresh: a valid token is
// served meanwhile, and an expired one answers 503 with Retry-After (JSON, or a
// short page for navigations) — never a 401, the session kept. In an outage the
// token endpoint is held for the whole process (session.Breakers): one probe at
// a time, every other refresh failing at once without a call.
//
// Each web session is a session.Manager, made from Config.Session (the user
// pool's cognito client, wired once by the program, and the session settings),
// whose records live in the Store under a
// name derived (HMAC) from the cookie's session ID and are sealed with AES-GCM
// under a key derived from that ID: a dump of the store reveals no token and
// cannot be replayed as cookies. Replicas keep a bounded cache of live sessions,
// so a request on a fresh session costs no store round trip, and learn of
// sign-outs through a Bus (Redis pub/sub in websession/redisbus); Strict checks
// the store on every request instead. A sign-out is also a revocation kept until
// the session's cookies and tokens expire: with a Bus shared by the replicas, a
// copied cookie (cookie mode) is refused on every replica and the session's
// access tokens by every jwt.Verifier whose Revocations is a Revocations on the
// same Bus (NewRevocations); without one, a logout is local to the replica plus
// a RevokeToken at Cognito.
package websession
