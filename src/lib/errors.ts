/**
 * One error class per failure kind. Every message is a sentence written for the Node-RED user (it reaches Catch
 * nodes and the debug sidebar) and never contains a token or a secret.
 *
 * Node-RED hands a Catch node `msg.error = {message: err.toString(), code: err.code, source, stack}`: `toString()` is
 * the sentence alone (no class name in front) and `code` a stable code flows can test (the nodes' help lists them).
 * What Oura itself said (HTTP status, its own text) goes on `msg.ouraError` through `details()`.
 */
import { t } from './i18n';

export class OuraError extends Error {
  /** Short text for the node status (a few words). */
  readonly status: string;
  /** Stable, documented: OURA_NOT_AUTHORIZED, OURA_REAUTH_REQUIRED, ... */
  readonly code: string;

  constructor(message: string, status: string, code: string) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
  }

  override toString(): string {
    return this.message;
  }

  /** `msg.ouraError`: the code and what Oura said, without secrets. */
  details(): Record<string, unknown> {
    return { code: this.code };
  }
}

/** The message or the node's settings are wrong: nothing was sent to Oura. */
export class InputError extends OuraError {
  constructor(message: string, status = t('oura.status.invalidInput'), code = 'OURA_INVALID_INPUT') {
    super(message, status, code);
  }
}

/** No Oura account to use: none selected and none, or several, deployed. */
export class NoAccountError extends InputError {
  constructor(message: string, several: boolean) {
    super(message, several ? t('oura.status.pickAccount') : t('oura.status.noAccount'), 'OURA_NO_ACCOUNT');
  }
}

/** The account was never authorized (or was disconnected): the user must click Authorize. */
export class NotAuthorizedError extends OuraError {
  constructor(message: string) {
    super(message, t('oura.status.notAuthorized'), 'OURA_NOT_AUTHORIZED');
  }
}

/** Oura refused to renew the authorization: the user must click Authorize again. */
export class ReauthRequiredError extends OuraError {
  constructor(message: string) {
    super(message, t('oura.status.reauthRequired'), 'OURA_REAUTH_REQUIRED');
  }
}

function codeForHttp(httpStatus: number): string {
  if (httpStatus === 429) return 'OURA_RATE_LIMITED';
  if (httpStatus === 404) return 'OURA_NOT_FOUND';
  if (httpStatus === 401 || httpStatus === 403) return 'OURA_ACCESS_REFUSED';
  if (httpStatus === 400 || httpStatus === 422) return 'OURA_REQUEST_REFUSED';
  return 'OURA_HTTP_ERROR';
}

/** Oura answered with an HTTP error that retrying will not fix (or retries ran out). */
export class OuraHttpError extends OuraError {
  readonly httpStatus: number;
  readonly detail?: string;
  /** `code` only where the status alone does not tell (a 401/403 for a missing scope): the status text is translated. */
  constructor(message: string, httpStatus: number, detail?: string, status?: string, code = codeForHttp(httpStatus)) {
    super(message, status ?? t('oura.status.http', { status: httpStatus }), code);
    this.httpStatus = httpStatus;
    this.detail = detail;
  }

  override details(): Record<string, unknown> {
    return { code: this.code, status: this.httpStatus, ...(this.detail ? { detail: this.detail } : {}) };
  }
}

/** The request never got an answer: connection refused or reset, DNS, timeout. */
export class NetworkError extends OuraError {
  /** The system's code (ECONNREFUSED, ETIMEDOUT, ...). */
  readonly systemCode: string;
  constructor(message: string, systemCode: string) {
    super(message, systemCode === 'ETIMEDOUT' ? t('oura.status.timeout') : t('oura.status.networkError'), 'OURA_NETWORK');
    this.systemCode = systemCode;
  }

  override details(): Record<string, unknown> {
    return { code: this.code, cause: this.systemCode };
  }
}

/** Oura's token endpoint refused or failed a code exchange or a refresh. */
export class TokenError extends OuraError {
  readonly httpStatus?: number;
  readonly oauthError?: string;
  /** The server's own words (error_description / detail), for telling refusals apart; not always shown. */
  readonly detail?: string;
  constructor(message: string, httpStatus?: number, oauthError?: string, detail?: string) {
    super(message, t('oura.status.tokenError'), 'OURA_TOKEN_ERROR');
    this.httpStatus = httpStatus;
    this.oauthError = oauthError;
    this.detail = detail;
  }

  override details(): Record<string, unknown> {
    const d: Record<string, unknown> = { code: this.code };
    if (this.httpStatus !== undefined) d.status = this.httpStatus;
    if (this.oauthError) d.error = this.oauthError;
    if (this.detail) d.detail = this.detail;
    return d;
  }
}

/** Oura's answer was not what its API promises (garbage JSON, a paging cycle, too many pages). */
export class ProtocolError extends OuraError {
  constructor(message: string) {
    super(message, t('oura.status.badAnswerFromOura'), 'OURA_BAD_ANSWER');
  }
}

/** The stable codes, for the help and the tests. */
export const ERROR_CODES = [
  'OURA_INVALID_INPUT', 'OURA_NO_ACCOUNT', 'OURA_NOT_AUTHORIZED', 'OURA_REAUTH_REQUIRED', 'OURA_MISSING_SCOPE', 'OURA_ACCESS_REFUSED',
  'OURA_NOT_FOUND', 'OURA_REQUEST_REFUSED', 'OURA_RATE_LIMITED', 'OURA_HTTP_ERROR', 'OURA_NETWORK', 'OURA_TOKEN_ERROR', 'OURA_BAD_ANSWER',
  'OURA_STORE_UNAVAILABLE', 'OURA_STORE_TIMEOUT', 'OURA_STORE_UNREADABLE', 'OURA_CANCELLED', 'OURA_INTERNAL',
] as const;

/** The sentence an OuraError carries; anything else (a bug, its text not meant for users) becomes `fallback`. */
export function messageOf(err: unknown, fallback = t('oura.common.unexpectedError')): string {
  return err instanceof OuraError ? err.message : fallback;
}
