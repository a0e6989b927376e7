-- Ingest checkpoints: how far `closedloop ingest` got in each source file,
-- written in the same transaction as the rows of each batch, so that a run
-- killed at any point resumes after the documents already loaded, and a
-- file loaded completely before (same size, mtime and leading bytes) is
-- skipped. docs_done counts the file's leading documents (and unreadable
-- parts, which became rejects) whose records are all stored.
CREATE TABLE ingest_files (
    path          VARCHAR   NOT NULL,
    source        VARCHAR   NOT NULL,
    size          BIGINT    NOT NULL,
    mtime         TIMESTAMP NOT NULL,
    sha256_prefix VARCHAR   NOT NULL,
    docs_done     BIGINT    NOT NULL,
    completed_at  TIMESTAMP,
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (path, source)
);
