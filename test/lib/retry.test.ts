import { strict as assert } from 'assert';
import { backoffDelay, isRetryableStatus, parseRetryAfter, timing } from '../../src/lib/retry';

describe('retry policy', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter('Mon, 23 Nov 2026 12:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('Mon, 23 Nov 2026 11:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it('backs off exponentially within bounds', () => {
    const t = { ...timing, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(backoffDelay(0, t, () => 0), 50);
    assert.equal(backoffDelay(0, t, () => 1), 100);
    assert.equal(backoffDelay(2, t, () => 1), 400);
    assert.equal(backoffDelay(10, t, () => 1), 1000);
    assert.equal(backoffDelay(10, t, () => 0), 500);
  });

  it('retries only 408, 429 and 5xx', () => {
    for (const s of [408, 429, 500, 502, 503, 504]) assert.equal(isRetryableStatus(s), true, String(s));
    for (const s of [400, 401, 403, 404, 422]) assert.equal(isRetryableStatus(s), false, String(s));
  });
});
