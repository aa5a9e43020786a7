-- Runs once, when the PostgreSQL volume is empty (docker-entrypoint-initdb.d).
CREATE DATABASE rawdata;
CREATE DATABASE cleandata;
CREATE DATABASE monitoring;
CREATE DATABASE mlflowdb;
CREATE DATABASE airflowdb;
