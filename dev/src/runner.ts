/**
 * One sandbox: a child process that loads a handler bundle once (its init phase) and runs one invocation at a
 * time, as a Lambda execution environment does. Talks to the dev server over the IPC channel.
 *
 * In:  { type: 'invoke', id, event, deadline, requestId }
 * Out: { type: 'ready' } | { type: 'init-error', error } | { type: 'result', id, result } | { type: 'error', id, error }
 *      | { type: 'prelude', id, prelude } | { type: 'chunk', id, data } | { type: 'end', id }   (streamed responses)
 */
import { Writable } from 'stream';
import { pathToFileURL } from 'url';

interface Invoke {
  readonly type: 'invoke';
  readonly id: number;
  readonly event: unknown;
  readonly deadline: number;
  readonly requestId: string;
}

type Handler = ((event: unknown, context: unknown, callback?: (error?: unknown, result?: unknown) => void) => unknown) & { [STREAMING]?: boolean };

const STREAMING = Symbol.for('serverless-sql-api.streaming');
const bundle = process.env.SERVERLESS_SQL_API_BUNDLE!;
const handlerName = process.env.SERVERLESS_SQL_API_HANDLER ?? 'handler';

function send(message: object): void {
  process.send?.(message);
}

function describe(error: unknown) {
  return error instanceof Error
    ? { errorType: error.name, errorMessage: error.message, stack: error.stack }
    : { errorType: 'Error', errorMessage: String(error) };
}

/** A response stream as Lambda's Node.js runtime gives `streamifyResponse` handlers. */
class ResponseStream extends Writable {
  public prelude?: object;

  constructor(private readonly id: number) {
    super();
  }

  public setContentType(contentType: string): void {
    this.prelude = { ...this.prelude, headers: { ...(this.prelude as { headers?: object } | undefined)?.headers, 'content-type': contentType } };
  }

  public _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.flushPrelude();
    send({ type: 'chunk', id: this.id, data: Buffer.from(chunk).toString('base64') });
    callback();
  }

  public _final(callback: () => void): void {
    this.flushPrelude();
    send({ type: 'end', id: this.id });
    callback();
  }

  private preludeSent = false;

  private flushPrelude() {
    if (this.preludeSent) return;
    this.preludeSent = true;
    send({ type: 'prelude', id: this.id, prelude: this.prelude ?? {} });
  }
}

// the globals Lambda's Node.js runtime provides for response streaming
(globalThis as Record<string, unknown>).awslambda = {
  streamifyResponse(handler: Handler): Handler {
    handler[STREAMING] = true;
    return handler;
  },
  HttpResponseStream: {
    from(stream: ResponseStream, prelude: object): ResponseStream {
      stream.prelude = prelude;
      return stream;
    },
  },
};

async function load(): Promise<Handler> {
  const module = bundle.endsWith('.mjs')
    ? await import(pathToFileURL(bundle).href) as Record<string, unknown>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    : require(bundle) as Record<string, unknown>;
  const handler = module[handlerName] ?? (module.default as Record<string, unknown> | undefined)?.[handlerName];
  if (typeof handler !== 'function') {
    throw new Error(`${bundle} exports no function "${handlerName}" (it exports ${Object.keys(module).join(', ') || 'nothing'})`);
  }
  return handler as Handler;
}

function context(message: Invoke) {
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';
  return {
    functionName: name,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? 'local'}:000000000000:function:${name}:live`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '512',
    awsRequestId: message.requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function invoke(handler: Handler, message: Invoke): Promise<void> {
  try {
    if (handler[STREAMING]) {
      const stream = new ResponseStream(message.id);
      await handler(message.event, stream, context(message) as never);
      if (!stream.writableEnded) stream.end();
      return;
    }
    const result = await new Promise<unknown>((resolve, reject) => {
      const callback = (error?: unknown, value?: unknown) => (error ? reject(error) : resolve(value));
      const returned = handler(message.event, context(message), callback);
      if (returned && typeof (returned as Promise<unknown>).then === 'function') (returned as Promise<unknown>).then(resolve, reject);
      else if (handler.length < 3) resolve(returned);
    });
    send({ type: 'result', id: message.id, result: result === undefined ? null : result });
  } catch (error) {
    send({ type: 'error', id: message.id, error: describe(error) });
  }
}

load().then(handler => {
  process.on('message', message => {
    if ((message as Invoke).type === 'invoke') void invoke(handler, message as Invoke);
  });
  send({ type: 'ready' });
}, error => {
  send({ type: 'init-error', error: describe(error) });
});
process.on('disconnect', () => process.exit(0));
