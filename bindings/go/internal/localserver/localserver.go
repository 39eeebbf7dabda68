// Package localserver runs `zerobus serve` as a child process for the binding's tests and
// bench, and finds it by the ready file (--ready-file) it writes with its addresses once it
// listens, never by its log. It is not part of the binding's API.
package localserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Address is one side of the server as the ready file gives it.
type Address struct {
	URL  string `json:"url"`
	Host string `json:"host"`
	Port int    `json:"port"`
}

// Addresses is what `zerobus serve --ready-file` writes once it listens.
type Addresses struct {
	GRPC    Address `json:"grpc"`
	HTTP    Address `json:"http"`  // the workspace: Unity Catalog tables and /oidc/v1/token
	Admin   Address `json:"admin"` // faults and statistics
	DataDir string  `json:"data_dir"`
}

// Server is a running `zerobus serve`.
type Server struct {
	Addresses
	cmd    *exec.Cmd
	exited chan error
	dir    string // holds the ready file
}

// Start runs `program serve args... --ready-file PATH`, with its output to stdout and stderr
// (nil discards it), and waits until the ready file is there. It fails when the process exits
// first or timeout passes; the process is then stopped and nothing is left behind.
func Start(program string, args []string, stdout, stderr io.Writer, timeout time.Duration) (*Server, error) {
	dir, err := os.MkdirTemp("", "zerobus-serve-")
	if err != nil {
		return nil, err
	}
	readyFile := filepath.Join(dir, "ready.json")
	cmd := exec.Command(program, append(append([]string{"serve"}, args...), "--ready-file", readyFile)...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w", program, err)
	}
	s := &Server{cmd: cmd, exited: make(chan error, 1), dir: dir}
	go func() { s.exited <- cmd.Wait() }()
	if err := s.waitForReadyFile(readyFile, timeout); err != nil {
		_ = s.Stop(timeout)
		return nil, err
	}
	return s, nil
}

// waitForReadyFile reads the ready file into s.Addresses. The server writes it whole by a
// rename, so a file that exists is complete; an absent one is cheap to look for again.
func (s *Server) waitForReadyFile(path string, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		text, err := os.ReadFile(path)
		if err == nil {
			if err := json.Unmarshal(text, &s.Addresses); err != nil {
				return fmt.Errorf("the ready file %s: %v: %q", path, err, text)
			}
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		select {
		case err := <-s.exited:
			s.exited <- err // for Stop
			return fmt.Errorf("zerobus serve exited before it was ready: %v", err)
		case <-deadline:
			return fmt.Errorf("zerobus serve wrote no ready file within %v", timeout)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Stop sends SIGTERM and waits up to timeout for the server to exit, then kills it. It says
// so when the server did not stop in time; how it exited otherwise is not its concern.
func (s *Server) Stop(timeout time.Duration) error {
	defer os.RemoveAll(s.dir)
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(timeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("zerobus serve did not stop within %v of SIGTERM", timeout)
	}
}
