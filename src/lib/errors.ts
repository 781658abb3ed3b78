/**
 * One error class per failure kind. Every message is written for the Node-RED user (it reaches
 * Catch nodes and the debug sidebar) and never contains a token or a secret.
 */
export class OuraError extends Error {
  /** Short text for the node status (a few words). */
  readonly status: string;
  constructor(message: string, status: string) {
    super(message);
    this.name = new.target.name;
    this.status = status;
  }
}

/** The message or the node's settings are wrong: nothing was sent to Oura. */
export class InputError extends OuraError {
  constructor(message: string) {
    super(message, 'invalid input');
  }
}

/** The account has no usable authorization: the user must click Authorize again. */
export class ReauthRequiredError extends OuraError {
  constructor(message: string) {
    super(message, 're-authorization needed');
  }
}

/** Oura answered with an HTTP error that retrying will not fix (or retries ran out). */
export class OuraHttpError extends OuraError {
  readonly httpStatus: number;
  readonly detail?: string;
  constructor(message: string, httpStatus: number, detail?: string, status?: string) {
    super(message, status ?? `HTTP ${httpStatus}`);
    this.httpStatus = httpStatus;
    this.detail = detail;
  }
}

/** The request never got an answer: connection refused or reset, DNS, timeout. */
export class NetworkError extends OuraError {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message, code === 'ETIMEDOUT' ? 'timeout' : 'network error');
    this.code = code;
  }
}

/** Oura's token endpoint refused or failed a code exchange or a refresh. */
export class TokenError extends OuraError {
  readonly httpStatus?: number;
  readonly oauthError?: string;
  /** The server's own words (error_description / detail), for telling refusals apart; not always shown. */
  readonly detail?: string;
  constructor(message: string, httpStatus?: number, oauthError?: string, detail?: string) {
    super(message, 'token error');
    this.httpStatus = httpStatus;
    this.oauthError = oauthError;
    this.detail = detail;
  }
}

/** Oura's answer was not what its API promises (garbage JSON, a paging cycle, too many pages). */
export class ProtocolError extends OuraError {
  constructor(message: string) {
    super(message, 'bad answer from Oura');
  }
}
