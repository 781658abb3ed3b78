import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DurableStore } from '../../../src/lib/store/durable-store';

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

  it('reports a copy encrypted with another key, or garbled, as undecryptable (an answer, not a throw)', () => {
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

  describe('format 2: each copy is bound to its account', () => {
    const fixture = path.resolve(__dirname, '../../fixtures/durable-store-v1/acct-acc1.json');
    const fixtureSecret = 'fixture-credential-secret';
    const fixtureValue = { accessToken: 'AT-fixture', refreshToken: 'RT-fixture', expiresAt: 1700003600000, scopes: ['daily'], authorizedAt: 1700000000000, updatedAt: 1700000000000 };
    const fileOf = (id: string) => path.join(dir, '.oura-tokens', `acct-${id}.json`);
    const envelope = (id: string) => JSON.parse(fs.readFileSync(fileOf(id), 'utf8'));

    it('refuses a copy moved (renamed) to another account, also when it claims the old format', () => {
      const store = new DurableStore(dir, { secrets: () => ['k'] });
      store.write('a', { who: 'a' });
      store.write('b', { who: 'b' });
      const moved = fs.readFileSync(fileOf('a'), 'utf8');
      fs.renameSync(fileOf('a'), fileOf('b'));
      assert.deepEqual(store.read('b'), { ok: false, reason: 'undecryptable' });
      fs.writeFileSync(fileOf('b'), JSON.stringify({ ...JSON.parse(moved), v: 1 }));
      assert.deepEqual(store.read('b'), { ok: false, reason: 'undecryptable' }, 'no downgrade to the unbound format');
      fs.writeFileSync(fileOf('a'), moved);
      assert.deepEqual(store.read('a'), { ok: true, value: { who: 'a' } });
      assert.equal(envelope('a').v, 2);
    });

    it('refuses an authentication tag of any length but 16 bytes', () => {
      const store = new DurableStore(dir, { secrets: () => ['k'] });
      store.write('a', { v: 1 });
      const env = envelope('a');
      const tag = Buffer.from(env.tag, 'base64');
      assert.equal(tag.length, 16);
      for (const short of [tag.subarray(0, 4), tag.subarray(0, 12), Buffer.concat([tag, Buffer.alloc(1)])]) {
        fs.writeFileSync(fileOf('a'), JSON.stringify({ ...env, tag: short.toString('base64') }));
        assert.deepEqual(store.read('a'), { ok: false, reason: 'undecryptable' }, `${short.length}-byte tag`);
      }
    });

    it('reads a format-1 copy of the earlier version once and rewrites it as format 2, so nobody authorizes again', () => {
      fs.mkdirSync(path.join(dir, '.oura-tokens'), { mode: 0o700 });
      fs.copyFileSync(fixture, fileOf('acc1'));
      assert.equal(envelope('acc1').v, 1);
      const store = new DurableStore(dir, { secrets: () => [fixtureSecret] });
      assert.deepEqual(store.read('acc1'), { ok: true, value: fixtureValue });
      assert.equal(envelope('acc1').v, 2, 'rewritten in the new format');
      assert.equal(fs.statSync(fileOf('acc1')).mode & 0o777, 0o600);
      assert.deepEqual(fs.readdirSync(path.join(dir, '.oura-tokens')).filter((f) => f.endsWith('.tmp')), []);
      assert.deepEqual(store.read('acc1'), { ok: true, value: fixtureValue });
      fs.copyFileSync(fileOf('acc1'), fileOf('acc2'));
      assert.deepEqual(store.read('acc2'), { ok: false, reason: 'undecryptable' }, 'the rewritten copy is bound to its account');
    });

    it('refuses a format-1 copy whose tag was cut short, and leaves it alone', () => {
      fs.mkdirSync(path.join(dir, '.oura-tokens'), { mode: 0o700 });
      const env = JSON.parse(fs.readFileSync(fixture, 'utf8'));
      const cut = JSON.stringify({ ...env, tag: Buffer.from(env.tag, 'base64').subarray(0, 4).toString('base64') });
      fs.writeFileSync(fileOf('acc1'), cut);
      assert.deepEqual(new DurableStore(dir, { secrets: () => [fixtureSecret] }).read('acc1'), { ok: false, reason: 'undecryptable' });
      assert.equal(fs.readFileSync(fileOf('acc1'), 'utf8'), cut);
    });
  });

  describe('a write that fails part-way (disk full)', () => {
    // The store calls fs through the module object, so swapping a function here reaches it.
    const nodeFs: typeof fs = require('fs');
    const noSpace = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

    for (const step of ['writeSync', 'fsyncSync'] as const) {
      it(`leaves no temp file and the old copy intact when ${step} fails`, () => {
        const store = new DurableStore<{ refreshToken: string }>(dir, { secrets: () => ['k'] });
        store.write('a', { refreshToken: 'old' });
        const real = nodeFs[step];
        let calls = 0;
        (nodeFs as any)[step] = (...args: unknown[]) => {
          calls++;
          if (calls === 1) throw noSpace();
          return (real as any).apply(nodeFs, args);
        };
        try {
          assert.throws(() => store.write('a', { refreshToken: 'new' }), (err: any) => {
            assert.equal(err.code, 'ENOSPC');
            assert.match(err.message, /acct-a\.json.*no space left on device/);
            assert.ok(!err.message.includes('new'), 'no token in the message');
            return true;
          });
        } finally {
          (nodeFs as any)[step] = real;
        }
        assert.equal(calls, 1, `${step} was reached`);
        assert.deepEqual(fs.readdirSync(path.join(dir, '.oura-tokens')).filter((f) => f.endsWith('.tmp')), []);
        assert.deepEqual(store.read('a'), { ok: true, value: { refreshToken: 'old' } });
      });
    }
  });
});
