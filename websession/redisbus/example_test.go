package redisbus_test

import (
	"github.com/redis/go-redis/v9"

	"github.com/cogauth/cogauth/websession"
	"github.com/cogauth/cogauth/websession/redisbus"
)

// Replicas behind a load balancer share sessions in Redis and hear each
// other's sign-outs on one pub/sub channel, so a session ended on one replica
// ends at once on every replica's cache.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "redis.internal:6379"})
	defer rdb.Close()
	cfg := websession.Config{
		// Cognito, Domain, Verifier, BaseURL, Secret, Store (store/redis on rdb) …
		Bus: redisbus.New(rdb, ""), // redisbus.DefaultChannel
	}
	_ = cfg // websession.New(cfg)
}
