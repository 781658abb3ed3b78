/**
 * node build/sim/cli.js [--port 8787] [--host 127.0.0.1] [--token-ttl S] [--page-size N] [--heartrate-page-size N]
 *                       [--today YYYY-MM-DD] [--token-path /oauth/token] [--new-portal-only] [--scope-prefix]
 *                       [--client id:secret:uri1,uri2]...
 * Prints exactly one line, "Oura simulator listening on <url>", once it accepts requests.
 */
import { startSimulator, SimClient, SimOptions } from './server';

const USAGE = 'usage: cli.js [--port 8787] [--host 127.0.0.1] [--token-ttl S] [--page-size N] [--heartrate-page-size N] [--today YYYY-MM-DD] '
  + '[--token-path PATH] [--new-portal-only] [--scope-prefix] [--client id:secret:uri1,uri2]...';

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function whole(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min) fail(`${name} needs a whole number >= ${min}, got ${v ?? 'nothing'}`);
  return n;
}

export function parseArgs(argv: string[]): SimOptions {
  const o: SimOptions = { port: 8787 };
  const clients: SimClient[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) fail(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--port': o.port = whole(arg, value(), 0); break;
      case '--host': o.host = value(); break;
      case '--token-ttl': o.accessTokenTtl = whole(arg, value(), 1); break;
      case '--page-size': o.pageSize = whole(arg, value(), 1); break;
      case '--heartrate-page-size': o.heartratePageSize = whole(arg, value(), 1); break;
      case '--today': {
        const v = value();
        if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) fail(`--today needs YYYY-MM-DD, got ${v}`);
        o.today = v;
        break;
      }
      case '--token-path': o.tokenPath = value(); break;
      case '--new-portal-only': o.newPortalOnly = true; break;
      case '--scope-prefix': o.scopePrefix = true; break;
      case '--client': {
        const v = value();
        const [clientId, clientSecret, ...rest] = v.split(':');
        // Redirect URIs contain ':' themselves: everything after the secret is the URI list.
        const redirectUris = rest.join(':').split(',').filter(Boolean);
        if (!clientId || !clientSecret || !redirectUris.length) fail(`--client needs id:secret:uri1[,uri2...], got ${v}`);
        clients.push({ clientId, clientSecret, redirectUris });
        break;
      }
      case '--help':
      case '-h':
        console.log(USAGE);
        return process.exit(0);
      default:
        fail(`unknown argument ${arg}`);
    }
  }
  if (clients.length) o.clients = clients;
  return o;
}

if (require.main === module) {
  startSimulator(parseArgs(process.argv.slice(2))).then((sim) => {
    console.log(`Oura simulator listening on ${sim.url}`);
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      sim.close().then(() => process.exit(0), () => process.exit(1));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }, (err: Error) => {
    console.error(`Oura simulator could not start: ${err.message}`);
    process.exit(1);
  });
}
