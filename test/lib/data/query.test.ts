import { strict as assert } from 'assert';
import { buildRequest, MAX_WINDOW_MS, plan, splitWindows } from '../../../src/lib/data/query';
import { findCollection } from '../../../src/lib/data/collections';
import { InputError } from '../../../src/lib/errors';

const node = (collection: string, extra: Record<string, unknown> = {}) => ({
  collection: findCollection(collection)!,
  defaultRange: () => ({ start: '2026-11-23', end: '2026-11-23' }),
  timeZone: 'Europe/Berlin',
  allowOverrideCollection: true,
  ...extra,
});

describe('building a data request from a message', () => {
  it('matches msg.collection case-insensitively and names the valid ones when unknown, before any request', () => {
    assert.equal(buildRequest({ collection: 'vo2_max' }, node('sleep')).collection.name, 'vO2_max');
    assert.throws(() => buildRequest({ collection: 'sleeep' }, node('sleep')), (e: Error) => e instanceof InputError && /msg\.collection "sleeep".*daily_activity.*workout/.test(e.message));
  });

  it('refuses msg.document_id where Oura has no single documents', () => {
    assert.equal(buildRequest({ document_id: 'abc' }, node('sleep')).documentId, 'abc');
    for (const c of ['heartrate', 'ring_battery_level', 'personal_info']) {
      assert.throws(() => buildRequest({ document_id: 'abc' }, node(c)), /has no single documents/);
    }
  });

  it('refuses msg.start_datetime on a date collection, naming the field', () => {
    assert.throws(() => buildRequest({ start_datetime: '2026-11-23T00:00:00Z' }, node('daily_readiness')), /msg\.start_datetime applies to heartrate/);
    assert.throws(() => buildRequest({ start_datetime: 'yesterday' }, node('heartrate')), /msg\.start_datetime must be an ISO 8601/);
    assert.throws(() => buildRequest({ start_datetime: '2026-11-23T10:00:00Z', end_datetime: '2026-11-23T09:00:00Z' }, node('heartrate')), /is not before/);
  });

  it('widens day collections by a day each side and trims to the asked days', () => {
    const r = buildRequest({ start_date: '2026-11-20', end_date: '2026-11-21' }, node('sleep'));
    const p = plan(r);
    assert.equal(p.query.start_date, '2026-11-19');
    assert.equal(p.query.end_date, '2026-11-22');
    assert.deepEqual(['2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22'].map((day) => p.keep({ day })), [false, true, true, false]);
  });

  it('keeps span documents that overlap the range', () => {
    const p = plan(buildRequest({ start_date: '2026-11-20', end_date: '2026-11-21' }, node('rest_mode_period')));
    assert.equal(p.keep({ start_day: '2026-11-18', end_day: '2026-11-20' }), true);
    assert.equal(p.keep({ start_day: '2026-11-21', end_day: null }), true);
    assert.equal(p.keep({ start_day: '2026-11-22', end_day: '2026-11-23' }), false);
    assert.equal(p.keep({ start_day: '2026-11-10', end_day: '2026-11-19' }), false);
  });

  it('turns days into local midnights for datetime collections, across a DST change', () => {
    const p = plan(buildRequest({ start_date: '2026-10-24', end_date: '2026-10-25' }, node('heartrate')));
    assert.deepEqual(p.windows, [{ start_datetime: '2026-10-24T00:00:00+02:00', end_datetime: '2026-10-26T00:00:00+01:00' }]);
    const skipped = plan(buildRequest({ start_date: '2026-09-05' }, node('heartrate', { timeZone: 'America/Santiago' })));
    assert.deepEqual([skipped.windows[0].start_datetime, skipped.windows[0].end_datetime], ['2026-09-05T00:00:00-04:00', '2026-09-06T01:00:00-03:00'], 'a 23-hour day');
    const explicit = plan(buildRequest({ start_datetime: '2026-11-23T06:00:00+01:00' }, node('heartrate')));
    assert.equal(explicit.windows[0].start_datetime, '2026-11-23T06:00:00+01:00');
    const latest = plan(buildRequest({}, node('ring_battery_level', { latest: true })));
    assert.deepEqual(latest.query, { latest: 'true' });
  });

  it('takes no range for personal_info and ring_configuration, and keeps the trimming fields', () => {
    assert.deepEqual(plan(buildRequest({}, node('ring_configuration'))).query, {});
    assert.equal(plan(buildRequest({}, node('daily_sleep', { fields: ['score'] }))).query.fields, 'score,day');
  });

  it('splits heart rate ranges into windows of at most 30×24 h of absolute time, also across a DST change', () => {
    const p = plan(buildRequest({ start_date: '2027-03-01', end_date: '2027-04-30' }, node('heartrate', { timeZone: 'Europe/Berlin' })));
    assert.equal(p.windows[0].start_datetime, '2027-03-01T00:00:00+01:00');
    assert.equal(p.windows.at(-1)!.end_datetime, '2027-05-01T00:00:00+02:00');
    assert.equal(p.windows.length, 3);
    for (let i = 0; i < p.windows.length; i++) {
      const w = p.windows[i];
      assert.ok(Date.parse(w.end_datetime!) - Date.parse(w.start_datetime!) <= MAX_WINDOW_MS, `window ${i}`);
      if (i) assert.equal(Date.parse(w.start_datetime!), Date.parse(p.windows[i - 1].end_datetime!), 'windows share their boundary');
    }
    assert.deepEqual(splitWindows('2027-01-01T00:00:00Z', '2027-01-31T00:00:00Z'), [{ start_datetime: '2027-01-01T00:00:00Z', end_datetime: '2027-01-31T00:00:00Z' }], 'exactly 30 days: one window');
  });
});
