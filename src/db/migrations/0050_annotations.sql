-- Annotations, layers and their change log (issue #5, spec §3 and §7).
-- Never edit a released migration; add a new numbered file instead.

-- Named layers of a document. The default layer (name '') always exists and has no row.
-- A layer is created explicitly (POST .../layers) or by the first write into it (a JWT's `layer`).
create table annotation_layers (
  document_id text not null references documents (id) on delete cascade,
  name text not null check (name <> '' and length(name) <= 256 and strpos(name, '*') = 0),
  created_at timestamptz not null,
  primary key (document_id, name)
);

-- One row per annotation and layer. `content` is the Instant JSON annotation (v2) as validated
-- by src/annotations/instant-json.ts; `page_index` repeats content.pageIndex for the export.
-- `version` starts at 1 and grows by one per replace: writers send the version they read
-- (If-Match or a `version` field) and a stale one is refused with 409 (issue #5, concurrency).
create table annotations (
  document_id text not null references documents (id) on delete cascade,
  layer text not null,
  id text not null,
  page_index integer not null,
  content jsonb not null,
  group_name text,
  created_by text,
  updated_by text,
  version integer not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (document_id, layer, id)
);

-- Listing order (created_at, id) and the export's page order.
create index annotations_listing on annotations (document_id, layer, created_at, id);

-- The per-document change counter. The row is updated inside every write transaction, so its
-- lock orders writers of one document: sequence order is commit order, and a reader resuming
-- after sequence N can never miss a change committed later with a smaller number.
create table annotation_sequences (
  document_id text primary key references documents (id) on delete cascade,
  last_seq bigint not null
);

-- Every create/update/delete (and `reset` when the document's file is replaced), numbered per
-- document without gaps. Server-sent events replay from here after Last-Event-ID; rows older
-- than the retention window are pruned (a client resuming from before them is told to reload).
create table annotation_changes (
  document_id text not null references documents (id) on delete cascade,
  seq bigint not null,
  layer text not null,
  op text not null check (op in ('created', 'updated', 'deleted', 'reset')),
  annotation_id text,
  -- the annotation record after the change; null for `deleted` and `reset`
  record jsonb,
  changed_at timestamptz not null,
  primary key (document_id, seq)
);

create index annotation_changes_changed_at on annotation_changes (changed_at);
