import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { CsvToCopy, InvalidInputError, MAX_LINE_CHARS } from '../src/csv-to-copy.ts';
import { stationIdProblem } from '../src/measurement-format.ts';
import { stationIdProblem as apiStationIdProblem } from '../../api/src/domain.ts';

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

describe('station ids and encodings in CSV input', () => {
  const row = (station: string) => `2016-10-01 00:00:00.000,${station},1,2,3,4,5,6\n`;

  it('refuses the station ids the API refuses (control characters, terminal escapes, over 200 characters), never echoing them raw', async () => {
    const stations = ['aq_\u001b[31mred', 'aq_\u009b2J', 'aq\u0000x', 'x'.repeat(201)];
    const error = await validate(Readable.from([Buffer.from(HEADER + stations.map(row).join('') + row('aq_ok'))]));
    expect(error.problems).to.have.length(4);
    expect(error.problems[0]).to.equal(
      'big.csv:2: column "id_entity": "aq_\\u001b[31mred": contains control characters or invalid UTF-8',
    );
    expect(error.problems[3]).to.match(/^big\.csv:5: column "id_entity": "x{57}\.\.\.": longer than 200 characters$/);
    // eslint-disable-next-line no-control-regex
    for (const problem of error.problems) expect(problem).to.not.match(/[\u0000-\u001f\u007f-\u009f]/);
    for (const station of stations)
      expect(apiStationIdProblem(station), station).to.equal(stationIdProblem(station)).and.not.equal(null);
  });

  it('names UTF-16 as the encoding of a UTF-16 file, with or without a byte-order mark', async () => {
    const text = HEADER + row('aq_01');
    for (const [bytes, name] of [
      [Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), 'UTF-16 (little-endian)'],
      [Buffer.from(text, 'utf16le'), 'UTF-16 (little-endian, no byte-order mark)'],
    ] as const) {
      const error = await validate(Readable.from([bytes]));
      expect(error.message).to.equal(
        `big.csv: the file is ${name}; save it as UTF-8 (the header starts TimeInstant,id_entity,...)`,
      );
    }
  });
});
