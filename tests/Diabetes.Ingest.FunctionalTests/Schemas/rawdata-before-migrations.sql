

CREATE TABLE public.dataset_sources (
    source_sha256 text NOT NULL,
    location text NOT NULL,
    file_name text NOT NULL,
    object_key text NOT NULL,
    csv_entry text NOT NULL,
    size_bytes bigint NOT NULL,
    total_rows integer NOT NULL,
    rejected_rows integer NOT NULL,
    train_rows integer NOT NULL,
    train_batches integer NOT NULL,
    batch_size integer NOT NULL,
    validation_rows integer NOT NULL,
    test_rows integer NOT NULL,
    prepared_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.ingest_batches (
    id integer NOT NULL,
    source_sha256 text NOT NULL,
    split text NOT NULL,
    batch_number integer,
    rows integer NOT NULL,
    first_encounter_id bigint NOT NULL,
    last_encounter_id bigint NOT NULL,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ingest_batches_check CHECK (((split = 'train'::text) = (batch_number IS NOT NULL))),
    CONSTRAINT ingest_batches_split_check CHECK ((split = ANY (ARRAY['train'::text, 'validation'::text, 'test'::text])))
);

ALTER TABLE public.ingest_batches ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.ingest_batches_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.raw_encounters (
    encounter_id bigint NOT NULL,
    patient_nbr bigint NOT NULL,
    race text NOT NULL,
    gender text NOT NULL,
    age text NOT NULL,
    weight text NOT NULL,
    admission_type_id text NOT NULL,
    discharge_disposition_id text NOT NULL,
    admission_source_id text NOT NULL,
    time_in_hospital text NOT NULL,
    payer_code text NOT NULL,
    medical_specialty text NOT NULL,
    num_lab_procedures text NOT NULL,
    num_procedures text NOT NULL,
    num_medications text NOT NULL,
    number_outpatient text NOT NULL,
    number_emergency text NOT NULL,
    number_inpatient text NOT NULL,
    diag_1 text NOT NULL,
    diag_2 text NOT NULL,
    diag_3 text NOT NULL,
    number_diagnoses text NOT NULL,
    max_glu_serum text NOT NULL,
    a1cresult text NOT NULL,
    metformin text NOT NULL,
    repaglinide text NOT NULL,
    nateglinide text NOT NULL,
    chlorpropamide text NOT NULL,
    glimepiride text NOT NULL,
    acetohexamide text NOT NULL,
    glipizide text NOT NULL,
    glyburide text NOT NULL,
    tolbutamide text NOT NULL,
    pioglitazone text NOT NULL,
    rosiglitazone text NOT NULL,
    acarbose text NOT NULL,
    miglitol text NOT NULL,
    troglitazone text NOT NULL,
    tolazamide text NOT NULL,
    examide text NOT NULL,
    citoglipton text NOT NULL,
    insulin text NOT NULL,
    glyburide_metformin text NOT NULL,
    glipizide_metformin text NOT NULL,
    glimepiride_pioglitazone text NOT NULL,
    metformin_rosiglitazone text NOT NULL,
    metformin_pioglitazone text NOT NULL,
    change text NOT NULL,
    diabetesmed text NOT NULL,
    readmitted text NOT NULL,
    split text NOT NULL,
    batch_number integer,
    source_line bigint NOT NULL,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT raw_encounters_split_check CHECK ((split = ANY (ARRAY['train'::text, 'validation'::text, 'test'::text])))
);

CREATE TABLE public.rejected_rows (
    source_sha256 text NOT NULL,
    line_number bigint NOT NULL,
    reason text NOT NULL,
    content text NOT NULL,
    rejected_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY public.dataset_sources
    ADD CONSTRAINT dataset_sources_pkey PRIMARY KEY (source_sha256);

ALTER TABLE ONLY public.ingest_batches
    ADD CONSTRAINT ingest_batches_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.raw_encounters
    ADD CONSTRAINT raw_encounters_pkey PRIMARY KEY (encounter_id);

ALTER TABLE ONLY public.rejected_rows
    ADD CONSTRAINT rejected_rows_pkey PRIMARY KEY (source_sha256, line_number);

CREATE UNIQUE INDEX ingest_batches_once ON public.ingest_batches USING btree (source_sha256, split, COALESCE(batch_number, 0));

CREATE INDEX raw_encounters_split_batch ON public.raw_encounters USING btree (split, batch_number);

ALTER TABLE ONLY public.ingest_batches
    ADD CONSTRAINT ingest_batches_source_sha256_fkey FOREIGN KEY (source_sha256) REFERENCES public.dataset_sources(source_sha256);

ALTER TABLE ONLY public.rejected_rows
    ADD CONSTRAINT rejected_rows_source_sha256_fkey FOREIGN KEY (source_sha256) REFERENCES public.dataset_sources(source_sha256);


