import { createHash, createHmac } from 'crypto';

/** AWS credentials to sign with. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** What an IAM database authentication token is signed for. */
export interface AuthTokenRequest {
  /** The proxy (or database) host name clients connect to. */
  readonly hostname: string;
  readonly port: number;
  /** The database user. */
  readonly username: string;
  /** The AWS Region of the proxy. */
  readonly region: string;
  readonly credentials: AwsCredentials;
  /** The signing time; defaults to now. */
  readonly signingDate?: Date;
}

/** How long a token is valid for, in seconds (the RDS maximum). */
export const TOKEN_LIFETIME_SECONDS = 900;

/**
 * Signs an IAM authentication token for RDS / RDS Proxy: a SigV4-presigned `GET /?Action=connect&DBUser=…` request
 * for the `rds-db` service, without the scheme, valid for 15 minutes. Signing is local (no network call), so it works
 * in isolated subnets. The signature is Signature Version 4 as the IAM user guide specifies it for query-string
 * authentication (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), computed with
 * node:crypto: one request shape, one signed header (`host`), an empty payload. It is 30 lines instead of a
 * dependency because the general-purpose signers weigh 8 KB (aws4) to 60 KB (@smithy/signature-v4) of every
 * handler's bundle for this one request; the tests hold every token byte for byte to the one `@aws-sdk/rds-signer`
 * makes.
 */
export async function signAuthToken(request: AuthTokenRequest): Promise<string> {
  const { credentials, region } = request;
  const host = `${request.hostname}:${request.port}`;
  const time = amzDate(request.signingDate ?? new Date());
  const scope = `${time.slice(0, 8)}/${region}/${SERVICE}/aws4_request`;
  const query: Record<string, string> = {
    'Action': 'connect',
    'DBUser': request.username,
    'X-Amz-Algorithm': ALGORITHM,
    'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': time,
    'X-Amz-Expires': String(TOKEN_LIFETIME_SECONDS),
    'X-Amz-SignedHeaders': 'host',
  };
  if (credentials.sessionToken) query['X-Amz-Security-Token'] = credentials.sessionToken;
  const canonicalQuery = queryString(query);
  // method, path, query, headers (each ends with a newline), signed headers, hash of the empty payload
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${host}\n`, 'host', sha256(EMPTY)].join('\n');
  const stringToSign = [ALGORITHM, time, scope, sha256(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, time.slice(0, 8));
  for (const part of [region, SERVICE, 'aws4_request']) key = hmac(key, part);
  // the signature joins the parameters in sorted order, where @aws-sdk/rds-signer writes it
  return `${host}/?${queryString({ ...query, 'X-Amz-Signature': hmac(key, stringToSign).toString('hex') })}`;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const SERVICE = 'rds-db';
const EMPTY = '';

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

/**
 * The SigV4 time stamp: 20261123T123456Z. From the UTC fields rather than `toISOString()`, whose first call in a
 * process costs most of a millisecond.
 */
function amzDate(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`
    + `T${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
}

/** The canonical query string: names sorted by code point, names and values percent-encoded. */
function queryString(query: Record<string, string>): string {
  return Object.keys(query).sort().map(key => `${escape(key)}=${escape(query[key])}`).join('&');
}

/** RFC 3986 percent-encoding of everything but unreserved characters, as SigV4 canonicalizes it. */
function escape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Credentials of the Lambda execution role, from the environment Lambda sets. */
export function credentialsFromEnvironment(env: NodeJS.ProcessEnv = process.env): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('IAM database authentication needs AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set '
      + '(Lambda sets them; elsewhere pass `credentials` to connect()).');
  }
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
}
