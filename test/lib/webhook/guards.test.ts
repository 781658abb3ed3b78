/** What an unknown sender can make the webhook do before its signature is checked: little, and nothing that throws. */
import { strict as assert } from 'assert';
import { LOG_LIMIT, LOG_WINDOW_MS, Rejections, STATUS_EVERY_MS } from '../../../src/lib/webhook/rejections';
import { pythonJson, RESERIALIZE_LIMITS, signature, signedBodies, verifySignature } from '../../../src/lib/webhook/signature';

function nested(depth: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe('webhook: bodies a signature may cover', function () {
  const event = { event_type: 'create', data_type: 'sleep', object_id: 'o-1', event_time: '2024-05-01T07:00:00+00:00', user_id: 'u-1' };

  it('uses the raw bytes alone when they exist, even when a parser also left its result', function () {
    const raw = Buffer.from(`{ "event_type" : "create" }`);
    assert.deepEqual(signedBodies({ raw, parsed: { event_type: 'create' } }), [raw]);
  });

  it('re-serializes a parsed event compactly and as Python writes it, when a parser consumed the bytes', function () {
    assert.deepEqual(signedBodies({ parsed: event }), [JSON.stringify(event), pythonJson(event)]);
    assert.deepEqual(signedBodies({}), [], 'nothing to check');
  });

  it('gives nothing to check, without throwing, for a body no Oura event can be', function () {
    const deep = JSON.parse('['.repeat(32 * 1024) + ']'.repeat(32 * 1024));
    assert.throws(() => JSON.stringify(deep), RangeError, 'the body this guards against');
    assert.deepEqual(signedBodies({ parsed: deep }), []);
    assert.equal(signedBodies({ parsed: nested(RESERIALIZE_LIMITS.depth) }).length, 2, 'as deep as allowed');
    assert.deepEqual(signedBodies({ parsed: nested(RESERIALIZE_LIMITS.depth + 1) }), []);
    assert.deepEqual(signedBodies({ parsed: new Array(1_000_000).fill(0) }), [], 'too many values');
    assert.deepEqual(signedBodies({ parsed: { text: 'x'.repeat(RESERIALIZE_LIMITS.chars + 1) } }), [], 'too long');
    assert.deepEqual(signedBodies({ parsed: { ['k'.repeat(RESERIALIZE_LIMITS.chars + 1)]: 1 } }), [], 'keys count too');
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    assert.deepEqual(signedBodies({ parsed: cycle }), []);
    assert.deepEqual(signedBodies({ parsed: { toJSON: () => { throw new Error('no'); } } }), []);
  });

  it('verifies a deep raw body by its bytes (it is refused later as not an event, never by a stack overflow)', function () {
    const raw = Buffer.from('['.repeat(32 * 1024) + ']'.repeat(32 * 1024));
    const sig = signature('s3cret', '1700000000', raw);
    assert.ok(verifySignature('s3cret', '1700000000', sig, signedBodies({ raw })));
    assert.ok(!verifySignature('other', '1700000000', sig, signedBodies({ raw })));
  });
});

describe('webhook: what a rejected request costs', function () {
  it('a few debug lines per window, then a count of the ones left out', function () {
    const r = new Rejections();
    const t0 = 1_700_000_000_000;
    const lines = Array.from({ length: 30 }, (_, i) => r.logLine(`no ${i}`, t0 + i));
    assert.deepEqual(lines.filter(Boolean), Array.from({ length: LOG_LIMIT }, (_, i) => `no ${i}`));
    assert.equal(r.logLine('later', t0 + LOG_WINDOW_MS), `later (${30 - LOG_LIMIT} more rejected requests not logged)`);
    for (let i = 1; i < LOG_LIMIT; i++) assert.ok(r.logLine('x', t0 + LOG_WINDOW_MS + i));
    assert.equal(r.logLine('x', t0 + LOG_WINDOW_MS + LOG_LIMIT), undefined);
    assert.equal(r.logLine('x', t0 + 2 * LOG_WINDOW_MS), 'x (1 more rejected request not logged)');
    assert.equal(r.logLine('x', t0 + 2 * LOG_WINDOW_MS + 1), 'x', 'counted once');
  });

  it('shows a new reason at once, the same reason again only after a pause', function () {
    const r = new Rejections();
    const t0 = 1_700_000_000_000;
    assert.ok(r.showStatus('bad signature', t0));
    assert.ok(!r.showStatus('bad signature', t0 + STATUS_EVERY_MS - 1));
    assert.ok(r.showStatus('missing signature', t0 + STATUS_EVERY_MS - 1));
    assert.ok(!r.showStatus('missing signature', t0 + STATUS_EVERY_MS));
    assert.ok(r.showStatus('missing signature', t0 + 2 * STATUS_EVERY_MS));
  });
});
