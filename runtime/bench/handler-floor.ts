// The floor for the same handler (benchmark fixture): the fewest steps any client takes for a first query with an
// IAM token over TLS, written straight on node:net and node:tls, with no error handling, pooling, timeouts or type
// parsing. Signs with this package's signer, so the floor differs from the package in the client alone.
import { once } from 'events';
import { connect as connectTcp } from 'net';
import { connect as connectTls } from 'tls';
import { signAuthToken } from '../src/token';
import { MessageReader, pgMessage, sslRequest, startupMessage } from '../test/pg-wire';

export async function handler(): Promise<Array<{ ok: string }>> {
  const { SQL_HOST: host, SQL_PORT: port, SQL_USER: user, SQL_DATABASE: database } = process.env as Record<string, string>;
  const token = signAuthToken({
    hostname: host, port: Number(port), username: user, region: process.env.AWS_REGION!,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY!, sessionToken: process.env.AWS_SESSION_TOKEN },
  });
  const tcp = connectTcp(Number(port), host);
  await once(tcp, 'connect');
  tcp.write(sslRequest());
  const [answer] = await once(tcp, 'data');
  if (String(answer) !== 'S') throw new Error('the server refused TLS');
  const socket = connectTls({ socket: tcp, servername: host });
  await once(socket, 'secureConnect');
  const reader = new MessageReader(socket);
  socket.write(startupMessage({ user, database }));
  const rows: Array<{ ok: string }> = [];
  let queried = false;
  for (;;) {
    const message = await reader.message();
    const [type, body] = [String.fromCharCode(message[0]), message.subarray(5)];
    if (type === 'R' && body.readInt32BE(0) === 3) socket.write(pgMessage('p', Buffer.from(`${await token}\0`)));
    else if (type === 'E') throw new Error(body.toString());
    else if (type === 'D') rows.push({ ok: body.subarray(6, 6 + body.readInt32BE(2)).toString() });
    else if (type === 'Z' && queried) return rows;
    else if (type === 'Z') {
      queried = true;
      socket.write(pgMessage('Q', Buffer.from('select 1 as ok\0')));
    }
  }
}
