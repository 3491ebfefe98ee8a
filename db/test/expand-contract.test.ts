import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expandContractProblems } from '../src/expand-contract.ts';
import { MIGRATIONS_DIR } from '../src/migrate.ts';

describe('migrations follow the expand/contract rule (a rollback runs the previous release on the new schema)', function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'airq-migrations-'));
    writeFileSync(path.join(dir, '001_initial.sql'), 'CREATE TABLE stations (id text PRIMARY KEY, name text);\n');
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  function problems(file: string, sql: string): string[] {
    writeFileSync(path.join(dir, file), sql);
    return expandContractProblems(dir);
  }

  it("holds for the repository's migrations", function () {
    expect(expandContractProblems(MIGRATIONS_DIR)).to.deep.equal([]);
  });

  it('allows expanding and relaxing: new tables, nullable or defaulted columns, indexes, dropped constraints and defaults', function () {
    expect(
      problems(
        '002_expand.sql',
        [
          'CREATE TABLE sensors (id text PRIMARY KEY);',
          'ALTER TABLE stations ADD COLUMN city text;',
          "ALTER TABLE stations ADD COLUMN kind text NOT NULL DEFAULT 'urban';",
          'CREATE INDEX stations_city ON stations (city);',
          'ALTER TABLE stations ALTER COLUMN name DROP NOT NULL;',
          'ALTER TABLE stations DROP CONSTRAINT stations_name_check;',
          "-- a comment may say DROP TABLE stations; so may a string: 'RENAME'",
          "COMMENT ON TABLE stations IS 'DROP COLUMN name';",
        ].join('\n'),
      ),
    ).to.deep.equal([]);
  });

  const breaking: Array<[string, RegExp]> = [
    [
      'ALTER TABLE stations DROP COLUMN name;',
      /002_break\.sql:2: "ALTER TABLE stations DROP COLUMN name" drops a column the previous release may read/,
    ],
    ['ALTER TABLE stations DROP name;', /drops a column/],
    [
      'ALTER TABLE stations RENAME COLUMN name TO title;',
      /"RENAME" renames what the previous release refers to by name/,
    ],
    ['ALTER TABLE stations RENAME TO places;', /renames/],
    ['DROP TABLE stations;', /"DROP TABLE" drops what the previous release may read/],
    ['ALTER TABLE stations ALTER COLUMN name TYPE varchar(20);', /changes a column type/],
    ['ALTER TABLE stations ALTER COLUMN name SET NOT NULL;', /makes a column NOT NULL/],
    ['ALTER TABLE stations ADD COLUMN city text NOT NULL;', /adds a NOT NULL column without a default/],
  ];
  for (const [sql, message] of breaking) {
    it(`refuses, naming file and line, a migration that breaks the previous release: ${sql}`, function () {
      const found = problems('002_break.sql', `-- an unmarked change\n${sql}\n`);
      expect(found).to.have.length.greaterThan(0);
      expect(found.join('\n')).to.match(message);
      expect(found[0]).to.match(
        /Expand now \(add, copy, write both\), and contract in a later release with a header line "-- contract of NNN/,
      );
    });
  }

  it('allows a contract step that names the earlier expand migration it completes', function () {
    writeFileSync(path.join(dir, '002_station_title.sql'), 'ALTER TABLE stations ADD COLUMN title text;\n');
    expect(
      problems(
        '003_drop_station_name.sql',
        '-- contract of 002: releases since 002 read title, not name\nALTER TABLE stations DROP COLUMN name;\n',
      ),
    ).to.deep.equal([]);
  });

  it('refuses a contract marker that names no earlier migration', function () {
    expect(
      problems('002_drop.sql', '-- contract of 002: nothing reads it\nALTER TABLE stations DROP COLUMN name;\n'),
    ).to.deep.equal([
      `${path.join(dir, '002_drop.sql')}: "-- contract of 002" must name an earlier migration of ${dir} (the expand step this contracts)`,
    ]);
    expect(
      problems('002_drop.sql', '-- contract of 007: nothing reads it\nALTER TABLE stations DROP COLUMN name;\n'),
    ).to.have.length(1);
  });
});
