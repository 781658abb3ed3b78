import type { OuraAccountNode, RED as NodeRED, RedNode } from './lib/red';
import { findCollection } from './lib/collections';
import { checkedRange, dayIn, DayRange, isTimeZone, presetRange, RANGE_PRESETS, RangePreset, systemTimeZone } from './lib/dates';
import { InputError } from './lib/errors';
import { fetchDays } from './lib/query';
import { asError, status, timeOfDay } from './lib/status';
import * as tokens from './lib/tokens';

const SLEEP_COLLECTIONS = ['sleep', 'daily_sleep', 'sleep_time'] as const;

interface SleepConfig {
  id: string;
  name?: string;
  account: string;
  collection?: string;
  range?: string;
  startDate?: string;
  endDate?: string;
  timezone?: string;
}

export = function register(RED: NodeRED): void {
  function OuraSleep(this: RedNode, config: SleepConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const collectionName = (SLEEP_COLLECTIONS as readonly string[]).includes(config.collection ?? '') ? config.collection! : 'sleep';
    const collection = findCollection(collectionName)!;
    const preset = ((RANGE_PRESETS as readonly string[]).includes(config.range ?? '') ? config.range : 'last_night') as RangePreset;
    const timeZone = (config.timezone ?? '').trim() || systemTimeZone();
    const account = RED.nodes.getNode(config.account) as OuraAccountNode | null;

    if (!account) status.failed(node, new InputError('no account'));
    else if (!tokens.current(account.handle.key)) status.notAuthorized(node);

    /** The configuration problem, if any, found before any request. */
    function configError(): InputError | undefined {
      if (!account) return new InputError('No Oura account is selected: open this node and pick or add an Oura account');
      if (!isTimeZone(timeZone)) return new InputError(`Time zone "${timeZone}" is unknown: use an IANA name such as Europe/Berlin, or leave it empty for Node-RED's`);
      return undefined;
    }

    function rangeFor(msg: Record<string, unknown>): DayRange {
      if (msg.start_date !== undefined || msg.end_date !== undefined) return checkedRange(msg.start_date, msg.end_date);
      return presetRange(preset, dayIn(timeZone, new Date()), { startDate: config.startDate, endDate: config.endDate });
    }

    node.on('input', (msg, send, done) => {
      const run = async () => {
        const problem = configError();
        if (problem) throw problem;
        const range = rangeFor(msg);
        status.fetching(node);
        const docs = await fetchDays(account!.handle, collection, range, {}, {
          onRetry: (reason) => status.retrying(node, reason),
        });
        msg.payload = docs;
        msg.oura = { collection: collection.name, start_date: range.start, end_date: range.end, timezone: timeZone, count: docs.length };
        status.done(node, `${docs.length} ${docs.length === 1 ? 'document' : 'documents'} at ${timeOfDay()}`);
        send(msg);
      };
      run().then(() => done(), (err) => {
        status.failed(node, err);
        done(asError(err));
      });
    });

    node.on('close', () => status.clear(node));
  }

  RED.nodes.registerType('oura sleep', OuraSleep);
};
