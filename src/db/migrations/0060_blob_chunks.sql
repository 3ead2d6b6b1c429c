-- The `built-in` asset backend (issue #9): blob bytes kept inside PostgreSQL, as Document Engine
-- does, so that nodes sharing one database share their files with nothing else. A blob is split
-- into chunks of at most a few MiB: no value approaches PostgreSQL's 1 GB limit, and reads and
-- writes move one chunk at a time, so memory stays flat in the file size.
-- `start` is the chunk's byte offset in the blob: a ranged read finds its first chunk without
-- assuming a chunk size, so the size may change between versions.
create table blob_chunks (
  key text not null,
  seq integer not null,
  start bigint not null,
  data bytea not null,
  primary key (key, seq)
);

-- Stored uncompressed and out of line: PDFs are mostly compressed already (pglz would spend CPU
-- for nothing), and `substring(data ...)` on an uncompressed TOAST value reads only the slices
-- it needs, which makes small ranged reads cheap.
alter table blob_chunks alter column data set storage external;
