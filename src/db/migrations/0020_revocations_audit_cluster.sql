-- Issue #4: JWT revocations (spec §5), the audit log of secret and revocation changes (spec §4),
-- and the version counters of the cluster bus (db/notify.ts) that let every node notice a
-- change it missed (LISTEN/NOTIFY plus a periodic reconcile).

-- One row per topic ('secrets', 'revocations'); bumped in the transaction of every change, so
-- a node whose loaded version differs from this one reloads.
create table cluster_changes (
  topic text primary key,
  version bigint not null
);

-- A revocation covers the tokens named by `kind` + `value`: `token` (value = sha256 hex of the
-- compact token; the token itself is never stored), `jti`, `document_id`, `user_id`. The last two
-- cover only tokens issued (`iat`) before `issued_before`, or without `iat`. Rows are kept while a
-- covered token can still be valid (`expires_at`) and then pruned.
create table revocations (
  id bigint generated always as identity primary key,
  kind text not null check (kind in ('token', 'jti', 'document_id', 'user_id')),
  value text not null,
  issued_before timestamptz,
  expires_at timestamptz not null,
  created_at timestamptz not null,
  check ((kind in ('document_id', 'user_id')) = (issued_before is not null))
);

create index revocations_expires_at on revocations (expires_at);

-- Who changed which secret or revocation, when (spec §4: "who, what, when, fingerprint; never
-- the secret"). `actor_*` names the credential (e.g. the API token's secret id and fingerprint).
create table audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null,
  action text not null,
  secret_type text,
  target_id bigint,
  fingerprint text,
  actor_type text not null,
  actor_id text,
  actor_fingerprint text,
  details jsonb not null default '{}'::jsonb
);
