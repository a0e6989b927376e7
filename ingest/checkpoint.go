package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/closedloop/closedloop/models"
)

// CheckpointLoader is a Loader that also remembers, per source file, how
// far ingest got, in the same transaction as the rows. With one, Run
// resumes an interrupted file after the documents already loaded and skips
// a file it completed before (same size, modification time and leading
// bytes); without one (ClickHouse, tests' fakes) every file is read whole
// and deduplication alone keeps re-ingesting harmless.
type CheckpointLoader interface {
	Loader
	// FileCheckpoint returns the stored checkpoint of path read as source;
	// ok is false when there is none.
	FileCheckpoint(ctx context.Context, path, source string) (cp FileCheckpoint, ok bool, err error)
	// LoadWithCheckpoint does what Load does and stores file's checkpoint
	// in the same transaction, so the rows and the position they reach are
	// committed together or not at all.
	LoadWithCheckpoint(ctx context.Context, recs []models.Record, file FileCheckpoint) (map[models.Table]int, error)
}

// FileCheckpoint is how far ingest got in one source file.
type FileCheckpoint struct {
	// Path is the file's absolute path.
	Path string
	// Source is the collector the file was read with ("auto" or a name).
	Source string
	// Size, ModTime and SHA256Prefix identify the content: a file whose
	// fingerprint differs is read again from the start.
	Size    int64
	ModTime time.Time // UTC, truncated to microseconds (what stores keep)
	// SHA256Prefix is the hex SHA-256 of the first FingerprintBytes bytes.
	SHA256Prefix string
	// DocsDone counts the file's leading items (documents, and unreadable
	// parts that became rejects) whose records are all stored. Batches are
	// cut between documents, so it is exact.
	DocsDone int64
	// Completed is set when the whole file was loaded.
	Completed bool
}

// FingerprintBytes is how much of a file's head is hashed for its fingerprint.
const FingerprintBytes = 1 << 20

// SameFile reports whether c and o describe the same file content.
func (c FileCheckpoint) SameFile(o FileCheckpoint) bool {
	return c.Path == o.Path && c.Size == o.Size && c.ModTime.Equal(o.ModTime) && c.SHA256Prefix == o.SHA256Prefix
}

// Fingerprint identifies the file at path: absolute path, size,
// modification time and the hash of its first FingerprintBytes bytes.
func Fingerprint(path string) (FileCheckpoint, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return FileCheckpoint{}, fmt.Errorf("resolving %s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return FileCheckpoint{}, fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return FileCheckpoint{}, fmt.Errorf("reading %s: %w", path, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, FingerprintBytes)); err != nil {
		return FileCheckpoint{}, fmt.Errorf("reading %s: %w", path, err)
	}
	return FileCheckpoint{
		Path:         abs,
		Size:         fi.Size(),
		ModTime:      fi.ModTime().UTC().Truncate(time.Microsecond),
		SHA256Prefix: hex.EncodeToString(h.Sum(nil)),
	}, nil
}

// defaultBatchRecords is the records per commit when Options leave it
// unset: 500 000 records, or $CLOSEDLOOP_INGEST_BATCH_RECORDS (smaller
// batches commit, and checkpoint, more often at some cost in speed; the
// crash test uses it to put many checkpoints into a short run). Memory
// does not grow with it: records are held in parts of PartRecords.
func defaultBatchRecords() int {
	if n, err := strconv.Atoi(os.Getenv("CLOSEDLOOP_INGEST_BATCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 500_000
}
