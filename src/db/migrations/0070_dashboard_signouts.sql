-- Dashboard sign-outs: a signed session cookie stays valid by its signature until it expires,
-- so signing out records the session's id here, and every node checks it on each dashboard
-- request. Rows are kept only until the session would have expired anyway.
create table dashboard_signouts (
  session_id text primary key,
  expires_at timestamptz not null
);

create index dashboard_signouts_expires_at on dashboard_signouts (expires_at);
