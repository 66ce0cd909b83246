package redistest_test

import (
	"strings"
	"testing"

	"github.com/odmn/odmn/internal/redistest"
)

func TestStartKillRestart(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	if out, err := s.Do("set", "k", "v"); err != nil || out != "OK" {
		t.Fatalf("set: %q %v", out, err)
	}
	s.Restart()
	if out, _ := s.Do("get", "k"); out != "" {
		t.Fatalf("after restart get k = %q, want empty (no persistence)", out)
	}
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster start takes a few seconds")
	}
	c := redistest.StartCluster(t, 3)
	out, err := c.Nodes[1].Do("cluster", "info")
	if err != nil || !strings.Contains(out, "cluster_known_nodes:3") {
		t.Fatalf("cluster info: %v\n%s", err, out)
	}
	if !strings.Contains(c.URL(), "addr="+c.Nodes[2].Addr) {
		t.Fatal(c.URL())
	}
}

func TestTLS(t *testing.T) {
	s := redistest.Start(t, redistest.Options{TLS: true})
	if out, err := s.Do("ping"); err != nil || out != "PONG" {
		t.Fatalf("ping over TLS: %q %v", out, err)
	}
	if !strings.HasPrefix(s.URL(), "rediss://") {
		t.Fatal(s.URL())
	}
}
