import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DurableStore } from '../../src/lib/durable-store';

describe('durable token copy', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oura-store-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips, encrypted and owner-only', () => {
    const store = new DurableStore<{ refreshToken: string }>(dir, { secrets: () => ['s3cret'] });
    store.write('abc123', { refreshToken: 'RT-very-secret-value' });
    const file = path.join(dir, '.oura-tokens', 'acct-abc123.json');
    const raw = fs.readFileSync(file, 'utf8');
    assert.ok(!raw.includes('RT-very-secret-value'));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(store.read('abc123'), { ok: true, value: { refreshToken: 'RT-very-secret-value' } });
    assert.deepEqual(store.list(), ['abc123']);
    assert.deepEqual(fs.readdirSync(path.join(dir, '.oura-tokens')).filter((f) => f.endsWith('.tmp')), []);
  });

  it('reports a copy encrypted with another key as undecryptable instead of failing', () => {
    new DurableStore(dir, { secrets: () => ['old'] }).write('a', { x: 1 });
    assert.deepEqual(new DurableStore(dir, { secrets: () => ['new'] }).read('a'), { ok: false, reason: 'undecryptable' });
    fs.writeFileSync(path.join(dir, '.oura-tokens', 'acct-b.json'), 'not json');
    assert.deepEqual(new DurableStore(dir, { secrets: () => ['new'] }).read('b'), { ok: false, reason: 'undecryptable' });
    assert.deepEqual(new DurableStore(dir, { secrets: () => ['new'] }).read('missing'), { ok: false, reason: 'missing' });
  });

  it('makes its own 0600 key file when Node-RED offers no secret, and still reads it once a secret appears', () => {
    let secrets: string[] = [];
    const store = new DurableStore(dir, { secrets: () => secrets });
    store.write('a', { v: 1 });
    const key = path.join(dir, '.oura-tokens', 'key');
    assert.equal(fs.statSync(key).mode & 0o777, 0o600);
    secrets = ['generated-later'];
    assert.deepEqual(store.read('a'), { ok: true, value: { v: 1 } });
  });

  it('keeps odd ids safe in file names and lists and removes them', () => {
    const store = new DurableStore(dir, { secrets: () => ['k'] });
    store.write('../evil id', { v: 1 });
    assert.deepEqual(store.list(), ['../evil id']);
    assert.ok(fs.readdirSync(path.join(dir, '.oura-tokens')).every((f) => !f.includes('/') && !f.includes('..')));
    store.remove('../evil id');
    assert.deepEqual(store.list(), []);
  });
});
