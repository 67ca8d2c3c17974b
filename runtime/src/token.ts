import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

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
 * valid for 15 minutes. Signing is local (no network call), so it works in isolated subnets.
 */
export async function signAuthToken(request: AuthTokenRequest): Promise<string> {
  const signer = new SignatureV4({
    service: 'rds-db',
    region: request.region,
    credentials: request.credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const host = `${request.hostname}:${request.port}`;
  const presigned = await signer.presign({
    method: 'GET',
    protocol: 'https:',
    hostname: request.hostname,
    port: request.port,
    path: '/',
    query: { Action: 'connect', DBUser: request.username },
    headers: { host },
  }, { expiresIn: TOKEN_LIFETIME_SECONDS, signingDate: request.signingDate });
  return `${host}/?${queryString(presigned.query as Record<string, string | string[] | null>)}`;
}

function queryString(query: Record<string, string | string[] | null>): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    if (value === null || value === undefined) {
      parts.push(escape(key));
    } else {
      for (const item of [value].flat()) parts.push(`${escape(key)}=${escape(item)}`);
    }
  }
  return parts.join('&');
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
