package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamaudit/iamaudit/internal/dashboard"
	"github.com/iamaudit/iamaudit/internal/store"
)

// ServeOptions are the options of `iamaudit serve`.
type ServeOptions struct {
	factory       *Factory
	Listen        string
	DB            string
	TokenFile     string
	GenerateToken bool
	TLSCert       string
	TLSKey        string
}

// newServeCmd builds `iamaudit serve`; runF, when not nil, replaces the work (runServe).
func newServeCmd(f *Factory, runF func(context.Context, *ServeOptions) error) *cobra.Command {
	if runF == nil {
		runF = runServe
	}
	opts := &ServeOptions{factory: f}
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Serve a read-only dashboard of the stored runs",
		Long: `Serve a read-only web dashboard of the runs in the store (--db): the overview of each run,
trends across runs, accounts, the findings explorer with their lifecycle, users, the diff
between any two runs. Every page has a permanent address and a CSV and JSON download.

It only reads: the store is opened read-only and only GET and HEAD requests are served.
It listens on 127.0.0.1 by default; listening anywhere else needs a token, generated
(--generate-token, printed once and kept nowhere) or read from a file (--token-file).
docs/dashboard.md describes its pages and its safety.`,
		Example: `  iamaudit serve
  iamaudit serve --db iamaudit-demo/iamaudit.db
  iamaudit serve --listen 0.0.0.0:8080 --generate-token --tls-cert cert.pem --tls-key key.pem
  iamaudit serve --db postgres://iamaudit@db.example/iamaudit --listen 10.0.0.5:8080 --token-file ~/.config/iamaudit/token`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.TokenFile != "" && opts.GenerateToken {
				return usageErrorf("give --token-file or --generate-token, not both")
			}
			if (opts.TLSCert == "") != (opts.TLSKey == "") {
				return usageErrorf("--tls-cert and --tls-key go together")
			}
			if _, _, err := net.SplitHostPort(opts.Listen); err != nil {
				return usageErrorf("--listen %q: give host:port, e.g. 127.0.0.1:8080", opts.Listen)
			}
			return runF(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Listen, "listen", "127.0.0.1:8080", "address to listen on (host:port); beyond loopback a token is required")
	fs.StringVar(&opts.DB, "db", "", "store of runs: a SQLite file or postgres://… (default $"+store.EnvDB+", else ~/.local/state/iamaudit/iamaudit.db; a demo's is iamaudit-demo/iamaudit.db)")
	fs.StringVar(&opts.TokenFile, "token-file", "", "require the token in this file (first line, owner-only file, at least 20 characters)")
	fs.BoolVar(&opts.GenerateToken, "generate-token", false, "require a new random token, printed once")
	fs.StringVar(&opts.TLSCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	fs.StringVar(&opts.TLSKey, "tls-key", "", "the private key of --tls-cert (PEM)")
	return cmd
}

func runServe(ctx context.Context, opts *ServeOptions) error {
	streams := opts.factory.IO
	token := ""
	var err error
	switch {
	case opts.TokenFile != "":
		if token, err = dashboard.ReadTokenFile(opts.TokenFile); err != nil {
			return &UsageError{Err: err}
		}
	case opts.GenerateToken:
		if token, err = dashboard.GenerateToken(); err != nil {
			return err
		}
	}
	if err := dashboard.CheckListen(opts.Listen, token != ""); err != nil {
		return &UsageError{Err: err}
	}
	target := opts.DB
	if target == "" {
		if target, err = defaultStore(); err != nil {
			return err
		}
	}
	st, err := store.Open(ctx, target, store.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer st.Close()

	var tlsCfg *tls.Config
	if opts.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			return &UsageError{Err: fmt.Errorf("--tls-cert/--tls-key: %w", err)}
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	l, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", opts.Listen, err)
	}
	if tlsCfg != nil {
		l = tls.NewListener(l, tlsCfg)
	}
	host, _, _ := net.SplitHostPort(opts.Listen)
	port := l.Addr().(*net.TCPAddr).Port
	logger := slog.New(slog.NewTextHandler(streams.Err, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dopts := dashboard.Options{Store: st, Token: token, SecureCookie: tlsCfg != nil, Log: logger}
	if dashboard.Loopback(host) && token == "" {
		// Only loopback names: a page whose DNS name resolves to 127.0.0.1 cannot
		// read the dashboard through the browser (DNS rebinding).
		dopts.Hosts = dashboard.LoopbackHosts(port)
	}
	h, err := dashboard.New(dopts)
	if err != nil {
		l.Close()
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // a large run's first page loads it from the store
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(streams.Err, "iamaudit serve: ", 0),
	}

	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	shown := host
	if host == "" || host == "0.0.0.0" || host == "::" {
		// Every address: the machine's name is what others reach it by.
		shown = "THIS-MACHINE"
		if name, err := os.Hostname(); err == nil && name != "" {
			shown = name
		}
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(shown, strconv.Itoa(port)), Path: "/"}
	fmt.Fprintf(streams.Out, "iamaudit dashboard of the %s (read-only)\n", st.Name())
	switch {
	case opts.GenerateToken:
		q := url.Values{"token": {token}}
		u.RawQuery = q.Encode()
		fmt.Fprintf(streams.Out, "Open %s\n", u.String())
		fmt.Fprintln(streams.Out, "The token in this address is printed only this once and kept nowhere; scripts send it as Authorization: Bearer TOKEN.")
	case token != "":
		fmt.Fprintf(streams.Out, "Open %s?token=<the token of %s>\n", u.String(), opts.TokenFile)
	default:
		fmt.Fprintf(streams.Out, "Open %s\n", u.String())
	}
	if token != "" && tlsCfg == nil && !dashboard.Loopback(host) {
		fmt.Fprintln(streams.Err, "iamaudit serve: warning: without --tls-cert the token and the pages cross the network unencrypted; use TLS, or an SSH tunnel to 127.0.0.1")
	}
	fmt.Fprintln(streams.Out, "Stop with Ctrl-C.")

	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("dashboard: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-done
	return nil
}
