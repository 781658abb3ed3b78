// Small HTTP helpers over Node's fetch, always bounded by a timeout.
import * as net from 'net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json<T = any>(): T;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** objects are sent as JSON */
  body?: unknown;
  timeoutMs?: number;
  redirect?: 'follow' | 'manual';
}

/**
 * fetch reuses idle keep-alive connections; a server closes one after 5 s idle, and on a loaded machine the client's
 * own idle timer can fire too late, so the next request goes out on a socket the server is closing and fails with
 * "other side closed" before any answer. Such a request is sent once more, on a new connection.
 */
function closedWhileIdle(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } })?.cause?.code;
  return err instanceof TypeError && (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET');
}

export async function request(url: string, opts: RequestOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | undefined;
  if (opts.body !== undefined) {
    if (typeof opts.body === 'string') {
      body = opts.body;
    } else {
      body = JSON.stringify(opts.body);
      headers['content-type'] = headers['content-type'] ?? 'application/json';
    }
  }
  const send = () =>
    fetch(url, {
      method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      redirect: opts.redirect ?? 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30000),
    });
  let res: Response;
  try {
    res = await send();
  } catch (err) {
    if (!closedWhileIdle(err)) throw err;
    res = await send();
  }
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json<T>() {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new Error(`${opts.method ?? 'GET'} ${url} answered ${res.status} with a body that is not JSON: ${text.slice(0, 500)}`);
      }
    },
  };
}

/** Like request(), but fails with the route, the status and the body unless the status is the expected one. */
export async function expectStatus(url: string, expected: number | '2xx' | '4xx', opts: RequestOptions = {}): Promise<Reply> {
  const reply = await request(url, opts);
  const ok = typeof expected === 'number' ? reply.status === expected : Math.floor(reply.status / 100) === Number(expected[0]);
  if (!ok) {
    throw new Error(`${opts.method ?? (opts.body === undefined ? 'GET' : 'POST')} ${url}: expected ${expected}, got ${reply.status}: ${reply.text.slice(0, 800)}`);
  }
  return reply;
}
