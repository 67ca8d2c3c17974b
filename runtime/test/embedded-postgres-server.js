// Serves an in-memory PGlite (PostgreSQL compiled to WASM) over the wire protocol on a free loopback port, and
// prints "READY <port>". Runs as its own process: PGlite loads its WASM with dynamic imports, which jest's module
// sandbox does not allow.
const { PGlite } = require('@electric-sql/pglite');
const { PGLiteSocketServer } = require('@electric-sql/pglite-socket');

(async () => {
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 50 });
  await server.start();
  process.stdout.write(`READY ${server.server.address().port}\n`);
  const stop = async () => {
    await server.stop();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
})().catch(error => {
  console.error(error);
  process.exit(1);
});
