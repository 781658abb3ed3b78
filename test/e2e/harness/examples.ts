// The package's example flows (examples/*.json), as the Import dialog lists them, and how their nodes are wired.
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot } from './env';

/** The package's name: the folder the Import dialog lists its examples under. */
export const MODULE: string = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).name;

/** The node types of the package that use an Oura account. */
export const OURA_TYPES = ['oura sleep', 'oura data', 'oura webhook'];

export interface FlowNode {
  id: string;
  type: string;
  name?: string;
  wires?: string[][];
  [key: string]: unknown;
}

export interface Example {
  /** the file name without .json: what the Import dialog lists */
  name: string;
  /** e.g. "01" */
  number: string;
  nodes: FlowNode[];
}

export function examples(): Example[] {
  const dir = path.join(repoRoot, 'examples');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.replace(/\.json$/, ''), number: f.slice(0, 2), nodes: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) }));
}

export function example(number: string): Example {
  const found = examples().find((e) => e.number === number);
  if (!found) throw new Error(`no example ${number} in examples/`);
  return found;
}

export function ofTypes(ex: Example, types: string[]): FlowNode[] {
  return ex.nodes.filter((n) => types.includes(n.type));
}

/** The ids of the nodes a message from `from` passes along the wires. */
export function downstream(ex: Example, from: string[]): Set<string> {
  const byId = new Map(ex.nodes.map((n) => [n.id, n]));
  const seen = new Set<string>();
  const todo = [...from];
  while (todo.length) {
    for (const next of (byId.get(todo.pop()!)?.wires ?? []).flat()) {
      if (!seen.has(next)) {
        seen.add(next);
        todo.push(next);
      }
    }
  }
  return seen;
}
