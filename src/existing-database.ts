import { IResource, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { checkEndpointRegion, checkSameEnvironment } from './private/environment';
import { defaultMaxConnections, instanceMemoryBytes } from './private/max-connections';
import { checkInteger, checkRange, ConfigurationError } from './private/validation';
import { BoundDatabase, DatabaseMonitoring, SqlEngineFamily } from './sql-engine';

/** What every existing database must come with. */
export interface ExistingDatabaseOptions {
  /**
   * The database's admin (master) secret. It is never readable by the API functions; it is kept for deploy-time
   * bootstrap only.
   */
  readonly adminSecret: secretsmanager.ISecret;

  /**
   * The database's `max_connections`, when its parameter group sets one. With it the library knows the proxy's
   * connection budget: it warns when the functions' concurrency can exceed it and alarms near it.
   *
   * @default - from `instanceType` for an instance (RDS's default formula); unknown otherwise
   */
  readonly maxConnections?: number;
}

/** Options for `ExistingDatabase.instance()`. */
export interface ExistingInstanceOptions extends ExistingDatabaseOptions {
  /**
   * The instance, imported with `rds.DatabaseInstance.fromDatabaseInstanceAttributes()` including its `engine`
   * (which decides the proxy's engine family), its `port`, its `securityGroups` (an ingress rule from the proxy
   * on the port is added to them) and its `instanceResourceId` (the `db-…` id that IAM `rds-db:connect`
   * statements name). IAM database authentication must be enabled on it.
   */
  readonly instance: rds.IDatabaseInstance;

  /**
   * The instance's class. With it the library knows the default `max_connections` (and so the proxy's connection
   * budget) and the memory the freeable-memory alarm compares against.
   *
   * @default - unknown: no budget warning, no connections or memory alarm
   */
  readonly instanceType?: ec2.InstanceType;
}

/** Options for `ExistingDatabase.cluster()`. */
export interface ExistingClusterOptions extends ExistingDatabaseOptions {
  /**
   * The Aurora cluster, imported with `rds.DatabaseCluster.fromDatabaseClusterAttributes()` including its `engine`
   * , its `port`, its `securityGroups` (an ingress rule from the proxy on the port is added to them) and its
   * `clusterResourceIdentifier` (the `cluster-…` id that IAM `rds-db:connect` statements name). IAM database
   * authentication must be enabled on it.
   */
  readonly cluster: rds.IDatabaseCluster;
}

/**
 * A database that already exists (RDS instance or Aurora cluster), to put behind a new RDS Proxy instead of
 * creating one.
 */
export abstract class ExistingDatabase {
  /** An existing RDS for PostgreSQL or MySQL instance. */
  public static instance(options: ExistingInstanceOptions): ExistingDatabase {
    return new ExistingInstance(options);
  }

  /** An existing Aurora PostgreSQL or MySQL cluster. */
  public static cluster(options: ExistingClusterOptions): ExistingDatabase {
    return new ExistingCluster(options);
  }

  /** The admin (master) secret of the database. */
  public readonly adminSecret: secretsmanager.ISecret;

  protected constructor(options: ExistingDatabaseOptions) {
    this.adminSecret = options.adminSecret;
  }

  /** @internal */
  public abstract _bind(scope: Construct): BoundDatabase;
}

class ExistingInstance extends ExistingDatabase {
  constructor(private readonly options: ExistingInstanceOptions) {
    super(options);
  }

  public _bind(scope: Construct): BoundDatabase {
    const { instance, instanceType } = this.options;
    return bind(scope, 'existingDatabase.instance', this.adminSecret, instance, {
      engine: instance.engine,
      resourceId: instance.instanceResourceId,
      resourceIdAttribute: 'instanceResourceId',
      resourceIdHint: 'its DbiResourceId, "db-…"',
      endpoint: () => instance.dbInstanceEndpointAddress,
      connections: instance.connections,
      proxyTarget: () => rds.ProxyTarget.fromInstance(instance),
      monitoring: {
        kind: 'instance',
        dimensionsMap: { DBInstanceIdentifier: instance.instanceIdentifier },
        memoryBytes: instanceType && instanceMemoryBytes(instanceType),
      },
      maxConnections: (family: SqlEngineFamily) => this.options.maxConnections
        ?? (instanceType ? defaultMaxConnections(family, instanceType) : undefined),
    });
  }
}

class ExistingCluster extends ExistingDatabase {
  constructor(private readonly options: ExistingClusterOptions) {
    super(options);
  }

  public _bind(scope: Construct): BoundDatabase {
    const { cluster } = this.options;
    return bind(scope, 'existingDatabase.cluster', this.adminSecret, cluster, {
      engine: cluster.engine,
      resourceId: attempt(() => cluster.clusterResourceIdentifier),
      resourceIdAttribute: 'clusterResourceIdentifier',
      resourceIdHint: 'its DbClusterResourceId, "cluster-…"',
      endpoint: () => {
        const endpoint = attempt(() => cluster.clusterEndpoint.hostname);
        if (!endpoint) {
          throw new ConfigurationError(scope, 'existingDatabase.cluster.clusterEndpointAddress', undefined,
            'Import the cluster with `clusterEndpointAddress`: the deploy-time bootstrap connects to it as the admin.');
        }
        return endpoint;
      },
      connections: cluster.connections,
      proxyTarget: () => rds.ProxyTarget.fromCluster(cluster),
      monitoring: { kind: 'cluster', dimensionsMap: { DBClusterIdentifier: cluster.clusterIdentifier } },
      maxConnections: () => this.options.maxConnections,
    });
  }
}

interface ImportedParts {
  readonly engine: rds.IEngine | undefined;
  readonly resourceId: string | undefined;
  readonly resourceIdAttribute: string;
  readonly resourceIdHint: string;
  readonly endpoint: () => string;
  readonly connections: ec2.Connections;
  readonly proxyTarget: () => rds.ProxyTarget;
  readonly monitoring: DatabaseMonitoring;
  readonly maxConnections: (family: SqlEngineFamily) => number | undefined;
}

/** Checks that an imported database carries what the proxy and the bootstrap need, and binds it. */
function bind(scope: Construct, prop: string, adminSecret: secretsmanager.ISecret, database: IResource, parts: ImportedParts): BoundDatabase {
  checkSameEnvironment(scope, prop, database, 'account and region');
  checkSameEnvironment(scope, 'existingDatabase.adminSecret', adminSecret, 'account and region');
  const family = familyOf(scope, prop, parts.engine);
  if (!parts.resourceId) {
    throw new ConfigurationError(scope, `${prop}.${parts.resourceIdAttribute}`, parts.resourceId,
      `Import the database with \`${parts.resourceIdAttribute}\` (${parts.resourceIdHint}): rds-db:connect grants name it.`);
  }
  const endpoint = parts.endpoint();
  checkEndpointRegion(scope, `${prop}.endpoint`, endpoint);
  return {
    family,
    port: portOf(scope, prop, parts.connections),
    endpoint,
    connections: parts.connections,
    proxyTarget: parts.proxyTarget(),
    resourceId: parts.resourceId,
    monitoring: parts.monitoring,
    maxConnections: checkedMaxConnections(scope, parts.maxConnections(family)),
  };
}

/** A `max_connections` from the parameter group's range (1 to 262,143 on PostgreSQL, the larger of the two). */
function checkedMaxConnections(scope: Construct, value: number | undefined): number | undefined {
  if (value === undefined || Token.isUnresolved(value)) return undefined;
  checkInteger(scope, 'existingDatabase.maxConnections', value);
  checkRange(scope, 'existingDatabase.maxConnections', value, 1, 262_143);
  return value;
}

/** An attribute of an imported resource, or undefined when it was imported without it (aws-cdk-lib throws). */
function attempt(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function familyOf(scope: Construct, prop: string, engine: rds.IEngine | undefined): SqlEngineFamily {
  switch (engine?.engineFamily) {
    case 'POSTGRESQL':
      return SqlEngineFamily.POSTGRES;
    case 'MYSQL':
      return SqlEngineFamily.MYSQL;
    default:
      throw new ConfigurationError(scope, `${prop}.engine`, engine?.engineType,
        'Import the database with its `engine` (a PostgreSQL or MySQL engine): it decides the proxy engine family and the driver.');
  }
}

function portOf(scope: Construct, prop: string, connections: ec2.Connections): number {
  if (connections.securityGroups.length === 0) {
    throw new ConfigurationError(scope, `${prop}.securityGroups`, '[]',
      'Import the database with the security groups attached to it: the proxy needs an ingress rule on them.');
  }
  const port = connections.defaultPort?.toRuleJson().fromPort;
  if (port === undefined || Token.isUnresolved(port)) {
    throw new ConfigurationError(scope, `${prop}.port`, port === undefined ? undefined : 'an unresolved token',
      'Import the database with its port as a number: security group rules and the function environment need it at synth time.');
  }
  return port;
}
