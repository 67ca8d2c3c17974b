/**
 * The events Lambda receives and the responses it gives back, as API Gateway HTTP APIs (payload format 2.0),
 * function URLs and EventBridge Pipes shape them.
 *
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * @see https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-event-source.html
 */
import { createHash, randomUUID } from 'crypto';

export const ACCOUNT_ID = '000000000000';
export const REGION = 'local';

export interface HttpRequest {
  readonly method: string;
  /** The path and query string, as received. */
  readonly url: string;
  /** Header names in lower case, each value as received (several for a repeated header). */
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly protocol: string;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly cookies: string[];
  readonly body: Buffer;
}

/** A route of an HTTP API: `GET /todos/{id}`, `ANY /files/{path+}` or `$default`. */
export interface Route {
  readonly routeKey: string;
  readonly method: string;
  readonly segments: string[];
}

export function parseRoute(routeKey: string): Route {
  if (routeKey === '$default') return { routeKey, method: 'ANY', segments: [] };
  const [method, routePath] = routeKey.split(' ');
  return { routeKey, method, segments: routePath.split('/').slice(1) };
}

/**
 * The route API Gateway selects for a request: the most specific match, literal segments before `{variables}`
 * before a greedy `{proxy+}`, a method before `ANY`; `$default` when nothing matches. Returns the path parameters.
 *
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html ("Routing API requests")
 */
export function selectRoute(routes: Route[], method: string, requestPath: string): { route?: Route; pathParameters?: Record<string, string> } {
  const segments = requestPath.split('/').slice(1);
  let best: { route: Route; score: number[]; pathParameters: Record<string, string> } | undefined;
  for (const route of routes) {
    if (route.routeKey === '$default') continue;
    if (route.method !== 'ANY' && route.method !== method) continue;
    const match = matchSegments(route.segments, segments);
    if (!match) continue;
    // per segment: 3 literal, 2 variable, 1 greedy; then 1 for a method over ANY
    const score = [...match.score, route.method === 'ANY' ? 0 : 1];
    if (!best || compare(score, best.score) > 0) best = { route, score, pathParameters: match.pathParameters };
  }
  if (best) return { route: best.route, pathParameters: Object.keys(best.pathParameters).length ? best.pathParameters : undefined };
  return { route: routes.find(route => route.routeKey === '$default') };
}

function matchSegments(pattern: string[], segments: string[]): { score: number[]; pathParameters: Record<string, string> } | undefined {
  const pathParameters: Record<string, string> = {};
  const score: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const part = pattern[i];
    const greedy = /^\{(.+)\+\}$/.exec(part);
    if (greedy) {
      if (i >= segments.length) return undefined;
      pathParameters[greedy[1]] = segments.slice(i).map(decode).join('/');
      score.push(1);
      return { score, pathParameters };
    }
    if (i >= segments.length) return undefined;
    const variable = /^\{(.+)\}$/.exec(part);
    if (variable) {
      if (segments[i] === '') return undefined;
      pathParameters[variable[1]] = decode(segments[i]);
      score.push(2);
    } else if (part === segments[i]) {
      score.push(3);
    } else {
      return undefined;
    }
  }
  return segments.length === pattern.length ? { score, pathParameters } : undefined;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Content types API Gateway passes as text; any other body arrives base64-encoded. */
export function isTextContent(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return type.startsWith('text/') || type === 'application/json' || type.endsWith('+json') || type === 'application/xml'
    || type.endsWith('+xml') || type === 'application/x-www-form-urlencoded' || type === 'application/javascript'
    || type === 'application/graphql';
}

export interface EventOptions {
  readonly routeKey: string;
  readonly pathParameters?: Record<string, string>;
  readonly apiId: string;
  readonly domainName: string;
  readonly now?: Date;
}

/** The payload format 2.0 event of an HTTP API (and, with routeKey `$default`, of a function URL). */
export function httpEvent(request: HttpRequest, options: EventOptions): Record<string, unknown> {
  const now = options.now ?? new Date();
  const [rawPath, ...query] = request.url.split('?');
  const rawQueryString = query.join('?');
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    if (name === 'cookie') {
      cookies = values.flatMap(v => v.split(';')).map(c => c.trim()).filter(Boolean);
      continue;
    }
    // format 2.0 joins a repeated header's values with commas
    headers[name] = values.join(',');
  }
  headers['x-forwarded-for'] ??= request.sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    queryStringParameters[name] = name in queryStringParameters ? `${queryStringParameters[name]},${value}` : value;
  }
  const text = isTextContent(headers['content-type']);
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: options.routeKey,
    rawPath,
    rawQueryString,
    ...cookies ? { cookies } : {},
    headers,
    ...Object.keys(queryStringParameters).length ? { queryStringParameters } : {},
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: options.apiId,
      domainName: options.domainName,
      domainPrefix: options.domainName.split('.')[0],
      http: {
        method: request.method,
        path: rawPath,
        protocol: request.protocol,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: options.routeKey,
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    ...options.pathParameters ? { pathParameters: options.pathParameters } : {},
    isBase64Encoded: request.body.length > 0 && !text,
  };
  if (request.body.length > 0) event.body = text ? request.body.toString('utf8') : request.body.toString('base64');
  return event;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, as requestContext.time reads. */
function apiGatewayTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:`
    + `${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/**
 * The HTTP response for a handler's result, as payload format 2.0 reads it: an object with `statusCode` is taken as
 * the response; anything else is a 200 with a JSON body (a string as it is).
 */
export function httpResponse(result: unknown): HttpResponse {
  if (result !== null && typeof result === 'object' && 'statusCode' in result) {
    const shaped = result as { statusCode: unknown; headers?: Record<string, unknown>; cookies?: unknown; body?: unknown; isBase64Encoded?: unknown };
    const statusCode = Number(shaped.statusCode);
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
      throw new Error(`the handler returned statusCode ${JSON.stringify(shaped.statusCode)}; API Gateway answers 500 to that`);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(shaped.headers ?? {})) headers[name.toLowerCase()] = String(value);
    const cookies = Array.isArray(shaped.cookies) ? shaped.cookies.map(String) : [];
    const body = shaped.body === undefined || shaped.body === null ? '' : typeof shaped.body === 'string' ? shaped.body : JSON.stringify(shaped.body);
    return { statusCode, headers, cookies, body: shaped.isBase64Encoded === true ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8') };
  }
  const body = typeof result === 'string' ? result : result === undefined ? '' : JSON.stringify(result);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(body, 'utf8') };
}

/** The answer API Gateway gives for a failed invocation (an error, a crash or a timeout). */
export function failedInvocationResponse(): HttpResponse {
  return { statusCode: 500, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from('{"message":"Internal Server Error"}') };
}

export type SourceKind = 'sqs' | 'kinesis' | 'dynamodb';

/**
 * A pipe's batch for a worker: an array of records in the source's shape. Records given in that shape (with
 * `eventSource`) pass as they are; for SQS and Kinesis, anything else is taken as a message body or data and
 * wrapped in a record.
 */
export function workerBatch(source: SourceKind, input: unknown, sourceName: string): unknown[] {
  const items: unknown[] = Array.isArray(input) ? input
    : input !== null && typeof input === 'object' && Array.isArray((input as { Records?: unknown }).Records) ? (input as { Records: unknown[] }).Records
      : [input];
  const arn = source === 'sqs' ? `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${sourceName}`
    : source === 'kinesis' ? `arn:aws:kinesis:${REGION}:${ACCOUNT_ID}:stream/${sourceName}`
      : `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/${sourceName}/stream/local`;
  return items.map((item, index) => {
    if (item !== null && typeof item === 'object' && 'eventSource' in item) return item;
    const text = typeof item === 'string' ? item : JSON.stringify(item);
    if (source === 'sqs') {
      const now = String(Date.now());
      return {
        messageId: randomUUID(),
        receiptHandle: `local-${index}`,
        body: text,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: ACCOUNT_ID, ApproximateFirstReceiveTimestamp: now },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(text).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: arn,
        awsRegion: REGION,
      };
    }
    if (source === 'kinesis') {
      return {
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `shardId-000000000000:${index}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: `arn:aws:iam::${ACCOUNT_ID}:role/local`,
        awsRegion: REGION,
        eventSourceARN: arn,
        kinesisSchemaVersion: '1.0',
        partitionKey: String(index),
        sequenceNumber: String(index),
        data: Buffer.from(text, 'utf8').toString('base64'),
        approximateArrivalTimestamp: Date.now() / 1000,
      };
    }
    throw new Error(`record ${index} is not a DynamoDB stream record (it has no eventSource): give each record as the stream delivers it, `
      + 'with eventName and dynamodb.NewImage in attribute-value form');
  });
}
