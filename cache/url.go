package cache

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Open connects to the Redis named by rawURL:
//
//	redis://[user:password@]host:port[/db][?options]
//	rediss://...            TLS (the server's certificate is verified)
//
// Besides go-redis' options (dial_timeout, read_timeout, pool_size, ...),
// the URL takes:
//
//	cluster=true|false  force Redis Cluster mode on or off; by default it is
//	                    on when the URL has addr= seeds or the server says
//	                    cluster_enabled:1
//	addr=host:port      more cluster seed nodes (repeatable)
//	ca=FILE             PEM certificates to trust for rediss://
//
// User and password are sent with AUTH (ACL users included).
func Open(ctx context.Context, rawURL string) (*Cache, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("cache URL: %w", err)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("cache URL %s: scheme %q, want redis:// or rediss://", redact(u), u.Scheme)
	}
	q := u.Query()
	mode := q.Get("cluster")
	caFile := q.Get("ca")
	q.Del("cluster")
	q.Del("ca")
	if q.Has("addr") && mode == "" {
		mode = "true"
	}
	u.RawQuery = q.Encode()
	var roots *x509.CertPool
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("cache URL ca=: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cache URL ca=%s: no PEM certificate found", caFile)
		}
	}
	fixTLS := func(c *tls.Config) {
		if c != nil && roots != nil {
			c.RootCAs = roots
		}
	}
	cluster := func() (*Cache, error) {
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("cache URL %s: %w", redact(u), err)
		}
		fixTLS(o.TLSConfig)
		return newCache(redis.NewClusterClient(o), true, redact(u)), nil
	}
	switch mode {
	case "true", "1", "yes":
		return cluster()
	case "", "false", "0", "no", "auto":
	default:
		return nil, fmt.Errorf("cache URL %s: cluster=%q, want true or false", redact(u), mode)
	}
	o, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("cache URL %s: %w", redact(u), err)
	}
	fixTLS(o.TLSConfig)
	single := redis.NewClient(o)
	if mode == "" || mode == "auto" {
		info, err := single.Info(ctx, "cluster").Result()
		if err != nil {
			single.Close()
			return nil, fmt.Errorf("cache %s: %w", redact(u), err)
		}
		if strings.Contains(info, "cluster_enabled:1") {
			single.Close()
			return cluster()
		}
	}
	return newCache(single, false, redact(u)), nil
}

// redact drops the password from a URL for messages.
func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		}
	}
	return c.String()
}
