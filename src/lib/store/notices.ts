/**
 * What one replica hears from the others through Redis' pub/sub, for the messages waiting on it: a waiter wakes at the
 * first of its notices or after its poll interval, whichever comes first, and always re-reads Redis itself.
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
