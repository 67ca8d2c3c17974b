import { createHash } from 'crypto';
import { httpEvent, httpResponse, parseRoute, selectRoute, workerBatch } from '../src/events';

// "the most-specific match": https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
// ("Routing API requests"); API Gateway decodes URL-encoded parameters before passing them on (same page)
describe('route selection, as API Gateway chooses', () => {
  const routes = ['GET /items/{id}', 'GET /items/special', 'ANY /items/{id}', 'ANY /files/{path+}', 'GET /files/{path+}', 'POST /', '$default'].map(parseRoute);
  const pick = (method: string, path: string) => {
    const { route, pathParameters } = selectRoute(routes, method, path);
    return [route?.routeKey, pathParameters];
  };

  test('a literal segment before a variable, a method before ANY, a variable before a greedy one', () => {
    expect(pick('GET', '/items/special')).toEqual(['GET /items/special', undefined]);
    expect(pick('GET', '/items/7')).toEqual(['GET /items/{id}', { id: '7' }]);
    expect(pick('DELETE', '/items/7')).toEqual(['ANY /items/{id}', { id: '7' }]);
    expect(pick('GET', '/files/a/b')).toEqual(['GET /files/{path+}', { path: 'a/b' }]);
    expect(pick('PUT', '/files/a%2Fb/c')).toEqual(['ANY /files/{path+}', { path: 'a/b/c' }]);
    expect(pick('POST', '/')).toEqual(['POST /', undefined]);
  });

  test('what matches no route goes to $default: extra or missing segments, an empty variable, another method', () => {
    expect(pick('GET', '/items/7/more')[0]).toBe('$default');
    expect(pick('GET', '/items')[0]).toBe('$default');
    expect(pick('GET', '/items/')[0]).toBe('$default');
    expect(pick('GET', '/files')[0]).toBe('$default');
    expect(pick('GET', '/')[0]).toBe('$default');
  });
});

describe('payload format 2.0', () => {
  const request = (overrides: Partial<Parameters<typeof httpEvent>[0]> = {}) => httpEvent({
    method: 'POST', url: '/a?x=1&x=2', headers: { 'content-type': 'text/plain', 'x-multi': ['1', '2'], 'cookie': 'a=1; b=2' },
    body: Buffer.from('hello'), sourceIp: '10.0.0.1', protocol: 'HTTP/1.1', ...overrides,
  }, { routeKey: 'POST /a', apiId: 'local', domainName: 'example.test', now: new Date(Date.UTC(2020, 2, 12, 19, 3, 58)) });

  test('headers joined with commas, cookies apart, query parameters joined, the time as API Gateway writes it', () => {
    const event = request() as any;
    expect(event.headers).toMatchObject({ 'x-multi': '1,2', 'content-type': 'text/plain' });
    expect(event.headers.cookie).toBeUndefined();
    expect(event.cookies).toEqual(['a=1', 'b=2']);
    expect(event.queryStringParameters).toEqual({ x: '1,2' });
    expect(event.requestContext).toMatchObject({ time: '12/Mar/2020:19:03:58 +0000', timeEpoch: 1584039838000, domainPrefix: 'example' });
    expect(event).toMatchObject({ body: 'hello', isBase64Encoded: false, routeKey: 'POST /a', rawPath: '/a', rawQueryString: 'x=1&x=2' });
  });

  test('a binary body arrives base64-encoded; no body, no body field', () => {
    expect(request({ headers: { 'content-type': 'image/png' }, body: Buffer.from([255, 0]) })).toMatchObject({ body: '/wA=', isBase64Encoded: true });
    const empty = request({ body: Buffer.alloc(0), url: '/a' }) as any;
    expect(empty.body).toBeUndefined();
    expect(empty.queryStringParameters).toBeUndefined();
    expect(empty.isBase64Encoded).toBe(false);
  });

  test('responses: a shaped one as given, anything else a 200 with a JSON body', () => {
    expect(httpResponse({ statusCode: 302, headers: { Location: '/x' }, cookies: ['a=1'] }))
      .toEqual({ statusCode: 302, headers: { location: '/x' }, cookies: ['a=1'], body: Buffer.alloc(0) });
    expect(httpResponse({ statusCode: 200, body: 'AAE=', isBase64Encoded: true }).body).toEqual(Buffer.from([0, 1]));
    expect(httpResponse({ id: 1 })).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"id":1}') });
    expect(httpResponse('text').body.toString()).toBe('text');
    expect(() => httpResponse({ statusCode: 'abc' })).toThrow(/statusCode "abc"/);
  });
});

describe('worker batches', () => {
  test('SQS: bodies wrapped into messages, full records kept, {Records} unwrapped', () => {
    const [wrapped] = workerBatch('sqs', [{ title: 'x' }], 'Ingest') as any[];
    expect(wrapped).toMatchObject({ body: '{"title":"x"}', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:local:000000000000:Ingest' });
    expect(wrapped.md5OfBody).toBe(createHash('md5').update('{"title":"x"}').digest('hex'));
    const record = { eventSource: 'aws:sqs', body: 'as is', messageId: 'm1' };
    expect(workerBatch('sqs', { Records: [record] }, 'Ingest')).toEqual([record]);
    expect(workerBatch('sqs', 'one body', 'Ingest')).toEqual([expect.objectContaining({ body: 'one body' })]);
  });

  test('Kinesis: data base64-encoded, as the pipe delivers it (flat, no nested kinesis object)', () => {
    const [record] = workerBatch('kinesis', [{ n: 1 }], 'Readings') as any[];
    expect(Buffer.from(record.data, 'base64').toString()).toBe('{"n":1}');
    expect(record).toMatchObject({ eventSource: 'aws:kinesis', eventName: 'aws:kinesis:record' });
    expect(record.kinesis).toBeUndefined();
  });

  test('DynamoDB: only records in the stream\'s own shape', () => {
    expect(() => workerBatch('dynamodb', [{ id: 1 }], 'Table')).toThrow(/not a DynamoDB stream record/);
    const record = { eventSource: 'aws:dynamodb', eventName: 'INSERT', dynamodb: { NewImage: { id: { N: '1' } } } };
    expect(workerBatch('dynamodb', [record], 'Table')).toEqual([record]);
  });
});
