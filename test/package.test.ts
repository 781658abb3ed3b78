/**
 * The flow library's scorecard, offline: what `node-red-dev validate` checks without the internet.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const nodeFiles: Record<string, string> = pkg['node-red'].nodes;

/** Satisfies a semver range like ">=4.0.0" or "^4.1.0 || ^5.0.0" for the versions we care about (no dependency needed). */
function satisfies(version: string, range: string): boolean {
  const v = version.split('.').map(Number);
  const cmp = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  return range.split('||').some((alt) => alt.trim().split(/\s+/).every((part) => {
    const m = /^(>=|<=|>|<|\^|~)?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(part);
    if (!m) throw new Error(`unsupported range part ${part}`);
    const p = [Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)];
    const c = cmp(v, p);
    switch (m[1]) {
      case '>=': return c >= 0;
      case '>': return c > 0;
      case '<=': return c <= 0;
      case '<': return c < 0;
      case '^': return c >= 0 && v[0] === p[0];
      case '~': return c >= 0 && v[0] === p[0] && v[1] === p[1];
      default: return c === 0;
    }
  }));
}

describe('flow-library scorecard (offline checks)', () => {
  it('P01 has a license', () => {
    assert.ok(pkg.license);
    assert.ok(fs.existsSync(path.join(root, 'LICENSE')));
  });
  it('P03 has a repository or bugs URL', () => assert.ok(pkg.repository?.url || pkg.bugs?.url));
  it('P04 has a scoped name', () => assert.match(pkg.name, /^@[a-z0-9-]+\/[a-z0-9-]+$/));
  it('P05 has the node-red keyword', () => assert.ok(pkg.keywords.includes('node-red')));
  it('P06 declares a node-red.version range including 4.1 and 5.x', () => {
    for (const v of ['4.1.0', '4.1.15', '5.0.0', '5.0.7']) assert.ok(satisfies(v, pkg['node-red'].version), v);
  });
  it('P07 declares engines.node', () => assert.ok(pkg.engines?.node));
  it('D01 has at most 6 runtime dependencies', () => assert.ok(Object.keys(pkg.dependencies ?? {}).length <= 6));
  it('N02 has an example flow for every non-config node', () => {
    const examples = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json'))
      .flatMap((f) => JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8')) as Array<{ type: string }>);
    const used = new Set(examples.map((n) => n.type));
    for (const file of Object.values(nodeFiles)) {
      const html = fs.readFileSync(path.join(root, file.replace(/\.js$/, '.html')), 'utf8');
      for (const m of html.matchAll(/registerType\(\s*'([^']+)'\s*,\s*\{([\s\S]*?)category:\s*'([^']+)'/g)) {
        if (m[3] !== 'config') assert.ok(used.has(m[1]), `no example uses ${m[1]}`);
      }
    }
  });
  it('every node file has its .html beside it, with literal registerType arguments, and help text', () => {
    for (const [name, file] of Object.entries(nodeFiles)) {
      assert.ok(file.startsWith('nodes/') && file.endsWith('.js'), name);
      const html = fs.readFileSync(path.join(root, file.replace(/\.js$/, '.html')), 'utf8');
      const calls = [...html.matchAll(/registerType\(([^,]*),\s*([^\s])/g)];
      assert.ok(calls.length >= 1, `${file}: no registerType`);
      for (const c of calls) {
        assert.match(c[1].trim(), /^'[^']+'$/, `${file}: registerType type must be a string literal`);
        assert.equal(c[2], '{', `${file}: registerType definition must be an object literal`);
      }
      const base = path.basename(file, '.js');
      assert.ok(fs.existsSync(path.join(root, 'nodes/locales/en-US', `${base}.html`)), `${base}: help text`);
    }
  });
  it('the compiled node files exist (npm ci builds) and the tarball ships them, not the sources', () => {
    for (const file of Object.values(nodeFiles)) assert.ok(fs.existsSync(path.join(root, file)), `${file} (run npm run build)`);
    assert.ok(pkg.files.includes('nodes/**/*.js'));
    assert.ok(!pkg.files.some((f: string) => f.startsWith('src') || f.startsWith('test') || f.startsWith('sim')));
  });
});
