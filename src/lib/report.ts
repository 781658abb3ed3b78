/**
 * How a failed message ends. `done(err)` hands Catch nodes `msg.error` = {message, code, source, stack}, built from our
 * error's sentence and stable code; `msg.ouraError` carries what Oura said. Uncaught, Node-RED would log the error
 * object, which the debug sidebar shows folded and cut mid-sentence: the sentence is logged instead.
 */
import { OuraError } from './errors';
import type { RedNode } from './red';

interface FlowLike {
  handleError(node: RedNode, logMessage: unknown, msg: unknown): boolean;
}

/** Makes `node.error(err, msg)` (which `done(err)` calls) log an uncaught OuraError as its sentence. */
export function reportAsSentences(node: RedNode): void {
  const base = node.error;
  node.error = function (this: RedNode & { _flow?: FlowLike }, logMessage: unknown, msg?: unknown) {
    const flow = this._flow;
    if (logMessage instanceof OuraError && msg && typeof msg === 'object' && flow && typeof flow.handleError === 'function') {
      if (flow.handleError(this, logMessage, msg)) return;
      return base.call(this, logMessage.message);
    }
    return base.call(this, logMessage, msg);
  };
}

/** Puts what Oura said on the message before `done(err)`. */
export function describeFailure(msg: Record<string, unknown>, err: unknown): void {
  msg.ouraError = err instanceof OuraError ? err.details() : { code: 'OURA_INTERNAL' };
}
