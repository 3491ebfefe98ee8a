import { expect } from 'chai';
import { readHeader, timestampProblem, valueProblem } from '../src/measurement-format.ts';

describe('measurement format', () => {
  describe('timestamps', () => {
    const cases: [string, string | undefined][] = [
      ['2016-10-01 00:15:00.012', undefined],
      ['2016-10-01 00:15:00', undefined],
      ['2016-10-01T23:59:59.123456', undefined],
      ['2016-02-29 12:00:00', undefined],
      ['2016-02-30 00:00:00', 'is not a real date: February 2016 has 29 days'],
      ['2015-02-29 00:00:00', 'is not a real date: February 2015 has 28 days'],
      ['1900-02-29 00:00:00', 'is not a real date: February 1900 has 28 days'],
      ['2016-13-01 00:00:00', 'is not a real date: the month must be 01 to 12'],
      ['2016-10-01 24:00:00', 'is not a real time of day: expected 00:00:00 to 23:59:59'],
      ['2016-10-01 23:60:00', 'is not a real time of day: expected 00:00:00 to 23:59:59'],
      ['2016-10-01', 'is not a timestamp like 2016-10-01 00:15:00.012'],
      ['01/10/2016 00:15:00', 'is not a timestamp like 2016-10-01 00:15:00.012'],
      ['2016-10-01 00:15:00.', 'is not a timestamp like 2016-10-01 00:15:00.012'],
      ['2016-10-01 00:15:00.0123456', 'is not a timestamp like 2016-10-01 00:15:00.012'],
      ['2016-10-01 00:15:00+02', 'is not a timestamp like 2016-10-01 00:15:00.012'],
      ['', 'is not a timestamp like 2016-10-01 00:15:00.012'],
    ];
    for (const [text, problem] of cases) {
      it(`${problem ? 'refuses' : 'accepts'} ${JSON.stringify(text)}`, () => {
        expect(timestampProblem(text)).to.equal(problem);
      });
    }
  });

  describe('values', () => {
    const cases: [string, string | undefined][] = [
      ['48.398337879833704', undefined],
      ['0', undefined],
      ['.5', undefined],
      ['7.', undefined],
      ['1e3', undefined],
      ['+2.5', undefined],
      ['-0', undefined],
      ['abc', 'is not a number'],
      ['1,5', 'is not a number'],
      [' 5', 'is not a number'],
      ['0x10', 'is not a number'],
      ['NaN', 'is not a finite number'],
      ['Infinity', 'is not a finite number'],
      ['-inf', 'is not a finite number'],
      ['-1.5', 'is negative; concentrations cannot be below zero'],
      ['1e400', 'is out of range for a double precision number'],
      ['1e-400', 'is out of range for a double precision number'],
    ];
    for (const [text, problem] of cases) {
      it(`${problem ? 'refuses' : 'accepts'} the value ${JSON.stringify(text)}`, () => {
        expect(valueProblem(text)).to.equal(problem);
      });
    }
  });

  describe('header', () => {
    it('maps the columns when they come in another order', () => {
      const columns = readHeader(['id_entity', 'TimeInstant', 'pm2_5', 'so2', 'no2', 'co', 'o3', 'pm10']);
      expect(columns).to.deep.equal({ time: 1, station: 0, values: [3, 4, 5, 6, 7, 2] });
    });

    it('names missing, unexpected and repeated columns', () => {
      expect(readHeader(['TimeInstant', 'id_entity', 'so2', 'no_2', 'co', 'o3', 'pm10', 'pm10'])).to.equal(
        'header must name the columns TimeInstant,id_entity,so2,no2,co,o3,pm10,pm2_5: missing "no2", "pm2_5"; unexpected "no_2"; repeated "pm10"',
      );
    });
  });
});
