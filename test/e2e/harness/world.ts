// What scenarios share within one mocha run: the simulator and the secrets issued by it.
import { SimClient, Simulator } from './simulator';
import { variant } from './env';

let sim: Promise<Simulator> | undefined;

/** The one Oura simulator of this run, started on first use and stopped by the root hooks. */
export function simulator(): Promise<Simulator> {
  if (!sim) sim = Simulator.start(variant().workDir);
  return sim;
}

export async function stopSimulator(): Promise<void> {
  if (!sim) return;
  const s = await sim.catch(() => undefined);
  sim = undefined;
  await s?.stop();
}

/** The Oura applications the scenarios registered (their client secrets are secrets too). */
export const clients: SimClient[] = [];
