// Package redisstore is a store.Store and store.Locker in Redis, for services that
// run several replicas sharing the same users' sessions. It is a package of its own
// so that programs that keep sessions elsewhere do not link go-redis. Import it
// under its name, beside go-redis:
//
//	import (
//		"github.com/redis/go-redis/v9"
//		redisstore "github.com/cogauth/cogauth/store/redis"
//	)
package redisstore
