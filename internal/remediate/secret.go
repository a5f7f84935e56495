package remediate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// SecretFile is the file the operator names for the secrets of the keys rotate-key
// creates (--secret-file): created when the first action is about to run, owner-only
// (0600) and never over an existing file (O_EXCL), written in the AWS CLI's
// credentials file format, one profile per new key, and flushed to disk after each
// key. The secret goes nowhere else: not to the console, a log, the journal or the
// store (a test scans them all).
type SecretFile struct {
	Path string
	f    *os.File
}

// Name is the file's path.
func (s *SecretFile) Name() string { return s.Path }

// Open creates the file; it fails if the file exists.
func (s *SecretFile) Open() error {
	if s.f != nil {
		return nil
	}
	if s.Path == "" {
		return errors.New("no secret file named")
	}
	f, err := os.OpenFile(s.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("%w (name a file that does not exist yet)", err)
	}
	// The umask cannot widen 0600, but a file system may ignore it: make sure.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(s.Path)
		return err
	}
	if _, err := f.WriteString("# Access keys created by `iamaudit remediate apply` (rotate-key). Owner-only: deploy them, then delete this file.\n"); err != nil {
		f.Close()
		return err
	}
	s.f = f
	return nil
}

var profileUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.@+=,-]`)

// Write appends one key as a profile named account-user and flushes it to disk.
func (s *SecretFile) Write(accountID, user, keyID, secret string) error {
	if s.f == nil {
		return errors.New("the secret file is not open")
	}
	profile := profileUnsafe.ReplaceAllString(accountID+"-"+user, "_")
	if _, err := fmt.Fprintf(s.f, "\n[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", profile, keyID, secret); err != nil {
		return err
	}
	return s.f.Sync()
}

// Close closes the file.
func (s *SecretFile) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// AbsSecretPath is the secret file's absolute path (what the journal records).
func AbsSecretPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
