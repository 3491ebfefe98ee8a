import { Readable } from 'node:stream';
import { HEADER_LINE } from './measurement-format.ts';

export interface GenerateOptions {
  stations: number;
  /** First day, `YYYY-MM-DD`; readings are written as naive local times starting at its midnight. */
  start: string;
  days: number;
  seed: number;
}

export const GENERATE_DEFAULTS: GenerateOptions = { stations: 10, start: '2016-10-01', days: 7, seed: 1 };

const SLOT_MS = 15 * 60 * 1000;
const SLOTS_PER_DAY = 96;
const ROWS_PER_CHUNK = 2048;

// Station names of the original file first, so generated data looks like the bundled file.
const STATION_NAMES = [
  'aq_salvia',
  'aq_jaen',
  'aq_distrito_telefonica',
  'aq_alonso_quijano',
  'aq_ciudad_escolar',
  'aq_aragoneses',
  'aq_uam',
  'aq_nevero',
  'aq_alcala_zamora',
  'aq_camino_del_sur',
];

/** Typical level and daily swing of each pollutant (µg/m³; co in mg/m³), near the original file's. */
const POLLUTANTS = [
  { base: 6.5, swing: 0.25, peakHour: 9 }, // so2
  { base: 45, swing: 0.35, peakHour: 8.5 }, // no2 follows the morning traffic
  { base: 0.55, swing: 0.3, peakHour: 8.5 }, // co
  { base: 60, swing: 0.45, peakHour: 15 }, // o3 peaks with the afternoon sun
  { base: 24, swing: 0.25, peakHour: 10 }, // pm10
  { base: 20, swing: 0.2, peakHour: 10 }, // pm2_5
];

/** sfc32: a small, fast PRNG with a 128-bit state; the same seed always gives the same stream. */
export function createRandom(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

export function stationNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    i < STATION_NAMES.length ? STATION_NAMES[i]! : `aq_station_${String(i + 1).padStart(3, '0')}`,
  );
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function formatInstant(ms: number): string {
  const d = new Date(ms);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}`
  );
}

/** Refuses options that cannot make a dataset, naming the flag. */
export function checkGenerateOptions(options: GenerateOptions): void {
  if (!Number.isInteger(options.stations) || options.stations < 1 || options.stations > 100_000) {
    throw new RangeError(`--stations ${options.stations}: expected a whole number from 1 to 100000`);
  }
  if (!Number.isInteger(options.days) || options.days < 1 || options.days > 36_500) {
    throw new RangeError(`--days ${options.days}: expected a whole number from 1 to 36500`);
  }
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff) {
    throw new RangeError(`--seed ${options.seed}: expected a whole number from 0 to 4294967295`);
  }
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(options.start);
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
  if (!match || Number.isNaN(ms) || formatInstant(ms).slice(0, 10) !== options.start) {
    throw new RangeError(`--start ${options.start}: expected a calendar date like 2016-10-01`);
  }
}

/**
 * A deterministic synthetic dataset in the source's CSV format, produced lazily chunk by chunk so that
 * millions of rows never sit in memory: one reading per station every 15 minutes (a few ms of jitter, stations
 * in a shuffled order per slot like the original), diurnal cycles, per-station offsets, slow weather drift and
 * about 0.5 % missing values.
 */
export function generateCsv(options: GenerateOptions): Readable {
  checkGenerateOptions(options);
  const random = createRandom(options.seed);
  const names = stationNames(options.stations);
  const offsets = names.map(() => POLLUTANTS.map(() => 0.75 + random() * 0.5));
  const drift = POLLUTANTS.map(() => 1);
  const startMs = Date.parse(`${options.start}T00:00:00Z`);
  const totalSlots = options.days * SLOTS_PER_DAY;
  const order = names.map((_, i) => i);
  const jitter = new Array<number>(names.length).fill(0);
  let slot = 0;
  let stationInSlot = names.length;
  let headerSent = false;

  function nextRow(): string {
    if (stationInSlot === names.length) {
      stationInSlot = 0;
      // Fisher–Yates per slot, then jitter sorted so timestamps rise within the slot as in the original file.
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (let i = 0; i < jitter.length; i++) jitter[i] = Math.floor(random() * 36);
      jitter.sort((x, y) => x - y);
      for (let p = 0; p < drift.length; p++)
        drift[p] = Math.min(1.6, Math.max(0.6, drift[p]! + (random() - 0.5) * 0.02));
    }
    const station = order[stationInSlot]!;
    const ms = startMs + slot * SLOT_MS + jitter[stationInSlot]!;
    stationInSlot++;
    if (stationInSlot === names.length) slot++;
    const hour = ((ms - startMs) / 3_600_000) % 24;
    let line = `${formatInstant(ms)},${names[station]!}`;
    for (let p = 0; p < POLLUTANTS.length; p++) {
      const { base, swing, peakHour } = POLLUTANTS[p]!;
      if (random() < 0.005) {
        line += ',';
        continue;
      }
      const diurnal = 1 + swing * Math.cos(((hour - peakHour) / 24) * 2 * Math.PI);
      const noise = 1 + (random() - 0.5) * 0.2;
      line += `,${base * offsets[station]![p]! * drift[p]! * diurnal * noise}`;
    }
    return line;
  }

  const totalRows = totalSlots * names.length;
  let written = 0;
  return new Readable({
    read() {
      let chunk = '';
      if (!headerSent) {
        chunk = HEADER_LINE;
        headerSent = true;
      }
      for (let i = 0; i < ROWS_PER_CHUNK && written < totalRows; i++, written++) chunk += `\n${nextRow()}`;
      if (written === totalRows) {
        this.push(`${chunk}\n`);
        this.push(null);
      } else {
        this.push(chunk);
      }
    },
  });
}
