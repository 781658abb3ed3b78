import { strict as assert } from 'assert';
import * as FakeTimers from '@sinonjs/fake-timers';
import { status } from '../../src/lib/status';
import type { RedNode } from '../../src/lib/red';

describe('node status', () => {
  let clock: ReturnType<typeof FakeTimers.install>;
  beforeEach(() => {
    clock = FakeTimers.install({ now: Date.parse('2027-01-10T07:00:00Z'), toFake: ['setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => clock.uninstall());

  function fakeNode(): { node: RedNode; shown: string[] } {
    const shown: string[] = [];
    return { node: { status: (s: { text?: string }) => shown.push(s.text ?? '') } as unknown as RedNode, shown };
  }

  it('counts a long wait down each second, and any new status ends the countdown', () => {
    const { node, shown } = fakeNode();
    status.retrying(node, 'rate limited', 125_000);
    assert.deepEqual(shown, ['rate limited: retrying in 2:05']);
    clock.tick(1000);
    clock.tick(1000);
    assert.deepEqual(shown.slice(1), ['rate limited: retrying in 2:04', 'rate limited: retrying in 2:03']);
    status.fetching(node);
    clock.tick(10_000);
    assert.equal(shown.at(-1), 'fetching', 'no tick after the retry started');
    assert.equal(clock.countTimers(), 0);
  });

  it('stops by itself when the wait is over; short waits just say retrying', () => {
    const { node, shown } = fakeNode();
    status.retrying(node, 'rate limited', 6000);
    clock.tick(20_000);
    assert.equal(shown.at(-1), 'rate limited: retrying in 0:01');
    assert.equal(clock.countTimers(), 0);
    status.retrying(node, 'HTTP 503', 800);
    assert.equal(shown.at(-1), 'retrying: HTTP 503');
    status.clear(node);
    assert.equal(clock.countTimers(), 0);
  });
});
