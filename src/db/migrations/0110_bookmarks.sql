-- Bookmarks as Instant JSON records (pspdfkit/bookmark), per document and layer, as Document
-- Engine keeps them: GET/POST …/bookmarks, PUT/DELETE …/bookmarks/{bookmarkId}, and the
-- `bookmarks` array of document.json / apply_instant_json. `content` is the validated record
-- (src/bookmarks/validate.ts). The default layer is ''.
create table bookmarks (
  document_id text not null references documents (id) on delete cascade,
  layer text not null,
  id text not null,
  content jsonb not null,
  created_by text,
  updated_by text,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (document_id, layer, id)
);

create index bookmarks_listing on bookmarks (document_id, layer, created_at, id);
