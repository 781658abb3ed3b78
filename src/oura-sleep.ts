import type { RED as NodeRED } from './lib/red';
import { dataNodeConstructor } from './lib/data/data-node';

/** A focused preset of `oura data`: sleep periods, sleep scores or bedtime guidance. */
export = function register(RED: NodeRED): void {
  RED.nodes.registerType('oura sleep', dataNodeConstructor(RED, {
    collections: ['sleep', 'daily_sleep', 'sleep_time'],
    defaultCollection: 'sleep',
    allowOverrideCollection: false,
  }));
};
