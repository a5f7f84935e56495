//go:build !linux

package store

import "errors"

type pgServer struct{}

func startPostgres() (*pgServer, error) {
	return nil, errors.New("the PostgreSQL tests start their server on Linux only")
}

func (s *pgServer) database() (string, error) { return "", errors.New("no server") }
func (s *pgServer) stop()                     {}
