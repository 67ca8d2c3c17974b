// Runs one deploy-time handler bundle (assets/<handler>-<engine>/index.js, as the package ships it) in a process of
// its own, as Lambda would: reads the event from EVENT_FILE, prints the handler's result as JSON on the last line.
//
// Two test-only adjustments, made here and not in the bundle: HOST_MAP ("name=address,…") resolves names that have
// no DNS entry, and DATABASE_CA replaces the certificate authorities the bundle pins (the RDS ones, which no local
// server's certificate chains to) with the test server's; every other TLS check stays as it is.
const dns = require('dns');
const fs = require('fs');
const tls = require('tls');

const hosts = Object.fromEntries((process.env.HOST_MAP || '').split(',').filter(Boolean).map(pair => pair.split('=')));
const lookup = dns.lookup;
dns.lookup = (hostname, options, callback) => {
  if (hosts[hostname]) {
    const cb = typeof options === 'function' ? options : callback;
    const all = typeof options === 'object' && options && options.all;
    return process.nextTick(() => (all ? cb(null, [{ address: hosts[hostname], family: 4 }]) : cb(null, hosts[hostname], 4)));
  }
  return lookup(hostname, options, callback);
};
if (process.env.DATABASE_CA) {
  const ca = fs.readFileSync(process.env.DATABASE_CA);
  const replace = options => (options && options.ca ? { ...options, ca } : options);
  const connect = tls.connect;
  tls.connect = (...args) => connect(...args.map(arg => (arg && typeof arg === 'object' && !Buffer.isBuffer(arg) ? replace(arg) : arg)));
  const createSecureContext = tls.createSecureContext;
  tls.createSecureContext = options => createSecureContext(replace(options));
}

const started = Date.now();
const timeoutMs = Number(process.env.TIMEOUT_MS || 300000);
const context = {
  logStreamName: 'local/stream',
  getRemainingTimeInMillis: () => timeoutMs - (Date.now() - started),
};
const event = JSON.parse(fs.readFileSync(process.env.EVENT_FILE, 'utf8'));
Promise.resolve(require(process.env.HANDLER_BUNDLE).handler(event, context)).then(result => {
  process.stdout.write(`\n${JSON.stringify(result === undefined ? null : result)}\n`);
  process.exit(0);
}, error => {
  process.stdout.write(`\n${JSON.stringify({ handlerError: String(error && error.stack || error) })}\n`);
  process.exit(1);
});
