package session

// HostedUIRefresher is what the Manager needs of a refresher of the hosted UI's
// token endpoint (Config.HostedUI); hostedui.NewRefresher and
// hostedui.NewDomainRefresher implement it. Config.HostedUI may be any Refresher;
// when it is also a HostedUIRefresher, New refuses one of another app client and
// the Manager sends it only the sessions it Serves.
type HostedUIRefresher interface {
	Refresher
	// ClientID is the app client the token endpoint answers for: New refuses a
	// refresher of another client, whose endpoint would refuse every refresh
	// token with invalid_grant and so end every session.
	ClientID() string
	// Serves reports whether a session of the hosted UI domain it recorded ("" for
	// none) can be refreshed here; the others are refreshed through the user pool
	// API, which Cognito accepts for hosted UI refresh tokens too.
	Serves(domain string) bool
}
