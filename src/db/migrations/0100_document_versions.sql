-- Document editing (apply_instructions, apply_operations): each persisted edit keeps the state
-- it replaced as a version (Folio's addition; Document Engine keeps none), for
-- DOCUMENT_VERSIONS_KEPT versions per document. Never edit a released migration.

-- The current state's number: 1 at upload, +1 with every persisted edit or restore.
alter table documents add column version integer not null default 1;

-- A previous state: its file (a blob, kept referenced: releaseBlob counts these rows) and
-- every layer and annotation as they were (`annotations`: [{layer, id, page_index, content, …}]).
create table document_versions (
  document_id text not null references documents (id) on delete cascade,
  version integer not null,
  blob_key text not null references blobs (key),
  byte_size bigint not null,
  title text not null,
  password_protected boolean not null,
  page_count integer,
  pages jsonb,
  pdf_version text,
  layers jsonb not null,
  annotations jsonb not null,
  -- what replaced it: apply_instructions, apply_operations, restore
  replaced_by text not null,
  -- when this state was created, and when it was replaced
  created_at timestamptz not null,
  replaced_at timestamptz not null,
  primary key (document_id, version)
);

create index document_versions_blob_key on document_versions (blob_key);
