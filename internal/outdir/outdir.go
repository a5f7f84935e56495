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
	p, err := Create(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("cannot write %s: %w (choose another --output-dir)", path, err)
	}
	defer p.Discard()
	if err := write(p); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return p.Commit(filepath.Base(path))
}

// Pending is a file of the output directory being written: owner-only, under a
// hidden temporary name until Commit links it to its final name (after flushing it
// to disk), or Discard removes it. A streamed run opens its files at the start and
// commits them at the end (docs/streaming.md). A Pending is an io.Writer; it is not
// safe for concurrent use.
type Pending struct {
	dir    string
	f      *os.File
	synced bool
	done   bool
}

// Create opens a new pending file in dir (".iamaudit-*", mode 0600).
func Create(dir string) (*Pending, error) {
	f, err := os.CreateTemp(dir, ".iamaudit-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &Pending{dir: dir, f: f}, nil
}

// Write appends to the file.
func (p *Pending) Write(b []byte) (int, error) {
	if p.done {
		return 0, fs.ErrClosed
	}
	return p.f.Write(b)
}

// File is the open temporary file (to write, or to hand to code that wants an
// *os.File); its name is not the final one.
func (p *Pending) File() *os.File { return p.f }

// Dir is the output directory the file will appear in (where a format spools what
// it writes at the end).
func (p *Pending) Dir() string { return p.dir }

// Commit flushes the file to disk and links it to name in the directory, never over
// an existing file (an error wrapping fs.ErrExist: the Pending stays usable, Commit
// may be tried with another name). On success the temporary name is gone; on any
// other error the file is discarded.
func (p *Pending) Commit(name string) error {
	path := filepath.Join(p.dir, name)
	if p.done {
		return fmt.Errorf("writing %s: %w", path, fs.ErrClosed)
	}
	// The data reaches the disk before the name does: a crash after the link cannot
	// leave an empty or partial file under the final name.
	if !p.synced {
		if err := p.f.Sync(); err != nil {
			p.Discard()
			return fmt.Errorf("writing %s: %w", path, err)
		}
		p.synced = true
	}
	// Link, not rename: it fails if path exists, so a concurrent run is never overwritten.
	err := os.Link(p.f.Name(), path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("writing %s: %w (another run wrote it at the same moment? run again)", path, err)
	default:
		// A file system without hard links: rename, after checking nothing is there.
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("writing %s: %w", path, fs.ErrExist)
		}
		if err := os.Rename(p.f.Name(), path); err != nil {
			p.Discard()
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	p.done = true
	cerr := p.f.Close()
	os.Remove(p.f.Name()) // after a rename: gone already
	if cerr != nil {
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, cerr)
	}
	return syncDir(p.dir)
}

// CommitClaim commits the first file of a run under the first free run id of
// baseID, baseID_2, baseID_3… (names(id): every file name of the run, as Claim),
// name(id) being this file's name; it returns the run id claimed. A streamed run
// calls it at the end for its first file, then Commit for the others.
func (p *Pending) CommitClaim(baseID string, names func(runID string) []string, name func(runID string) string) (string, error) {
	for attempt := 0; ; attempt++ {
		runID := FreeRunID(p.dir, baseID, names)
		err := p.Commit(name(runID))
		if err == nil {
			return runID, nil
		}
		if !errors.Is(err, fs.ErrExist) || attempt == maxClaims {
			p.Discard()
			return "", err
		}
	}
}

// Discard closes and removes the file, unless it was committed; it is safe to call
// more than once and after Commit.
func (p *Pending) Discard() {
	if p.done {
		return
	}
	p.done = true
	p.f.Close()
	os.Remove(p.f.Name())
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
	path := func() string { return filepath.Join(dir, name(FreeRunID(dir, baseID, names))) }
	p, err := Create(dir)
	if err != nil {
		return "", fmt.Errorf("cannot write %s: %w (choose another --output-dir)", path(), err)
	}
	defer p.Discard()
	if err := write(p); err != nil {
		return "", fmt.Errorf("writing %s: %w", path(), err)
	}
	return p.CommitClaim(baseID, names, name)
}

// FreeRunID returns id, or id_2, id_3… when a file of that run id already exists in
// dir, or the run id is reserved (two runs started in the same second must not
// overwrite each other).
func FreeRunID(dir, id string, names func(runID string) []string) string {
	taken := func(c string) bool { return anyExists(dir, append(names(c), reservationName(c))) }
	c := id
	for i := 2; taken(c); i++ {
		c = fmt.Sprintf("%s_%d", id, i)
	}
	return c
}

// Reservation is a run id claimed before any of its files is written, for a run
// whose files hold their run id and are all committed at the end (a streamed run:
// its JSON names the run id it was claimed as). It is a hidden, empty, owner-only
// file (.iamaudit-run-<id>) that FreeRunID counts as taken; Release removes it once
// the run's files are committed (a crash leaves it: that run id is then skipped).
type Reservation struct {
	RunID string
	path  string
}

func reservationName(runID string) string { return ".iamaudit-run-" + runID }

// Reserve claims the first free run id of baseID, baseID_2, … (names(id): every file
// name of the run, as Claim): no file of it exists and no other run reserved it.
func Reserve(dir, baseID string, names func(runID string) []string) (*Reservation, error) {
	for attempt := 0; ; attempt++ {
		runID := FreeRunID(dir, baseID, names)
		path := filepath.Join(dir, reservationName(runID))
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			if err := f.Close(); err != nil {
				os.Remove(path)
				return nil, fmt.Errorf("reserving run id %s: %w", runID, err)
			}
			// Taken between FreeRunID and the reservation by a run that does not
			// reserve (it claims with its first file)? Then the next id.
			if !anyExists(dir, names(runID)) || attempt == maxClaims {
				return &Reservation{RunID: runID, path: path}, nil
			}
			os.Remove(path)
			continue
		}
		if !errors.Is(err, fs.ErrExist) || attempt == maxClaims {
			return nil, fmt.Errorf("cannot reserve a run id in %s: %w (choose another --output-dir)", dir, err)
		}
	}
}

// Release gives the reservation up (the run's files now hold the run id); safe to
// call more than once.
func (r *Reservation) Release() {
	if r.path != "" {
		os.Remove(r.path)
		r.path = ""
	}
}

// anyExists tells whether one of the names exists in dir.
func anyExists(dir string, names []string) bool {
	for _, n := range names {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}
