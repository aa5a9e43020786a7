

CREATE TABLE public.clean_encounters (
    encounter_id bigint NOT NULL,
    patient_nbr bigint NOT NULL,
    split text NOT NULL,
    batch_number integer,
    source_sha256 text NOT NULL,
    race text,
    gender text,
    age_years integer NOT NULL,
    admission_type_id integer NOT NULL,
    discharge_disposition_id integer NOT NULL,
    admission_source_id integer NOT NULL,
    time_in_hospital integer NOT NULL,
    payer_code text,
    medical_specialty text,
    num_lab_procedures integer NOT NULL,
    num_procedures integer NOT NULL,
    num_medications integer NOT NULL,
    number_outpatient integer NOT NULL,
    number_emergency integer NOT NULL,
    number_inpatient integer NOT NULL,
    diag_1 text,
    diag_2 text,
    diag_3 text,
    diag_1_group text NOT NULL,
    diag_2_group text NOT NULL,
    diag_3_group text NOT NULL,
    number_diagnoses integer NOT NULL,
    max_glu_serum text NOT NULL,
    a1c_result text NOT NULL,
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
    insulin text NOT NULL,
    glyburide_metformin text NOT NULL,
    glipizide_metformin text NOT NULL,
    glimepiride_pioglitazone text NOT NULL,
    metformin_rosiglitazone text NOT NULL,
    metformin_pioglitazone text NOT NULL,
    change text NOT NULL,
    diabetes_med text NOT NULL,
    total_prior_visits integer NOT NULL,
    active_medications integer NOT NULL,
    changed_medications integer NOT NULL,
    readmitted_within_30_days boolean,
    cleaned_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT clean_encounters_split_check CHECK ((split = ANY (ARRAY['train'::text, 'validation'::text, 'test'::text])))
);

CREATE TABLE public.cleaned_batches (
    source_sha256 text NOT NULL,
    split text NOT NULL,
    batch_number integer,
    cleaned_rows integer NOT NULL,
    excluded_rows integer NOT NULL,
    cleaned_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.excluded_encounters (
    encounter_id bigint NOT NULL,
    split text NOT NULL,
    batch_number integer,
    reason text NOT NULL,
    detail text NOT NULL,
    excluded_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY public.clean_encounters
    ADD CONSTRAINT clean_encounters_pkey PRIMARY KEY (encounter_id);

ALTER TABLE ONLY public.excluded_encounters
    ADD CONSTRAINT excluded_encounters_pkey PRIMARY KEY (encounter_id);

CREATE INDEX clean_encounters_split_batch ON public.clean_encounters USING btree (split, batch_number);

CREATE UNIQUE INDEX cleaned_batches_once ON public.cleaned_batches USING btree (source_sha256, split, COALESCE(batch_number, 0));


