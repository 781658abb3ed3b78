import { OuraError } from './errors';
import type { RedNode } from './red';

/** Node status in one place, so every node shows the same states the same way. */
export const status = {
  fetching(node: RedNode, text = 'fetching'): void {
    node.status({ fill: 'blue', shape: 'dot', text });
  },
  retrying(node: RedNode, reason: string): void {
    node.status({ fill: 'yellow', shape: 'ring', text: `retrying: ${reason}` });
  },
  done(node: RedNode, text: string): void {
    node.status({ fill: 'green', shape: 'dot', text });
  },
  notAuthorized(node: RedNode): void {
    node.status({ fill: 'yellow', shape: 'ring', text: 'not authorized' });
  },
  failed(node: RedNode, err: unknown): void {
    const text = err instanceof OuraError ? err.status : 'error';
    node.status({ fill: 'red', shape: 'ring', text });
  },
  clear(node: RedNode): void {
    node.status({});
  },
};

export function timeOfDay(d = new Date()): string {
  return d.toTimeString().slice(0, 5);
}

/** Errors that are not ours (bugs) still reach Catch nodes, without leaking internals. */
export function asError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(String(err));
}
