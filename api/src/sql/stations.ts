import type { Db } from '../db.ts';

export interface StationRow {
  id: string;
  first_at: string | null;
  last_at: string | null;
  readings: number;
  latest_at: string | null;
  so2: number | null;
  no2: number | null;
  co: number | null;
  o3: number | null;
  pm10: number | null;
  pm2_5: number | null;
}

function stationsQuery(oneStation: boolean): string {
  return `SELECT s.id, a.first_at, a.last_at, a.readings, l.measured_at AS latest_at,
           l.so2, l.no2, l.co, l.o3, l.pm10, l.pm2_5
      FROM stations s
      CROSS JOIN LATERAL (
        SELECT min(measured_at) AS first_at, max(measured_at) AS last_at, count(*) AS readings
          FROM measurements m WHERE m.dataset_id = $1 AND m.station_id = s.id) a
      LEFT JOIN LATERAL (
        SELECT measured_at, so2, no2, co, o3, pm10, pm2_5
          FROM measurements m WHERE m.dataset_id = $1 AND m.station_id = s.id
         ORDER BY measured_at DESC LIMIT 1) l ON true
     WHERE s.dataset_id = $1${oneStation ? ' AND s.id = $2' : ''}
     ORDER BY s.id`;
}

/** Every station of the dataset with its first and last reading, count and latest values. */
export async function listStations(db: Db, datasetId: string): Promise<StationRow[]> {
  return (await db.query<StationRow>(stationsQuery(false), [datasetId])).rows;
}

export async function findStation(db: Db, datasetId: string, id: string): Promise<StationRow | null> {
  return (await db.query<StationRow>(stationsQuery(true), [datasetId, id])).rows[0] ?? null;
}
