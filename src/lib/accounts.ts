/**
 * Which Oura account a flow node uses. Examples ship without an account node and a node's Account may stay empty:
 * then the only deployed Oura account is the one. None, or several, is a setup problem the node's status names.
 */
import { NoAccountError } from './errors';
import { t } from './i18n';
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
    throw new NoAccountError(t('oura.errors.accountNotDeployed'), false);
  }
  const all = deployedAccounts(RED);
  if (all.length === 1) return all[0];
  if (!all.length) {
    throw new NoAccountError(t('oura.errors.noAccountYet'), false);
  }
  const names = all.map((a) => `"${a.name || a.id}"`).join(', ');
  throw new NoAccountError(t('oura.errors.severalAccounts', { names }), true);
}
