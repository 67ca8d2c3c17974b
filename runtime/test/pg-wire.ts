/**
 * PostgreSQL's wire format, for the tests' servers and the benchmark's hand-written client: messages framed as the
 * protocol frames them (a type byte, then a length that counts itself), and a reader of whole messages.
 */
import * as net from 'net';
import * as tls from 'tls';

/** The SSLRequest code, sent where a StartupMessage's protocol version would be. */
export const SSL_REQUEST = 80877103;

/** A typed message: the type byte, the length (itself included), the body. */
export function pgMessage(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0);
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
}

/** A big-endian 32-bit integer, as message bodies carry them. */
export function int32(n: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(n);
  return buffer;
}

/** An SSLRequest: a length and the SSLRequest code, no type byte. */
export function sslRequest(): Buffer {
  return Buffer.concat([int32(8), int32(SSL_REQUEST)]);
}

/** A StartupMessage: the length, protocol 3.0, the parameters as NUL-terminated names and values, no type byte. */
export function startupMessage(parameters: Record<string, string>): Buffer {
  const body = Buffer.from(Object.entries(parameters).map(([k, v]) => `${k}\0${v}\0`).join('') + '\0');
  const header = Buffer.alloc(8);
  header.writeInt32BE(8 + body.length, 0);
  header.writeInt32BE(196608, 4);
  return Buffer.concat([header, body]);
}

/** A reader of whole messages from a socket, in the order they come. */
export class MessageReader {
  private buffer = Buffer.alloc(0);
  private wake?: () => void;
  private readonly onData = (chunk: Buffer) => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.wake?.();
  };

  constructor(private readonly socket: net.Socket | tls.TLSSocket) {
    socket.on('data', this.onData);
  }

  /** A length-prefixed message without a type byte (SSLRequest, StartupMessage). */
  public async startup(): Promise<Buffer> {
    await this.until(() => this.buffer.length >= 4 && this.buffer.length >= this.buffer.readInt32BE(0));
    return this.take(this.buffer.readInt32BE(0));
  }

  /** A typed message. */
  public async message(): Promise<Buffer> {
    await this.until(() => this.buffer.length >= 5 && this.buffer.length >= 1 + this.buffer.readInt32BE(1));
    return this.take(1 + this.buffer.readInt32BE(1));
  }

  /** Stops reading; returns what was received but not consumed. */
  public detach(): Buffer[] {
    this.socket.off('data', this.onData);
    return this.buffer.length ? [this.buffer] : [];
  }

  private take(length: number): Buffer {
    const taken = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return taken;
  }

  private async until(ready: () => boolean) {
    while (!ready()) await new Promise<void>(resolve => (this.wake = resolve));
  }
}
