import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { CsvToCopy, InvalidInputError, MAX_LINE_CHARS } from '../src/csv-to-copy.ts';

const HEADER = 'TimeInstant,id_entity,so2,no2,co,o3,pm10,pm2_5\n';

/** `head`, then `size` bytes of `fill` without a newline, in 64 KiB chunks; counts what the validator consumed. */
function source(head: string, size: number, fill = 'x') {
  const counter = { bytes: 0 };
  const chunk = Buffer.alloc(64 * 1024, fill);
  async function* chunks() {
    counter.bytes += head.length;
    yield Buffer.from(head);
    for (let sent = 0; sent < size; sent += chunk.length) {
      counter.bytes += chunk.length;
      yield chunk;
    }
  }
  return { stream: Readable.from(chunks(), { objectMode: false }), counter };
}

async function validate(stream: Readable): Promise<InvalidInputError> {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const error = await pipeline(stream, new CsvToCopy('big.csv', 20), sink).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(InvalidInputError);
  return error as InvalidInputError;
}

describe('CSV input limits', () => {
  it('stops at the first line over the limit, naming file, line and limit, without reading the rest of a 20 MB line', async () => {
    const { stream, counter } = source(HEADER, 20 * 1024 * 1024);
    const error = await validate(stream);
    expect(error.message).to.equal(
      `big.csv:2: the line is longer than ${MAX_LINE_CHARS.toLocaleString('en-US')} characters; ` +
        'a reading is one short line (is this the right file?)',
    );
    expect(counter.bytes, 'bytes consumed').to.be.lessThan(MAX_LINE_CHARS + 4 * 64 * 1024);
  });

  it('names a 20 MB header line in a message of a few hundred characters', async () => {
    const { stream } = source('', 20 * 1024 * 1024);
    const error = await validate(stream);
    expect(error.message.length).to.be.lessThan(300);
    expect(error.message).to.match(/^big\.csv:1: the line is longer than/);
  });

  it('cuts every value it echoes: a header of long unknown names gives a short message', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `${String(i).repeat(5000)}`).join(',');
    const error = await validate(Readable.from([Buffer.from(`${names}\n`)]));
    expect(error.message.length).to.be.lessThan(1000);
    expect(error.message).to.match(/^big\.csv:1: header must name the columns /);
  });
});
