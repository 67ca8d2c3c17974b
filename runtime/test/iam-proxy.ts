/**
 * A stand-in for RDS Proxy on the PostgreSQL protocol, for tests: it requires TLS, asks for the password in clear
 * text (as RDS Proxy does for IAM authentication), checks that the password is a valid IAM token for the connecting
 * user, this endpoint and the expected credentials, and then relays the session to a real backend (trust auth).
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import * as tls from 'tls';
import { AwsCredentials, signAuthToken } from '../src';
import { int32, MessageReader, pgMessage, SSL_REQUEST, startupMessage } from './pg-wire';

export const PROXY_CERT = fs.readFileSync(path.join(__dirname, 'fixtures', 'proxy-cert.pem'));
const PROXY_KEY = fs.readFileSync(path.join(__dirname, 'fixtures', 'proxy-key.pem'));

export interface IamProxyOptions {
  readonly backend: { host: string; port: number; user: string; database: string };
  readonly region: string;
  readonly credentials: AwsCredentials;
  /** Refuse this many logins (even with a good token) before accepting, to exercise a token refresh. */
  readonly refuseFirst?: number;
}

export class IamProxy {
  public readonly tokens: string[] = [];
  public readonly rejections: string[] = [];
  public plainConnections = 0;
  private refusals: number;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly options: IamProxyOptions) {
    this.refusals = options.refuseFirst ?? 0;
    this.server = net.createServer(socket => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      void this.handle(socket).catch(() => socket.destroy());
    });
  }

  public static async start(options: IamProxyOptions): Promise<IamProxy> {
    const proxy = new IamProxy(options);
    await new Promise<void>(resolve => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  public get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  public async stop() {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }

  private async handle(raw: net.Socket) {
    const plain = new MessageReader(raw);
    const sslRequest = await plain.startup();
    if (sslRequest.readInt32BE(4) !== SSL_REQUEST) {
      this.plainConnections++;
      raw.end(errorResponse('08P01', 'TLS is required'));
      return;
    }
    raw.write('S');
    plain.detach();
    const secure = new tls.TLSSocket(raw, { isServer: true, key: PROXY_KEY, cert: PROXY_CERT });
    secure.on('error', () => raw.destroy());
    const reader = new MessageReader(secure);
    const startup = await reader.startup();
    const fields = startup.subarray(8).toString('utf8').split('\0');
    const parameters: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length && fields[i]; i += 2) parameters[fields[i]] = fields[i + 1];

    secure.write(pgMessage('R', int32(3))); // AuthenticationCleartextPassword
    const message = await reader.message();
    const token = message.subarray(5, message.length - 1).toString('utf8');
    this.tokens.push(token);
    const problem = await this.verify(token, parameters.user);
    if (problem || this.refusals > 0) {
      if (!problem) this.refusals--;
      this.rejections.push(problem ?? 'refused on purpose');
      secure.end(errorResponse('28P01', `IAM authentication failed for user "${parameters.user}"`));
      return;
    }

    const { backend } = this.options;
    const upstream = net.connect(backend.port, backend.host);
    upstream.on('error', () => secure.destroy());
    secure.on('close', () => upstream.destroy());
    upstream.on('close', () => secure.destroy());
    upstream.write(startupMessage({ user: backend.user, database: backend.database }));
    reader.detach().forEach(chunk => upstream.write(chunk));
    secure.on('data', chunk => upstream.write(chunk));
    upstream.on('data', chunk => secure.write(chunk));
  }

  private async verify(token: string, user: string): Promise<string | undefined> {
    const match = /^([^/]+)\/\?(.*)$/.exec(token);
    if (!match) return 'not a token';
    const [, hostPort, query] = match;
    const params = new URLSearchParams(query);
    const [hostname, port] = hostPort.split(':');
    if (Number(port) !== this.port) return `signed for port ${port}`;
    if (params.get('DBUser') !== user) return `signed for user ${params.get('DBUser')}, not ${user}`;
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(params.get('X-Amz-Date') ?? '');
    if (!date) return 'no signing date';
    const signingDate = new Date(Date.UTC(+date[1], +date[2] - 1, +date[3], +date[4], +date[5], +date[6]));
    if (Math.abs(Date.now() - signingDate.getTime()) > 900_000) return 'expired';
    const expected = await signAuthToken({
      hostname, port: Number(port), username: user, region: this.options.region, credentials: this.options.credentials, signingDate,
    });
    return expected === token ? undefined : 'bad signature';
  }
}

function errorResponse(code: string, message: string): Buffer {
  return pgMessage('E', Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`));
}
