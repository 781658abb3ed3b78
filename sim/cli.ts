/**
 * node build/sim/cli.js [--port 8787] [--host 127.0.0.1] [--token-ttl S] [--page-size N] [--today YYYY-MM-DD]
 *                       [--client id:secret:uri1,uri2]...
 */
import { startSimulator, SimClient, SimOptions } from './server';

function parse(argv: string[]): SimOptions {
  const o: SimOptions = { port: 8787 };
  const clients: SimClient[] = [];
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--port': o.port = Number(v); i++; break;
      case '--host': o.host = v; i++; break;
      case '--token-ttl': o.accessTokenTtl = Number(v); i++; break;
      case '--page-size': o.pageSize = Number(v); i++; break;
      case '--today': o.today = v; i++; break;
      case '--client': {
        const [clientId, clientSecret, ...uris] = v.split(':');
        // Redirect URIs contain ':' themselves: rejoin what follows the secret.
        clients.push({ clientId, clientSecret, redirectUris: uris.join(':').split(',').filter(Boolean) });
        i++;
        break;
      }
      default:
        console.error(`unknown argument ${argv[i]}`);
        process.exit(2);
    }
  }
  if (clients.length) o.clients = clients;
  return o;
}

startSimulator(parse(process.argv.slice(2))).then((sim) => {
  console.log(`Oura simulator listening on ${sim.url}`);
  const stop = () => sim.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}, (err) => {
  console.error(`Oura simulator could not start: ${err.message}`);
  process.exit(1);
});
