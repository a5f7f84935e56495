// Package outdir is the output directory of a run: checked writable before any AWS
// call, files written owner-only and atomically (never half-written, never over an
// existing file), and the run id claimed by the first file written.
package outdir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Check creates the output directory (0700) if needed and proves it is writable,
// before any AWS call: a run that cannot write must fail in a second, not after
// auditing the whole Organization.
func Check(dir string) error {
	_, err := Prepare(dir)
	return err
}

// Prepare is Check, and returns undo: it removes the directories Prepare created, as
// long as they are still empty, so that a run that fails before writing anything
// (no credentials, a bad flag found late) leaves no empty output directory behind.
// undo is safe to call more than once, and after files were written (it then removes
// nothing).
func Prepare(dir string) (undo func(), err error) {
	created := missingDirs(dir)
	undo = func() {
		for _, d := range created { // deepest first
			if os.Remove(d) != nil {
				return // not empty (or gone): keep it and its parents
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		undo()
		return func() {}, fmt.Errorf("cannot create the output directory %s: %w (choose another with --output-dir)", dir, err)
	}
	f, err := os.CreateTemp(dir, ".iamaudit-write-check-*")
	if err != nil {
		undo()
		return func() {}, fmt.Errorf("cannot write in the output directory %s: %w (choose another with --output-dir)", dir, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		undo()
		return func() {}, fmt.Errorf("cannot write in the output directory %s: %w (choose another with --output-dir)", dir, err)
	}
	return undo, nil
}

// missingDirs lists dir and those of its parents that do not exist, deepest first.
func missingDirs(dir string) []string {
	var out []string
	for d := filepath.Clean(dir); ; {
		if _, err := os.Lstat(d); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return out
		}
		out = append(out, d)
		parent := filepath.Dir(d)
		if parent == d {
			return out
		}
		d = parent
	}
}

// WriteFile writes a file readable by its owner only (the outputs name every
// credential of the Organization) through a temporary file, flushed to disk, then
// linked into place: no half-written report is ever left behind, even after a crash,
// and an existing file is never replaced (fs.ErrExist).
func WriteFile(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".iamaudit-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w (choose another --output-dir)", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// The data reaches the disk before the name does: a crash after the link cannot
	// leave an empty or partial file under the final name.
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// Link, not rename: it fails if path exists, so a concurrent run is never overwritten.
	err = os.Link(tmp.Name(), path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("writing %s: %w (another run wrote it at the same moment? run again)", path, err)
	default:
		// A file system without hard links: rename, after checking nothing is there.
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("writing %s: %w", path, fs.ErrExist)
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return syncDir(dir)
}

// syncDir flushes a directory entry to disk (the new name of a file).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// maxClaims bounds the attempts to claim a run id while other runs started in the
// same second claim theirs.
const maxClaims = 20

// Claim writes the first file of a run under the first free run id of baseID,
// baseID_2, baseID_3…, where a run id is free when none of the run's file names
// (names(id)) exists in dir; name(id) is the file written. If another run takes the
// id between the check and the write, the next one is tried. It returns the run id.
func Claim(dir, baseID string, names func(runID string) []string, name func(runID string) string, write func(io.Writer) error) (string, error) {
	for attempt := 0; ; attempt++ {
		runID := FreeRunID(dir, baseID, names)
		err := WriteFile(filepath.Join(dir, name(runID)), write)
		if err == nil {
			return runID, nil
		}
		if !errors.Is(err, fs.ErrExist) || attempt == maxClaims {
			return "", err
		}
	}
}

// FreeRunID returns id, or id_2, id_3… when a file of that run id already exists in
// dir (two runs started in the same second must not overwrite each other).
func FreeRunID(dir, id string, names func(runID string) []string) string {
	taken := func(c string) bool {
		for _, n := range names(c) {
			if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
				return true
			}
		}
		return false
	}
	c := id
	for i := 2; taken(c); i++ {
		c = fmt.Sprintf("%s_%d", id, i)
	}
	return c
}
