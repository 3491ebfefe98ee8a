-- Datasets: each seeded file is one dataset; exactly one is active and served.
CREATE TABLE datasets (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sha256        text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  source        text        NOT NULL,
  status        text        NOT NULL DEFAULT 'loading'
                            CHECK (status IN ('loading', 'active', 'retired', 'failed')),
  row_count     bigint,
  station_count integer,
  first_at      timestamptz,
  last_at       timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  loaded_at     timestamptz,
  activated_at  timestamptz
);
CREATE UNIQUE INDEX datasets_single_active ON datasets ((true)) WHERE status = 'active';
CREATE INDEX datasets_sha256 ON datasets (sha256);

-- Stations of a dataset, derived from its measurements when it is loaded.
CREATE TABLE stations (
  dataset_id bigint NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
  id         text   NOT NULL CHECK (id <> ''),
  PRIMARY KEY (dataset_id, id)
);

-- One row per station and instant. Partitioned by dataset so a new dataset is loaded into its own table,
-- attached in the switching transaction, and an old one is dropped without a long DELETE.
-- Units: µg/m³, except co in mg/m³. NULL where the source had no value.
CREATE TABLE measurements (
  dataset_id  bigint           NOT NULL,
  station_id  text             NOT NULL,
  measured_at timestamptz      NOT NULL,
  so2         double precision CHECK (so2 >= 0),
  no2         double precision CHECK (no2 >= 0),
  co          double precision CHECK (co >= 0),
  o3          double precision CHECK (o3 >= 0),
  pm10        double precision CHECK (pm10 >= 0),
  pm2_5       double precision CHECK (pm2_5 >= 0)
) PARTITION BY LIST (dataset_id);

-- Keyset pagination walks (measured_at, station_id); the pair is unique within a dataset.
CREATE UNIQUE INDEX measurements_time_station ON measurements (dataset_id, measured_at, station_id);
CREATE INDEX measurements_station_time ON measurements (dataset_id, station_id, measured_at);
