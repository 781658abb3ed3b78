/**
 * What one replica hears from the others through Redis' pub/sub, for the messages waiting on it: a waiter wakes at the
 * first of its notices or after its poll interval, whichever comes first, and always re-reads Redis itself. And the
 * pauses between two tries while Redis does not answer.
 */
import { EventEmitter } from 'events';

export class Notices {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /** Wakes everyone waiting for `name`. */
  tell(name: string): void {
    this.emitter.emit(name);
  }

  /** Until one of `names` is told, or `ms` passed. */
  next(names: string[], ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const n of names) this.emitter.off(n, done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref?.();
      for (const n of names) this.emitter.on(n, done);
    });
  }
}

/** A wait that never keeps Node-RED running. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}

/** Between two tries while Redis does not answer: 0.5 s, doubling, at most `capMs`. */
export function pauseBeforeRetry(attempt: number, capMs: number): Promise<void> {
  return pause(Math.min(500 * 2 ** attempt, capMs));
}
