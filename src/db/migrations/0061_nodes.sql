-- Node registry (issue #9): every Folio node sharing this database registers itself at start,
-- beats every few seconds, and removes its row when it stops cleanly. A node that died keeps its
-- row, seen as stale once it misses its beats, and forgotten a day later.
-- Times come from the database's clock (now()), so nodes with skewed clocks agree.
create table nodes (
  id text primary key,
  version text not null,
  address text not null,
  started_at timestamptz not null,
  last_seen_at timestamptz not null
);
