/**
 * What the shared token store needs from the replica it runs in (its own tokens, the flow nodes' status, the texts of
 * its errors) and how long it may take: the contract between tokens.ts and shared-tokens.ts.
 */
import { NotAuthorizedError, TokenError } from '../errors';
import { t } from '../i18n';
import type { TokenRecord } from './record';
import { StoreUnavailableError } from './redis-client';

/** What the replica itself holds (memory, durable copy, credentials): the shared store keeps it in step. */
export interface LocalTokens {
  get(key: string): { record?: TokenRecord; version?: number };
  /** Memory first, then the durable copy and the credentials; `undefined` forgets. Tells the flow nodes. */
  adopt(key: string, record: TokenRecord | undefined, version: number): void;
  /** A message is waiting for Redis (true) or not any more (false): the flow nodes' status says so. */
  waiting(key: string, why: string | undefined): void;
}

export interface SharedOptions {
  /** D: the whole renewal, every attempt included. */
  deadlineMs: number;
  /** How long a message may wait for Redis or for another replica's renewal before it ends in a Catch. */
  maxWaitMs: number;
  /** How often a waiter re-reads Redis when no notice arrives. */
  pollMs: number;
  /** A renewal starts this long before the access token expires. */
  marginMs: number;
}

export interface Messages {
  notAuthorized(): NotAuthorizedError;
  otherClient(): Error;
  refusal(err: TokenError): string;
}

/** Another replica holds the renewal lock for longer than a message may wait. */
export class StoreTimeoutError extends StoreUnavailableError {
  constructor(message: string) {
    super(message, t('oura.status.renewalElsewhereTimedOut'), 'OURA_STORE_TIMEOUT');
  }
}
