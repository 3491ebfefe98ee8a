import { Transform } from 'node:stream';
import type { Pollutant } from './domain.ts';
import { copyLinesTo, csvHeader } from './raw-readings.ts';

/**
 * Turns the bytes of `COPY (readings) TO STDOUT (FORMAT csv)` into the CSV or NDJSON export, a chunk at a time: each
 * chunk is cut after its last line break and the rest waits for the next; the lines go through as byte strings
 * (raw-readings.ts). Memory is one chunk and its output, whatever the size of the export.
 */
export function exportStream(format: 'csv' | 'ndjson', pollutants: readonly Pollutant[]): Transform {
  let rest: Buffer | undefined;
  let started = false;
  return new Transform({
    // Room for a few formatted chunks (NDJSON is ~6 times COPY's CSV), so formatting goes on while the socket drains.
    readableHighWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, done) {
      const bytes = rest ? Buffer.concat([rest, chunk]) : chunk;
      const cut = bytes.lastIndexOf(10) + 1;
      rest = cut < bytes.length ? bytes.subarray(cut) : undefined;
      let out = started || format !== 'csv' ? '' : csvHeader(pollutants);
      started = true;
      if (cut) out += copyLinesTo(format, bytes.toString('latin1', 0, cut), pollutants);
      done(null, out ? Buffer.from(out, 'latin1') : undefined);
    },
    flush(done) {
      if (rest)
        return done(
          new Error(`the export's COPY ended inside a line (${rest.length} bytes after the last line break)`),
        );
      done(null, !started && format === 'csv' ? csvHeader(pollutants) : undefined);
    },
  });
}
