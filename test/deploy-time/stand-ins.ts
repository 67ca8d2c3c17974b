/**
 * Local stand-ins for what the deploy-time handlers talk to in AWS: the Secrets Manager and CodeDeploy APIs (JSON
 * over HTTP, as the SDK sends them to an `AWS_ENDPOINT_URL_<SERVICE>`), CloudFormation's pre-signed response URL
 * (HTTPS), and a database endpoint that requires TLS (PostgreSQL's SSLRequest, then a relay to a plain server).
 */
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as path from 'path';
import * as tls from 'tls';

/** A certificate for localhost and 127.0.0.1, self-signed (the runtime tests' proxy certificate). */
export const LOCALHOST_CERT_FILE = path.join(__dirname, '..', '..', 'runtime', 'test', 'fixtures', 'proxy-cert.pem');
const LOCALHOST_KEY = fs.readFileSync(path.join(__dirname, '..', '..', 'runtime', 'test', 'fixtures', 'proxy-key.pem'));
const LOCALHOST_CERT = fs.readFileSync(LOCALHOST_CERT_FILE);

export interface AwsCall {
  readonly target: string;
  readonly body: Record<string, unknown>;
  readonly signed: boolean;
}

/** An AWS JSON-protocol API: answers each `X-Amz-Target` with `answer`, records every call. */
export class AwsApi {
  public static async start(answer: (target: string, body: Record<string, unknown>) => { status: number; body: unknown }): Promise<AwsApi> {
    const api = new AwsApi(answer);
    await new Promise<void>(resolve => api.server.listen(0, '127.0.0.1', () => resolve()));
    return api;
  }

  public readonly calls: AwsCall[] = [];
  private readonly server: http.Server;

  private constructor(answer: (target: string, body: Record<string, unknown>) => { status: number; body: unknown }) {
    this.server = http.createServer((request, response) => {
      let text = '';
      request.on('data', chunk => { text += chunk; });
      request.on('end', () => {
        const target = String(request.headers['x-amz-target'] ?? '');
        const body = JSON.parse(text || '{}') as Record<string, unknown>;
        this.calls.push({ target, body, signed: /^AWS4-HMAC-SHA256 Credential=/.test(String(request.headers.authorization ?? '')) });
        const reply = answer(target, body);
        response.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(reply.body));
      });
    });
  }

  public get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  public async stop(): Promise<void> {
    await new Promise(resolve => this.server.close(resolve));
  }
}

export interface CloudFormationResponse {
  readonly headers: http.IncomingHttpHeaders;
  readonly method: string;
  readonly body: {
    Status: string;
    Reason: string;
    PhysicalResourceId: string;
    StackId: string;
    RequestId: string;
    LogicalResourceId: string;
    Data?: Record<string, string>;
  };
}

/** CloudFormation's response URL: an HTTPS endpoint that records the PUT the custom resource sends. */
export class ResponseUrl {
  public static async start(): Promise<ResponseUrl> {
    const endpoint = new ResponseUrl();
    await new Promise<void>(resolve => endpoint.server.listen(0, '127.0.0.1', () => resolve()));
    return endpoint;
  }

  public readonly responses: CloudFormationResponse[] = [];
  private readonly server: https.Server;

  private constructor() {
    this.server = https.createServer({ key: LOCALHOST_KEY, cert: LOCALHOST_CERT }, (request, response) => {
      let text = '';
      request.on('data', chunk => { text += chunk; });
      request.on('end', () => {
        this.responses.push({ headers: request.headers, method: request.method ?? '', body: JSON.parse(text) });
        response.writeHead(200);
        response.end();
      });
    });
  }

  /** A pre-signed URL as CloudFormation gives it (host localhost, so that the certificate matches). */
  public get url(): string {
    return `https://localhost:${(this.server.address() as net.AddressInfo).port}/cloudformation-custom-resource-response?X-Amz-Signature=x`;
  }

  public async stop(): Promise<void> {
    await new Promise(resolve => this.server.close(resolve));
  }
}

const SSL_REQUEST = 80877103;

/**
 * A PostgreSQL endpoint that requires TLS (certificate for localhost), like RDS with `rds.force_ssl`, in front of a
 * plain server: it answers the SSLRequest, terminates TLS and relays the session as it is.
 */
export class TlsPostgres {
  public static async start(backend: { host: string; port: number }): Promise<TlsPostgres> {
    const endpoint = new TlsPostgres(backend);
    await new Promise<void>(resolve => endpoint.server.listen(0, '127.0.0.1', () => resolve()));
    return endpoint;
  }

  public tlsSessions = 0;
  public plainAttempts = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(backend: { host: string; port: number }) {
    this.server = net.createServer(raw => {
      this.sockets.add(raw);
      raw.on('close', () => this.sockets.delete(raw));
      raw.on('error', () => raw.destroy());
      raw.once('data', first => {
        if (first.length < 8 || first.readInt32BE(4) !== SSL_REQUEST) {
          this.plainAttempts++;
          raw.destroy();
          return;
        }
        raw.write('S');
        const secure = new tls.TLSSocket(raw, { isServer: true, key: LOCALHOST_KEY, cert: LOCALHOST_CERT });
        secure.once('secure', () => { this.tlsSessions++; });
        const upstream = net.connect(backend.port, backend.host);
        this.sockets.add(upstream);
        upstream.on('close', () => this.sockets.delete(upstream));
        upstream.on('error', () => secure.destroy());
        secure.on('error', () => upstream.destroy());
        secure.pipe(upstream);
        upstream.pipe(secure);
        secure.on('close', () => upstream.destroy());
        upstream.on('close', () => secure.destroy());
      });
    });
  }

  public get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  public async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise(resolve => this.server.close(resolve));
  }
}
