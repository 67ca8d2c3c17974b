import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { SqlEngineFamily } from '../sql-engine';

/** A function that connects through the proxy, with the concurrency it can reach. */
export interface ConnectionConsumer {
  readonly path: string;
  /** Undefined: no cap. */
  readonly concurrency?: number;
  /** Where the figure comes from: reserved, provisioned, once per deployment. */
  readonly basis: string;
}

/** GiB of memory per size for the burstable (t) and general-purpose (m) classes; memory-optimized (r) have twice. */
const GIB_PER_SIZE: Record<string, number> = {
  'micro': 1, 'small': 2, 'medium': 4, 'large': 8, 'xlarge': 16, '2xlarge': 32, '4xlarge': 64, '8xlarge': 128, '12xlarge': 192, '16xlarge': 256,
};

/**
 * The default `max_connections` of Aurora Serverless v2 by maximum capacity, as the Aurora User Guide tabulates it
 * ("Maximum connections for Aurora Serverless v2"): Aurora evaluates the engine's formula with the memory of the
 * maximum ACUs. PostgreSQL's formula is capped at 5,000 (reached at 32 ACUs), and at 2,000 with a minimum of 0.5 ACU.
 * The guide gives no figure between its rows, so other maximums have no known budget.
 *
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.setting-capacity.html#aurora-serverless-v2.max-connections
 */
const SERVERLESS_MAX_CONNECTIONS: ReadonlyArray<readonly [acu: number, mysql: number, postgres: number]> = [
  [1, 90, 189], [4, 135, 823], [8, 1000, 1669], [16, 2000, 3360], [32, 3000, 5000], [64, 4000, 5000], [128, 5000, 5000],
];
const POSTGRES_MAX_CONNECTIONS_CAP = 5000;
const POSTGRES_HALF_ACU_CAP = 2000;

export function serverlessMaxConnections(family: SqlEngineFamily, minCapacity: number, maxCapacity: number): number | undefined {
  const postgres = family === SqlEngineFamily.POSTGRES;
  const row = SERVERLESS_MAX_CONNECTIONS.find(([acu]) => acu === maxCapacity);
  let value = row ? (postgres ? row[2] : row[1]) : undefined;
  // the formula's cap holds for every maximum past the row that reaches it
  if (postgres && maxCapacity >= 32) value = POSTGRES_MAX_CONNECTIONS_CAP;
  if (postgres && minCapacity <= 0.5) {
    // every maximum from 16 ACUs gives more than the cap, so the cap is the value
    if (maxCapacity >= 16) return POSTGRES_HALF_ACU_CAP;
    if (value !== undefined) return Math.min(value, POSTGRES_HALF_ACU_CAP);
  }
  return value;
}

/**
 * RDS's default `max_connections` for an instance class: PostgreSQL `LEAST(DBInstanceClassMemory/9531392, 5000)`,
 * MySQL `DBInstanceClassMemory/12582880`, from the class's nominal memory (RDS reserves a little, so the real value
 * is slightly lower). Undefined for classes whose memory is not known here.
 *
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections
 */
export function defaultMaxConnections(family: SqlEngineFamily, instanceType: ec2.InstanceType): number | undefined {
  const bytes = instanceMemoryBytes(instanceType);
  if (bytes === undefined) return undefined;
  return family === SqlEngineFamily.POSTGRES ? Math.min(5000, Math.floor(bytes / 9531392)) : Math.floor(bytes / 12582880);
}

/** The nominal memory of an instance class in bytes, for the classes whose memory is known here. */
export function instanceMemoryBytes(instanceType: ec2.InstanceType): number | undefined {
  const [klass, size] = instanceType.toString().split('.');
  const perSize = GIB_PER_SIZE[size];
  if (perSize === undefined || !/^(t[34]g?|m[5-8]g?d?|r[5-8]g?d?)$/.test(klass)) return undefined;
  if (klass.startsWith('t') && !['micro', 'small', 'medium', 'large', 'xlarge', '2xlarge'].includes(size)) return undefined;
  return perSize * (klass.startsWith('r') ? 2 : 1) * 1024 ** 3;
}
