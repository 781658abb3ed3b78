/**
 * node build/sim/cli.js [--port 8787] [--moi-port 8788] [--host 127.0.0.1] [--token-ttl S] [--page-size N]
 *                       [--heartrate-page-size N] [--today YYYY-MM-DD] [--bare-scopes upgrade|ignore] [--refuse-loopback-ip]
 *                       [--legacy-burns-code] [--datetime-end-exclusive] [--client id:secret:uri1,uri2[:old]]...
 * Prints exactly one line, "Oura simulator listening on <api url> (authorization server <moi url>)", once it accepts requests.
 */
import { startSimulator, SimClient, SimOptions } from './server';

const USAGE = 'usage: cli.js [--port 8787] [--moi-port 8788] [--host 127.0.0.1] [--token-ttl S] [--page-size N] [--heartrate-page-size N] '
  + '[--today YYYY-MM-DD] [--bare-scopes upgrade|ignore] [--refuse-loopback-ip] [--legacy-burns-code] [--datetime-end-exclusive] '
  + '[--client id:secret:uri1,uri2] [--legacy-client id:secret:uri1,uri2]...';

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
  let moiPort: number | undefined;
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
      case '--moi-port': moiPort = whole(arg, value(), 0); break;
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
      case '--bare-scopes': {
        const v = value();
        if (v !== 'upgrade' && v !== 'ignore') fail(`--bare-scopes needs upgrade or ignore, got ${v}`);
        o.bareScopes = v;
        break;
      }
      case '--refuse-loopback-ip': o.refuseLoopbackIp = true; break;
      case '--legacy-burns-code': o.legacyBurnsCode = true; break;
      case '--datetime-end-exclusive': o.datetimeEndExclusive = true; break;
      case '--client':
      case '--legacy-client': {
        const v = value();
        const [clientId, clientSecret, ...rest] = v.split(':');
        // Redirect URIs contain ':' themselves: everything after the secret is the URI list.
        const redirectUris = rest.join(':').split(',').filter(Boolean);
        if (!clientId || !clientSecret || !redirectUris.length) fail(`${arg} needs id:secret:uri1[,uri2...], got ${v}`);
        clients.push({ clientId, clientSecret, redirectUris, portal: arg === '--legacy-client' ? 'old' : 'new' });
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
  // The authorization server listens next to the API host unless told otherwise (0 stays "any free port").
  o.moiPort = moiPort ?? (o.port ? o.port + 1 : 0);
  return o;
}

if (require.main === module) {
  startSimulator(parseArgs(process.argv.slice(2))).then((sim) => {
    console.log(`Oura simulator listening on ${sim.url} (authorization server ${sim.moiUrl})`);
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
