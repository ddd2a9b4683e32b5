package redisstore

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cogauth/cogauth/internal/peers"
	"github.com/cogauth/cogauth/store"
	"github.com/cogauth/cogauth/store/storetest"
)

// redisCluster starts a three-primary Redis Cluster of real redis-server
// processes on loopback (ports below 55535, as the cluster bus is port+10000)
// and returns a cluster client of it; it stops when the test ends.
func redisCluster(t *testing.T) *redis.ClusterClient {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err != nil || err2 != nil {
		peers.Missing(t, "redis-server and redis-cli", "apt-get install redis-server")
		return nil
	}
	var addrs []string
	for len(addrs) < 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port >= 55535 {
			continue
		}
		dir := t.TempDir()
		cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
			"--cluster-config-file", dir+"/nodes.conf", "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		})
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	// Starting processes is the one place a test waits on real time.
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, DisableIdentity: true})
		deadline := time.Now().Add(10 * time.Second)
		for c.Ping(context.Background()).Err() != nil {
			if time.Now().After(deadline) {
				t.Fatalf("redis-server on %s did not answer", a)
			}
			time.Sleep(10 * time.Millisecond)
		}
		c.Close()
	}
	out, err := exec.Command(cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, DisableIdentity: true})
	t.Cleanup(func() { cc.Close() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := cc.ClusterInfo(context.Background()).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster did not come up: %v %s", err, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cc
}

// TestClusterContract: the store contract and the expiry contract (PTTL read
// through the cluster) on a real three-primary Redis Cluster, in both record
// layouts: every command and script touches one key, keys spread over the
// slots, and expiries hold wherever a key lands.
func TestClusterContract(t *testing.T) {
	cc := redisCluster(t)
	var n atomic.Int64
	for _, hashes := range []bool{false, true} {
		t.Run(fmt.Sprintf("HashRecords=%v", hashes), func(t *testing.T) {
			open := func(t *testing.T) *Store {
				s, err := New(cc, Options{Prefix: fmt.Sprintf("cl-%d:", n.Add(1)), HashRecords: hashes, LockTTL: time.Second})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
			s := open(t)
			storetest.Expiry(t, func(*testing.T) store.Store { return s }, storetest.ExpiryOptions{
				Remaining: func(t *testing.T, k store.Key) time.Duration {
					d, err := cc.PTTL(context.Background(), s.dataKey(k)).Result()
					if err != nil {
						t.Fatal(err)
					}
					return d
				},
			})
		})
	}
}

// TestClusterOpenMovesRelease1: on a three-primary cluster, New scans every
// primary and moves release 1's records across slots (each step on one key),
// versions and TTLs kept; a second New sends one GET.
func TestClusterOpenMovesRelease1(t *testing.T) {
	cc := redisCluster(t)
	const prefix = "cl-r1:"
	writeRelease1(t, cc, prefix)
	s, err := New(cc, Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	checkRelease1Moved(t, s, cc)
	log := &cmdLog{}
	cc.AddHook(log)
	if _, err := New(cc, Options{Prefix: prefix}); err != nil {
		t.Fatal(err)
	}
	if log.count("get") != 1 || log.count("scan") != 0 {
		t.Fatalf("the second New sent %v, want one GET", log.cmds)
	}
}
