import { strict as assert } from 'assert';
import { addDays, checkedRange, dayIn, isDay, presetRange, startOfDay } from '../../../src/lib/data/dates';
import { InputError } from '../../../src/lib/errors';

describe('dates', () => {
  it('accepts only real YYYY-MM-DD days', () => {
    assert.equal(isDay('2026-02-28'), true);
    assert.equal(isDay('2028-02-29'), true);
    assert.equal(isDay('2026-02-29'), false);
    assert.equal(isDay('2026-2-1'), false);
    assert.equal(isDay('2026-11-23T00:00:00Z'), false);
    assert.equal(isDay(20261123), false);
  });

  it('adds days across month, year and leap boundaries', () => {
    assert.equal(addDays('2026-12-31', 1), '2027-01-01');
    assert.equal(addDays('2028-03-01', -1), '2028-02-29');
    assert.equal(addDays('2026-03-29', 1), '2026-03-30');
  });

  it('tells the day in a time zone, not the server\'s', () => {
    const instant = new Date('2026-11-23T23:30:00Z');
    assert.equal(dayIn('UTC', instant), '2026-11-23');
    assert.equal(dayIn('Europe/Berlin', instant), '2026-11-24');
    assert.equal(dayIn('America/Los_Angeles', instant), '2026-11-23');
    assert.equal(dayIn('Pacific/Auckland', new Date('2026-11-23T10:59:00Z')), '2026-11-23');
    assert.equal(dayIn('Pacific/Auckland', new Date('2026-11-23T11:00:00Z')), '2026-11-24');
  });

  it('gives local midnight with the offset in force, across DST changes', () => {
    assert.equal(startOfDay('2026-03-29', 'Europe/Berlin'), '2026-03-29T00:00:00+01:00');
    assert.equal(startOfDay('2026-03-30', 'Europe/Berlin'), '2026-03-30T00:00:00+02:00');
    assert.equal(startOfDay('2026-10-25', 'Europe/Berlin'), '2026-10-25T00:00:00+02:00');
    assert.equal(startOfDay('2026-10-26', 'Europe/Berlin'), '2026-10-26T00:00:00+01:00');
    assert.equal(startOfDay('2026-06-01', 'America/New_York'), '2026-06-01T00:00:00-04:00');
    assert.equal(startOfDay('2026-06-01', 'Asia/Kolkata'), '2026-06-01T00:00:00+05:30');
    assert.equal(startOfDay('2026-06-01', 'UTC'), '2026-06-01T00:00:00+00:00');
  });

  it('begins a day whose midnight a DST change skips (Chile, Cuba) at the change, not an hour before', () => {
    // Santiago goes from 00:00 -04:00 straight to 01:00 -03:00 on 2026-09-06; Havana likewise on 2027-03-14.
    assert.equal(startOfDay('2026-09-06', 'America/Santiago'), '2026-09-06T01:00:00-03:00');
    assert.equal(startOfDay('2026-09-05', 'America/Santiago'), '2026-09-05T00:00:00-04:00');
    assert.equal(startOfDay('2026-09-07', 'America/Santiago'), '2026-09-07T00:00:00-03:00');
    assert.equal(startOfDay('2027-03-14', 'America/Havana'), '2027-03-14T01:00:00-04:00');
    assert.equal(dayIn('America/Santiago', new Date(Date.parse(startOfDay('2026-09-06', 'America/Santiago')) - 1)), '2026-09-05');
    // Back from -03:00 to -04:00 at midnight: 23:00 repeats on 2026-04-04, midnight comes once.
    assert.equal(startOfDay('2026-04-05', 'America/Santiago'), '2026-04-05T00:00:00-04:00');
    assert.equal(startOfDay('2026-04-04', 'America/Santiago'), '2026-04-04T00:00:00-03:00');
  });

  it('maps presets to days, a night belonging to the day it ends', () => {
    assert.deepEqual(presetRange('last_night', '2026-11-23'), { start: '2026-11-23', end: '2026-11-23' });
    assert.deepEqual(presetRange('yesterday', '2026-11-23'), { start: '2026-11-22', end: '2026-11-22' });
    assert.deepEqual(presetRange('last_7_days', '2026-11-23'), { start: '2026-11-17', end: '2026-11-23' });
    assert.deepEqual(presetRange('last_30_days', '2026-03-01'), { start: '2026-01-31', end: '2026-03-01' });
    assert.deepEqual(presetRange('custom', '2026-11-23', { startDate: '2026-01-01', endDate: '2026-01-03' }), { start: '2026-01-01', end: '2026-01-03' });
  });

  it('checks message dates: one alone is that day, bad ones name the field', () => {
    assert.deepEqual(checkedRange('2026-11-01', undefined), { start: '2026-11-01', end: '2026-11-01' });
    assert.deepEqual(checkedRange(undefined, '2026-11-02'), { start: '2026-11-02', end: '2026-11-02' });
    assert.throws(() => checkedRange('2026-13-01', undefined), (e: Error) => e instanceof InputError && /msg\.start_date.*YYYY-MM-DD/.test(e.message));
    assert.throws(() => checkedRange('2026-11-01', 'yesterday'), /msg\.end_date must be a date/);
    assert.throws(() => checkedRange('2026-11-05', '2026-11-01'), /msg\.start_date \(2026-11-05\) is after msg\.end_date \(2026-11-01\)/);
  });
});
