/**
 * Which Oura account a flow node uses. Examples ship without an account node and a node's Account may stay empty:
 * then the only deployed Oura account is the one. None, or several, is a setup problem the node's status names.
 */
import { NoAccountError } from './errors';
import type { OuraAccountNode, RED } from './red';

export function deployedAccounts(RED: RED): OuraAccountNode[] {
  const out: OuraAccountNode[] = [];
  RED.nodes.eachNode((n) => {
    if (n.type !== 'oura-account') return;
    const a = RED.nodes.getNode(n.id) as OuraAccountNode | null;
    if (a?.handle) out.push(a);
  });
  return out;
}

/** The account node `configured` names, or the only deployed one when it names none. Throws NoAccountError. */
export function resolveAccount(RED: RED, configured: string | undefined): OuraAccountNode {
  const id = (configured ?? '').trim();
  if (id) {
    const a = RED.nodes.getNode(id) as OuraAccountNode | null;
    if (a && a.type === 'oura-account' && a.handle) return a;
    throw new NoAccountError('The Oura account this node names is not deployed (deleted or disabled): open this node and pick an Oura account, then Deploy', false);
  }
  const all = deployedAccounts(RED);
  if (all.length === 1) return all[0];
  if (!all.length) {
    throw new NoAccountError('There is no Oura account yet: open this node, click the pencil next to Account to add one, Authorize, then Update and Deploy', false);
  }
  const names = all.map((a) => `"${a.name || a.id}"`).join(', ');
  throw new NoAccountError(`Several Oura accounts are deployed (${names}): open this node, pick one under Account, then Deploy`, true);
}
