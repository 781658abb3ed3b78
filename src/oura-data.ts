import type { RED as NodeRED } from './lib/red';
import { dataNodeConstructor } from './lib/data/data-node';

/** Any Oura collection: the same machinery as `oura sleep`, with every collection and msg.collection. */
export = function register(RED: NodeRED): void {
  RED.nodes.registerType('oura data', dataNodeConstructor(RED, {
    defaultCollection: 'daily_readiness',
    allowOverrideCollection: true,
  }));
};
