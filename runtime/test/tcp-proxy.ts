/**
 * A TCP relay between the client and a database server that can fail on purpose: drop every open connection
 * (what a proxy closing idle clients, or a restart, looks like to the client), refuse new ones for a while,
 * black-hole traffic without closing anything (a dead network path, a frozen peer), lose the server's answers
 * after the request went through, hold new connections before they reach the server, and record the PostgreSQL
 * startup message of each connection.
 */
import * as net from 'net';

export class FaultyRelay {
  public readonly startupParameters: Array<Record<string, string>> = [];
  public accepted = 0;
  /** Connections refused while restarting. */
  public refused = 0;
  private readonly server: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private refusingUntil = 0;
  private blackholed = false;
  private cutsLeft = 0;
  private holding: Array<() => void> | undefined;
  /** Bytes of answers the server sent that never reached the client (while cutting). */
  public lostAnswerBytes = 0;
  /** Bytes of answers handed to clients' sockets. The relay reads from the server only as fast as the client takes them. */
  public answerBytes = 0;

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer(client => this.relay(client));
  }

  public static async start(target: { host: string; port: number }): Promise<FaultyRelay> {
    const relay = new FaultyRelay(target);
    await new Promise<void>(resolve => relay.server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  public get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Replace host:port of a URL by this relay's. */
  public url(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Destroy every open connection, both ways, without a protocol goodbye. */
  public dropAll() {
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** From now on forward nothing, either way, and close nothing: every socket stays open and silent. */
  public blackhole() {
    this.blackholed = true;
  }

  /**
   * From now on forward requests to the server, but drop the next `count` answers, resetting the client's socket
   * each time: the statement ran, and the client never learns it.
   */
  public cutAnswers(count = Infinity) {
    this.cutsLeft = count;
  }

  /** Forward everything again (the sockets that saw the black hole are dead to their clients anyway). */
  public heal() {
    this.blackholed = false;
    this.cutsLeft = 0;
  }

  /** Accept new connections but connect them to the server only when `release()` is called. */
  public hold(): { release: () => void } {
    this.holding = [];
    return {
      release: () => {
        const held = this.holding ?? [];
        this.holding = undefined;
        for (const go of held) go();
      },
    };
  }

  /** Client connections open now. */
  public get open(): number {
    return this.pairs.size;
  }

  /** Drop everything and refuse new connections for `ms` (a restart as clients see it); returns when it is back. */
  public restart(ms: number): number {
    this.refusingUntil = Date.now() + ms;
    this.dropAll();
    return this.refusingUntil;
  }

  public async stop() {
    this.dropAll();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket) {
    if (Date.now() < this.refusingUntil) {
      this.refused++;
      client.destroy();
      return;
    }
    this.accepted++;
    if (this.holding) {
      client.pause();
      client.on('error', () => client.destroy());
      this.holding.push(() => {
        if (client.destroyed) return;
        client.resume();
        this.connect(client);
      });
      return;
    }
    this.connect(client);
  }

  private connect(client: net.Socket) {
    const upstream = net.connect(this.target.port, this.target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    let first = true;
    client.on('data', chunk => {
      if (this.blackholed) return;
      if (first) {
        first = false;
        this.recordStartup(chunk);
      }
      upstream.write(chunk);
    });
    upstream.on('data', chunk => {
      if (this.blackholed || client.destroyed) return;
      if (this.cutsLeft > 0) {
        this.cutsLeft--;
        this.lostAnswerBytes += chunk.length;
        client.resetAndDestroy();
        return;
      }
      this.answerBytes += chunk.length;
      // backpressure as a network path has it: a client that stops reading stops the server
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  }

  private recordStartup(chunk: Buffer) {
    // StartupMessage: int32 length, int32 protocol 196608 (3.0), then key\0value\0 … \0
    if (chunk.length < 8 || chunk.readInt32BE(4) !== 196608) return;
    const fields = chunk.subarray(8, chunk.readInt32BE(0)).toString('utf8').split('\0');
    const parameters: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length && fields[i]; i += 2) parameters[fields[i]] = fields[i + 1];
    this.startupParameters.push(parameters);
  }
}
