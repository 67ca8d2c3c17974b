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
 * Signs an IAM authentication token for RDS / RDS Proxy: a SigV4-presigned `connect` request, without the scheme,
 * valid for 15 minutes. Signing is local (no network call), so it works in isolated subnets. The signature is
 * computed by `aws4` (a small, dependency-free SigV4 implementation on node:crypto), loaded on the first token;
 * the tests hold every token byte for byte to the one `@aws-sdk/rds-signer` makes.
 */
export async function signAuthToken(request: AuthTokenRequest): Promise<string> {
  const host = `${request.hostname}:${request.port}`;
  const query = {
    'Action': 'connect',
    'DBUser': request.username,
    'X-Amz-Date': amzDate(request.signingDate ?? new Date()),
    'X-Amz-Expires': String(TOKEN_LIFETIME_SECONDS),
  };
  const signed = loadAws4().sign({
    method: 'GET',
    host,
    path: `/?${queryString(query)}`,
    headers: { Host: host },
    service: 'rds-db',
    region: request.region,
    signQuery: true,
  }, {
    accessKeyId: request.credentials.accessKeyId,
    secretAccessKey: request.credentials.secretAccessKey,
    sessionToken: request.credentials.sessionToken,
  });
  // the same parameters in the order @aws-sdk/rds-signer writes them (sorted by name)
  const parameters = new URLSearchParams(signed.path.slice(signed.path.indexOf('?') + 1));
  return `${host}/?${queryString(Object.fromEntries(parameters))}`;
}

interface Aws4 {
  sign(request: Record<string, unknown>, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): { path: string };
}
let aws4: Aws4 | undefined;
function loadAws4(): Aws4 {
  return aws4 ??= require('aws4') as Aws4;
}

/** The SigV4 time stamp: 20261123T123456Z. */
function amzDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

function queryString(query: Record<string, string>): string {
  return Object.keys(query).sort().map(key => `${escape(key)}=${escape(query[key])}`).join('&');
}

/** RFC 3986 percent-encoding, as SigV4 canonicalizes it. */
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
