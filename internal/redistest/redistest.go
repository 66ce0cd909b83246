// Package redistest starts throw-away redis-server processes on free
// loopback ports for tests: a single server, or a Redis Cluster of several
// nodes joined with `redis-cli --cluster create`. Every process is stopped
// when the test ends. Under CI (CI=true) a missing redis-server is a test
// failure, elsewhere a skip that names the package to install.
package redistest

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odmn/odmn/internal/testenv"
)

// Server is one redis-server process.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// Dir holds its config, logs and cluster state.
	Dir string
	// CAFile is the PEM CA certificate that signed the server's (TLS only).
	CAFile string
	tls    bool
	args   []string
	cmd    *exec.Cmd
	tb     testing.TB
}

// URL is redis://Addr, or rediss://Addr?ca=CAFile for a TLS server.
func (s *Server) URL() string {
	if s.tls {
		return "rediss://" + s.Addr + "?ca=" + s.CAFile
	}
	return "redis://" + s.Addr
}

// Options tune Start.
type Options struct {
	// Args are extra redis-server arguments ("--requirepass", "x", ...).
	Args []string
	// Cluster enables cluster mode (used by StartCluster).
	Cluster bool
	// TLS serves TLS only, with a certificate for 127.0.0.1 signed by a
	// throw-away CA written to Server.CAFile (clients are not asked for
	// certificates).
	TLS bool
}

// RequireBinaries returns the paths of redis-server and redis-cli.
func RequireBinaries(tb testing.TB) (server, cli string) {
	tb.Helper()
	server, err1 := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err1 != nil || err2 != nil {
		what := "redis-server or redis-cli not found in PATH"
		fix := "install Debian's redis-server (make deps does)"
		if testenv.InCI() {
			tb.Fatalf("%s; CI=true, so this is an error: %s", what, fix)
		}
		tb.Skipf("%s; %s", what, fix)
	}
	return server, cli
}

// Start runs a redis-server without persistence on a free loopback port
// and waits until it answers PING.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin, _ := RequireBinaries(tb)
	port, err := FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	args := []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log"),
	}
	if opts.Cluster {
		// The bus port defaults to port+10000, which may be taken or
		// above 65535: ask for a free one.
		bus, err := FreePort()
		if err != nil {
			tb.Fatal(err)
		}
		args = append(args, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "2000")
	}
	args = append(args, opts.Args...)
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir, tb: tb, tls: opts.TLS}
	if opts.TLS {
		ca, cert, key, err := writeCerts(dir)
		if err != nil {
			tb.Fatal(err)
		}
		s.CAFile = ca
		args[0], args[1] = "--port", "0"
		args = append(args, "--tls-port", strconv.Itoa(port), "--tls-cert-file", cert,
			"--tls-key-file", key, "--tls-ca-cert-file", ca, "--tls-auth-clients", "no")
	}
	s.args = append([]string{bin}, args...)
	if err := s.start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Kill)
	return s
}

func (s *Server) start() error {
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("redistest: start %s: %w", s.args[0], err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ping(s.Addr, s.tls) == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	s.Kill()
	return fmt.Errorf("redistest: redis-server on %s did not answer within 10s; log:\n%s", s.Addr, log)
}

// Kill stops the server with SIGKILL (what a crash looks like) and waits
// for it. It does nothing when the server is not running.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts a killed server again on the same port (empty: there is
// no persistence).
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	if err := s.start(); err != nil {
		s.tb.Fatal(err)
	}
}

// Do runs one command through redis-cli and returns its output.
func (s *Server) Do(args ...string) (string, error) {
	host, port, _ := net.SplitHostPort(s.Addr)
	base := []string{"-h", host, "-p", port}
	if s.tls {
		base = append(base, "--tls", "--cacert", s.CAFile)
	}
	out, err := exec.Command("redis-cli", append(base, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Cluster is a Redis Cluster of masters without replicas.
type Cluster struct {
	Nodes []*Server
}

// URL names one node and the others as addr parameters (go-redis'
// cluster URL form).
func (c *Cluster) URL() string {
	u := "redis://" + c.Nodes[0].Addr
	for i, n := range c.Nodes[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + n.Addr
	}
	return u
}

// StartCluster starts n cluster-enabled servers (n >= 3), joins them with
// `redis-cli --cluster create` and waits for cluster_state:ok on every
// node.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	_, cli := RequireBinaries(tb)
	c := &Cluster{}
	addrs := []string{"--cluster", "create"}
	for i := 0; i < n; i++ {
		s := Start(tb, Options{Cluster: true})
		c.Nodes = append(c.Nodes, s)
		addrs = append(addrs, s.Addr)
	}
	addrs = append(addrs, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, addrs...).CombinedOutput(); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range c.Nodes {
		for {
			out, _ := s.Do("cluster", "info")
			if strings.Contains(out, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("redistest: cluster node %s not ok after 30s:\n%s", s.Addr, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return c
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ping sends an inline PING and expects +PONG (or a NOAUTH error, which
// also proves the server is up).
func ping(addr string, useTLS bool) error {
	var c net.Conn
	var err error
	d := &net.Dialer{Timeout: 200 * time.Millisecond}
	if useTLS {
		c, err = tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	} else {
		c, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH") {
		return nil
	}
	return fmt.Errorf("redistest: PING %s: %q", addr, line)
}
