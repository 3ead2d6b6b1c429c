CREATE TABLE public.annotation_changes (
    document_id text NOT NULL,
    seq bigint NOT NULL,
    layer text NOT NULL,
    op text NOT NULL,
    annotation_id text,
    record jsonb,
    changed_at timestamp with time zone NOT NULL,
    CONSTRAINT annotation_changes_op_check CHECK ((op = ANY (ARRAY['created'::text, 'updated'::text, 'deleted'::text, 'reset'::text])))
);

CREATE TABLE public.annotation_layers (
    document_id text NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT annotation_layers_name_check CHECK (((name <> ''::text) AND (length(name) <= 256) AND (strpos(name, '*'::text) = 0)))
);

CREATE TABLE public.annotation_sequences (
    document_id text NOT NULL,
    last_seq bigint NOT NULL
);

CREATE TABLE public.annotations (
    document_id text NOT NULL,
    layer text NOT NULL,
    id text NOT NULL,
    page_index integer NOT NULL,
    content jsonb NOT NULL,
    group_name text,
    created_by text,
    updated_by text,
    version integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);

CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    action text NOT NULL,
    secret_type text,
    target_id bigint,
    fingerprint text,
    actor_type text NOT NULL,
    actor_id text,
    actor_fingerprint text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL
);

ALTER TABLE public.audit_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.blob_chunks (
    key text NOT NULL,
    seq integer NOT NULL,
    start bigint NOT NULL,
    data bytea NOT NULL
);
ALTER TABLE ONLY public.blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE public.blobs (
    key text NOT NULL,
    byte_size bigint NOT NULL,
    backend text NOT NULL,
    deleting boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.bookmarks (
    document_id text NOT NULL,
    layer text NOT NULL,
    id text NOT NULL,
    content jsonb NOT NULL,
    created_by text,
    updated_by text,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);

CREATE TABLE public.cluster_changes (
    topic text NOT NULL,
    version bigint NOT NULL
);

CREATE TABLE public.dashboard_signouts (
    session_id text NOT NULL,
    expires_at timestamp with time zone NOT NULL
);

CREATE TABLE public.document_versions (
    document_id text NOT NULL,
    version integer NOT NULL,
    blob_key text NOT NULL,
    byte_size bigint NOT NULL,
    title text NOT NULL,
    password_protected boolean NOT NULL,
    page_count integer,
    pages jsonb,
    pdf_version text,
    layers jsonb NOT NULL,
    annotations jsonb NOT NULL,
    replaced_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    replaced_at timestamp with time zone NOT NULL
);

CREATE TABLE public.documents (
    id text NOT NULL,
    title text DEFAULT ''::text NOT NULL,
    blob_key text NOT NULL,
    byte_size bigint NOT NULL,
    source_sha256 text NOT NULL,
    password_protected boolean DEFAULT false NOT NULL,
    page_count integer,
    pages jsonb,
    pdf_version text,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    version integer DEFAULT 1 NOT NULL
);

CREATE TABLE public.folio_migrations (
    id integer NOT NULL,
    name text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.nodes (
    id text NOT NULL,
    version text NOT NULL,
    address text NOT NULL,
    started_at timestamp with time zone NOT NULL,
    last_seen_at timestamp with time zone NOT NULL
);

CREATE TABLE public.revocations (
    id bigint NOT NULL,
    kind text NOT NULL,
    value text NOT NULL,
    issued_before timestamp with time zone,
    expires_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT revocations_check CHECK (((kind = ANY (ARRAY['document_id'::text, 'user_id'::text])) = (issued_before IS NOT NULL))),
    CONSTRAINT revocations_kind_check CHECK ((kind = ANY (ARRAY['token'::text, 'jti'::text, 'document_id'::text, 'user_id'::text])))
);

ALTER TABLE public.revocations ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.revocations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.secrets (
    id bigint NOT NULL,
    type text NOT NULL,
    material text NOT NULL,
    algorithm text,
    fingerprint text NOT NULL,
    is_current boolean DEFAULT false NOT NULL,
    expires_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT secrets_check CHECK (((is_current AND (expires_at IS NULL)) OR ((NOT is_current) AND (expires_at IS NOT NULL)))),
    CONSTRAINT secrets_type_check CHECK ((type = ANY (ARRAY['jwt'::text, 'dashboard_password'::text, 'secret_key_base'::text, 'api_auth_token'::text])))
);

ALTER TABLE public.secrets ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.secrets_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY public.annotation_changes
    ADD CONSTRAINT annotation_changes_pkey PRIMARY KEY (document_id, seq);

ALTER TABLE ONLY public.annotation_layers
    ADD CONSTRAINT annotation_layers_pkey PRIMARY KEY (document_id, name);

ALTER TABLE ONLY public.annotation_sequences
    ADD CONSTRAINT annotation_sequences_pkey PRIMARY KEY (document_id);

ALTER TABLE ONLY public.annotations
    ADD CONSTRAINT annotations_pkey PRIMARY KEY (document_id, layer, id);

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.blob_chunks
    ADD CONSTRAINT blob_chunks_pkey PRIMARY KEY (key, seq);

ALTER TABLE ONLY public.blobs
    ADD CONSTRAINT blobs_pkey PRIMARY KEY (key);

ALTER TABLE ONLY public.bookmarks
    ADD CONSTRAINT bookmarks_pkey PRIMARY KEY (document_id, layer, id);

ALTER TABLE ONLY public.cluster_changes
    ADD CONSTRAINT cluster_changes_pkey PRIMARY KEY (topic);

ALTER TABLE ONLY public.dashboard_signouts
    ADD CONSTRAINT dashboard_signouts_pkey PRIMARY KEY (session_id);

ALTER TABLE ONLY public.document_versions
    ADD CONSTRAINT document_versions_pkey PRIMARY KEY (document_id, version);

ALTER TABLE ONLY public.documents
    ADD CONSTRAINT documents_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.folio_migrations
    ADD CONSTRAINT folio_migrations_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.nodes
    ADD CONSTRAINT nodes_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.revocations
    ADD CONSTRAINT revocations_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.secrets
    ADD CONSTRAINT secrets_pkey PRIMARY KEY (id);

CREATE INDEX annotation_changes_changed_at ON public.annotation_changes USING btree (changed_at);

CREATE INDEX annotations_listing ON public.annotations USING btree (document_id, layer, created_at, id);

CREATE INDEX bookmarks_listing ON public.bookmarks USING btree (document_id, layer, created_at, id);

CREATE INDEX dashboard_signouts_expires_at ON public.dashboard_signouts USING btree (expires_at);

CREATE INDEX document_versions_blob_key ON public.document_versions USING btree (blob_key);

CREATE INDEX documents_blob_key ON public.documents USING btree (blob_key);

CREATE INDEX documents_created_at_id ON public.documents USING btree (created_at, id);

CREATE INDEX documents_title_id ON public.documents USING btree (title, id);

CREATE INDEX revocations_expires_at ON public.revocations USING btree (expires_at);

CREATE UNIQUE INDEX secrets_one_current_per_type ON public.secrets USING btree (type) WHERE is_current;

ALTER TABLE ONLY public.annotation_changes
    ADD CONSTRAINT annotation_changes_document_id_fkey FOREIGN KEY (document_id) REFERENCES public.documents(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.annotation_layers
    ADD CONSTRAINT annotation_layers_document_id_fkey FOREIGN KEY (document_id) REFERENCES public.documents(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.annotation_sequences
    ADD CONSTRAINT annotation_sequences_document_id_fkey FOREIGN KEY (document_id) REFERENCES public.documents(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.annotations
    ADD CONSTRAINT annotations_document_id_fkey FOREIGN KEY (document_id) REFERENCES public.documents(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.bookmarks
    ADD CONSTRAINT bookmarks_document_id_fkey FOREIGN KEY (document_id) REFERENCES public.documents(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.document_versions
    ADD CONSTRAINT document_versions_blob_key_fkey FOREIGN KEY (blob_key) REFERENCES public.blobs(key);

ALTER TABLE ONLY public.document_versions
    ADD CONSTRAINT document_versions_document_id_fkey FOREIGN KEY (document_id) REFERENCES public.documents(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.documents
    ADD CONSTRAINT documents_blob_key_fkey FOREIGN KEY (blob_key) REFERENCES public.blobs(key);
