-- Folio's first schema: documents and the blobs they point at (issue #2).
-- Never edit a released migration; add a new numbered file instead.

-- A blob is content-addressed: key = sha256 of the bytes (hex). Several documents may share one.
-- `deleting` marks a blob whose last reference is gone and whose bytes are being removed
-- (two-phase delete, see src/documents/service.ts); an upload of the same bytes revives it.
create table blobs (
  key text primary key,
  byte_size bigint not null,
  backend text not null,
  deleting boolean not null default false,
  created_at timestamptz not null default now()
);

create table documents (
  id text primary key,
  title text not null default '',
  blob_key text not null references blobs (key),
  byte_size bigint not null,
  source_sha256 text not null,
  password_protected boolean not null default false,
  -- null when the page tree cannot be read without the document's password
  page_count integer,
  pages jsonb,
  pdf_version text,
  created_at timestamptz not null,
  updated_at timestamptz not null
);

create index documents_created_at_id on documents (created_at, id);
create index documents_title_id on documents (title, id);
create index documents_blob_key on documents (blob_key);
