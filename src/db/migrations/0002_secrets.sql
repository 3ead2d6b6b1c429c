-- Runtime secrets (spec §4). Each type has exactly one current version (expires_at null) and
-- any number of others, each with an expiry. `material` is what verification needs and never
-- the plain secret where a digest suffices: sha256 hex for api_auth_token, a scrypt hash for
-- dashboard_password, the PEM public key for jwt; secret_key_base must be usable to sign.
create table secrets (
  id bigint generated always as identity primary key,
  type text not null check (type in ('jwt', 'dashboard_password', 'secret_key_base', 'api_auth_token')),
  material text not null,
  algorithm text,
  fingerprint text not null,
  is_current boolean not null default false,
  expires_at timestamptz,
  created_at timestamptz not null default now(),
  check ((is_current and expires_at is null) or (not is_current and expires_at is not null))
);

create unique index secrets_one_current_per_type on secrets (type) where is_current;
