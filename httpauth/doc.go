// Package httpauth puts tokens on outgoing HTTP requests (a RoundTripper that
// refreshes once on 401) and verifies them on incoming ones (middleware that puts
// typed claims in the request context).
package httpauth
