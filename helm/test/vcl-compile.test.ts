import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { skipUnlessAvailable } from '../../test/support/requires.ts';
import { ENVIRONMENTS, renderChart } from './support/chart.ts';
import { compileVcl, varnishdMissing, vclForLoopback } from './support/varnish.ts';

describe('the cache VCL as rendered from values', function () {
  let dir: string;
  before(function () {
    skipUnlessAvailable(this, 'varnishd', varnishdMissing());
    dir = mkdtempSync(path.join(tmpdir(), 'airq-vcl-compile-'));
  });
  after(function () {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const environment of ENVIRONMENTS) {
    it(`compiles in varnishd for ${environment}`, async function () {
      compileVcl(vclForLoopback(await renderChart({ environment }), 8080, dir), dir);
    });
  }

  it('compiles with IPv6 networks allowed to BAN', async function () {
    const objects = await renderChart({ values: { cache: { ban: { allowedCidrs: ['10.0.0.0/8', 'fd00::/8'] } } } });
    const vcl = vclForLoopback(objects, 8080, dir);
    expect(vcl).to.include('"fd00::"/8;');
    compileVcl(vcl, dir);
  });
});
