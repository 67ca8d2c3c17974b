// The floor for the same handler (benchmark fixture): the fewest steps any client takes for a first query with an
// IAM token over TLS, written straight on node:net and node:tls, with no error handling, pooling, timeouts or type
// parsing. Signs with this package's signer, so the floor differs from the package in the client alone.
import { connect as connectTcp } from 'net';
import { connect as connectTls, TLSSocket } from 'tls';
import { signAuthToken } from '../src/token';

const message = (type: string, body: Buffer) => {
  const head = Buffer.alloc(type ? 5 : 4);
  if (type) head.write(type);
  head.writeInt32BE(body.length + 4, type ? 1 : 0);
  return Buffer.concat([head, body]);
};
const cstrings = (...values: string[]) => Buffer.from(values.map(v => `${v}\0`).join(''));

/** Calls `on(type, body)` for each whole message the socket delivers. */
function messages(socket: TLSSocket, on: (type: string, body: Buffer) => void) {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 5 && buffered.length >= 1 + buffered.readInt32BE(1)) {
      const end = 1 + buffered.readInt32BE(1);
      on(String.fromCharCode(buffered[0]), buffered.subarray(5, end));
      buffered = buffered.subarray(end);
    }
  });
}

export const handler = () => new Promise<Array<{ ok: string }>>((resolve, reject) => {
  const { SQL_HOST: host, SQL_PORT: port, SQL_USER: user, SQL_DATABASE: database } = process.env as Record<string, string>;
  const token = signAuthToken({
    hostname: host, port: Number(port), username: user, region: process.env.AWS_REGION!,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY!, sessionToken: process.env.AWS_SESSION_TOKEN },
  });
  const tcp = connectTcp(Number(port), host, () => tcp.write(message('', Buffer.from([0x04, 0xd2, 0x16, 0x2f]))));
  tcp.on('error', reject);
  tcp.once('data', answer => {
    if (answer.toString() !== 'S') return reject(new Error('the server refused TLS'));
    const socket = connectTls({ socket: tcp, servername: host }, () => {
      socket.write(message('', Buffer.concat([Buffer.from([0, 3, 0, 0]), cstrings('user', user, 'database', database, '')])));
    });
    socket.on('error', reject);
    const rows: Array<{ ok: string }> = [];
    let queried = false;
    messages(socket, (type, body) => {
      if (type === 'R' && body.readInt32BE(0) === 3) void token.then(value => socket.write(message('p', cstrings(value))), reject);
      else if (type === 'E') reject(new Error(body.toString()));
      else if (type === 'Z' && !queried) {
        queried = true;
        socket.write(message('Q', cstrings('select 1 as ok')));
      }
      else if (type === 'D') rows.push({ ok: body.subarray(6, 6 + body.readInt32BE(2)).toString() });
      else if (type === 'Z') resolve(rows);
    });
  });
});
