/**
 * An accepted Oura event into the flows: the message names the account of the Oura user it is about, and carries
 * the document itself when the node fetches it (else `msg.collection` / `msg.document_id` for an `oura data` node).
 */
import type { OuraAccountNode, RED, RedNode } from '../red';
import { findCollection } from '../data/collections';
import { systemTimeZone } from '../data/dates';
import { fetchOne } from '../data/query';
import { describeFailure } from '../report';
import { asError, status } from '../status';
import { t } from '../i18n';
import type { OuraEvent } from './events';
import { clock } from './schedule';
import { accountFor, accountsOf } from './users';

export interface DeliveryTarget {
  RED: RED;
  node: RedNode;
  account: OuraAccountNode | null;
  clientId(): string | undefined;
  /** The node's "fetch the document" option. */
  fetch: boolean;
  /** The node was closed meanwhile: nothing is sent. */
  closed(): boolean;
  /** The message went to the flows. */
  sent(): void;
}

/** False when the event could not be handed to the flow (the fetch failed, or the node closed): Oura's retry may deliver it. */
export async function deliverEvent(to: DeliveryTarget, event: OuraEvent): Promise<boolean> {
  const { node } = to;
  const owner = await accountFor(accountsOf(to.RED, to.account, to.clientId()), event.user_id, clock.now(), (m) => node.debug(m));
  if (!owner) {
    node.debug(t('oura.webhook.log.noOwner', { event: event.event_type, data: event.data_type, user: event.user_id }));
    return true;
  }
  const collection = findCollection(event.data_type);
  const info: Record<string, unknown> = {
    collection: collection?.name ?? event.data_type,
    document_id: event.object_id,
    event_type: event.event_type,
    user_id: event.user_id,
    account: owner.id,
  };
  const msg: Record<string, unknown> = {
    _msgid: to.RED.util?.generateId?.(),
    topic: event.data_type,
    payload: event,
    event,
    oura: info,
  };
  const fetchable = to.fetch && event.event_type !== 'delete' && !!event.object_id && !!collection?.single;
  if (fetchable) {
    status.fetching(node);
    try {
      msg.payload = await fetchOne(owner.handle, { collection: collection!, documentId: event.object_id, timeZone: systemTimeZone() }, {
        onRetry: (why, delayMs) => status.retrying(node, why, delayMs),
      });
      msg.oura = { ...info, count: 1 };
    } catch (err) {
      status.failed(node, err);
      describeFailure(msg, err);
      node.error(asError(err), msg);
      return false;
    }
  } else {
    // Wired into an `oura data` node, these fetch the document.
    msg.collection = info.collection;
    if (event.object_id) msg.document_id = event.object_id;
  }
  if (to.closed()) return false;
  node.send(msg);
  to.sent();
  return true;
}
