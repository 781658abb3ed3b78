import { rng } from './random';

export interface FaultSpec {
  kind: '429' | '500' | '503' | 'drop' | 'garbage' | 'slow';
  target?: 'data' | 'token' | 'any';
  count?: number;
  rate?: number;
  seed?: number;
  retryAfter?: string;
  delayMs?: number;
}

interface Armed {
  spec: FaultSpec;
  left: number;
  random?: () => number;
}

/** Faults waiting to hit the next matching requests (by count) or a share of them (by rate). */
export class Faults {
  private armed: Armed[] = [];

  set(specs: FaultSpec[]): void {
    this.armed = specs.map((spec) => ({
      spec,
      left: spec.rate !== undefined ? Infinity : spec.count ?? 1,
      random: spec.rate !== undefined ? rng(spec.seed ?? 1) : undefined,
    }));
  }

  /** The fault for this request, if one fires. */
  take(kind: 'data' | 'token'): FaultSpec | undefined {
    for (const a of this.armed) {
      const target = a.spec.target ?? 'data';
      if (target !== 'any' && target !== kind) continue;
      if (a.left <= 0) continue;
      if (a.random) {
        if (a.random() < (a.spec.rate ?? 0)) return a.spec;
        continue;
      }
      a.left--;
      return a.spec;
    }
    return undefined;
  }
}
