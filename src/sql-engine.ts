import { ArnFormat, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge, managedPolicyFinding, rule } from './private/compliance';
import { defaultMaxConnections, instanceMemoryBytes, serverlessMaxConnections } from './private/max-connections';
import { ADMIN_PASSWORD_EXCLUDED_CHARACTERS } from './private/names';
import { confinedServicePrincipal } from './private/service-principal';
import { checkConcrete, checkInteger, checkRange, ConfigurationError } from './private/validation';

/**
 * The wire protocol a database speaks, which decides the driver, the port and the proxy's engine family.
 */
export enum SqlEngineFamily {
  /** PostgreSQL (RDS for PostgreSQL, Aurora PostgreSQL). Default port 5432. */
  POSTGRES = 'postgres',
  /** MySQL (RDS for MySQL, Aurora MySQL). Default port 3306. */
  MYSQL = 'mysql',
}

/** Settings shared by every engine. */
export interface EngineOptions {
  /**
   * The port the database listens on, from 1150 to 65535. Clients never use it: they connect to the proxy, which
   * always listens on the engine's default port (5432 or 3306); only the proxy and the deploy-time functions reach
   * the database.
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.html#rds-proxy.limitations
   * @default - 5433 for PostgreSQL, 3307 for MySQL: not the engine's default port, as AWS Control Tower
   *   (CT.RDS.PR.20) and cdk-nag (RDS11) require
   */
  readonly port?: number;

  /**
   * Collect the operating-system metrics of the database instances with RDS Enhanced Monitoring, at this interval:
   * 1, 5, 10, 15, 30 or 60 seconds. The metrics go to CloudWatch Logs (`RDSOSMetrics`), billed by volume.
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.html
   * @default - off: the database's CloudWatch metrics only
   */
  readonly monitoringInterval?: Duration;
}

/** Settings shared by the single-instance engines (RDS for PostgreSQL, RDS for MySQL). */
export interface InstanceEngineOptions extends EngineOptions {
  /**
   * The instance class.
   *
   * @default - db.t4g.micro (Graviton, burstable): the cheapest class RDS Proxy supports; size up for production load
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Initial storage, in GiB (gp3).
   *
   * @default 20
   */
  readonly allocatedStorage?: number;

  /**
   * Upper limit for storage autoscaling, in GiB. Must be at least `allocatedStorage`.
   *
   * @default - 100 (or `allocatedStorage`, when larger); no autoscaling when `allocatedStorage` is a token
   */
  readonly maxAllocatedStorage?: number;

  /**
   * Run a synchronous standby in a second Availability Zone, which RDS fails over to (recommended for production; it
   * doubles the instance's cost).
   *
   * @default false
   */
  readonly multiAz?: boolean;
}

/** Options for `SqlEngine.postgres()`. */
export interface PostgresEngineOptions extends InstanceEngineOptions {
  /**
   * The PostgreSQL version. A version with its minor part (`rds.PostgresEngineVersion.VER_17_7`) pins that minor:
   * once RDS retires it, new deployments of the stack fail until the version is raised.
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.DBVersions.html
   * @default - major version 17 only (`EngineVersion: "17"`): RDS creates the instance on a recent 17.x release and
   * its automatic minor upgrades keep it current, so the template never names a retired minor nor asks for a downgrade
   */
  readonly version?: rds.PostgresEngineVersion;
}

/** Options for `SqlEngine.mysql()`. */
export interface MysqlEngineOptions extends InstanceEngineOptions {
  /**
   * The MySQL version. A version with its minor part (`rds.MysqlEngineVersion.VER_8_4_7`) pins that minor: once RDS
   * retires it, new deployments of the stack fail until the version is raised.
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/MySQL.Concepts.VersionMgmt.html
   * @default - major version 8.4 only (`EngineVersion: "8.4"`): RDS creates the instance on a recent 8.4.x release
   * and its automatic minor upgrades keep it current
   */
  readonly version?: rds.MysqlEngineVersion;
}

/**
 * The default RDS versions, major only: "If a major version is specified but a minor version is not, Amazon RDS
 * defaults to a recent release of the major version you have specified" (the RDS user guide's version pages for
 * PostgreSQL and MySQL, linked on the `version` options).
 */
const POSTGRES_MAJOR_VERSION = rds.PostgresEngineVersion.of('17', '17');
const MYSQL_MAJOR_VERSION = rds.MysqlEngineVersion.of('8.4', '8.4');

/** Capacity settings shared by the Aurora Serverless v2 engines. */
export interface AuroraServerlessOptions extends EngineOptions {
  /**
   * Minimum capacity, in Aurora capacity units (ACU), from 0.5 to 256 in steps of 0.5.
   *
   * Auto-pause (0 ACU) is refused: the connections RDS Proxy keeps open would prevent the cluster from pausing.
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.setting-capacity.html
   * @default 0.5
   */
  readonly minCapacity?: number;

  /**
   * Maximum capacity, in ACU, from 1 to 256 in steps of 0.5, at least `minCapacity`.
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.setting-capacity.html
   * @default 4
   */
  readonly maxCapacity?: number;

  /**
   * Number of Serverless v2 reader instances that scale with the writer (for failover in a second AZ).
   *
   * @default 0
   */
  readonly readers?: number;
}

/** Options for `SqlEngine.auroraPostgres()`. */
export interface AuroraPostgresEngineOptions extends AuroraServerlessOptions {
  /**
   * The Aurora PostgreSQL version. Aurora documents no major-only form, so this is a full version: when Aurora retires it,
   * new deployments fail until it is raised (automatic minor upgrades move a running cluster past it, and a later,
   * lower value would ask for a downgrade, which Aurora refuses: raise it to the cluster's current version or above).
   *
   * @default rds.AuroraPostgresEngineVersion.VER_17_7
   */
  readonly version?: rds.AuroraPostgresEngineVersion;
}

/** Options for `SqlEngine.auroraMysql()`. */
export interface AuroraMysqlEngineOptions extends AuroraServerlessOptions {
  /**
   * The Aurora MySQL version. Aurora documents no major-only form, so this is a full version: when Aurora retires it,
   * new deployments fail until it is raised (automatic minor upgrades move a running cluster past it, and a later,
   * lower value would ask for a downgrade, which Aurora refuses: raise it to the cluster's current version or above).
   *
   * @default rds.AuroraMysqlEngineVersion.VER_3_10_3
   */
  readonly version?: rds.AuroraMysqlEngineVersion;
}

/** @internal */
export interface DatabaseSettings {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly databaseName: string;
  readonly adminUsername: string;
  /** Encrypts the storage and the admin secret. */
  readonly encryptionKey: kms.IKey;
}

/** A database the proxy fronts, new or existing, as `SqlDatabase` needs to see it. @internal */
export interface BoundDatabase {
  readonly family: SqlEngineFamily;
  /** The port the database itself listens on. */
  readonly port: number;
  /** The database's own endpoint (not the proxy's), for deploy-time bootstrap as the admin. */
  readonly endpoint: string;
  /** The database's security groups with `port` as a number (never a token), for the rules into the database. */
  readonly connections: ec2.Connections;
  readonly proxyTarget: rds.ProxyTarget;
  /** The DbiResourceId / DbClusterResourceId that `rds-db:connect` resources name. */
  readonly resourceId: string;
  /** How CloudWatch names the database, and what its alarms need to know of it. */
  readonly monitoring: DatabaseMonitoring;
  /** The database's `max_connections`, where it can be told at synth time. */
  readonly maxConnections?: number;
}

/** The database as its AWS/RDS metrics and alarms see it. @internal */
export interface DatabaseMonitoring {
  readonly kind: 'instance' | 'cluster';
  /** `DBInstanceIdentifier` or `DBClusterIdentifier`. */
  readonly dimensionsMap: { [name: string]: string };
  /** The instance class's memory in bytes, where it can be told at synth time. */
  readonly memoryBytes?: number;
  /** The storage allocated when the instance was created, in GiB, where it can be told at synth time. */
  readonly allocatedStorageGiB?: number;
  /** Aurora Serverless v2: capacity in ACUs, with ACUUtilization. */
  readonly serverless?: boolean;
}

/** @internal */
export interface CreatedDatabase extends BoundDatabase {
  readonly resource: rds.DatabaseInstance | rds.DatabaseCluster;
  readonly adminSecret: rds.DatabaseSecret;
  /** Rotates the admin secret (single user), for the engine of `resource`. */
  readonly rotationApplication: secretsmanager.SecretRotationApplication;
}

const BACKUP_RETENTION = Duration.days(7);

/** The admin secret of a new database; its rotation excludes the same characters. */
function newAdminSecret(scope: Construct, settings: DatabaseSettings): rds.DatabaseSecret {
  return new rds.DatabaseSecret(scope, 'AdminSecret', {
    username: settings.adminUsername,
    encryptionKey: settings.encryptionKey,
    excludeCharacters: ADMIN_PASSWORD_EXCLUDED_CHARACTERS,
  });
}

/**
 * The database engine to create behind the proxy: RDS for PostgreSQL or MySQL (a single instance), or Aurora
 * PostgreSQL or MySQL Serverless v2 (a cluster).
 *
 * Every engine is created with storage encrypted with the database's `encryptionKey`, TLS required for every
 * connection, deletion protection, a snapshot on removal, 7 days of automated backups, IAM database authentication
 * and a generated admin secret in Secrets Manager, encrypted with the same key.
 */
export abstract class SqlEngine {
  /** RDS for PostgreSQL, a single instance (default engine). */
  public static postgres(options: PostgresEngineOptions = {}): SqlEngine {
    return new InstanceEngine(SqlEngineFamily.POSTGRES, options,
      rds.DatabaseInstanceEngine.postgres({ version: options.version ?? POSTGRES_MAJOR_VERSION }),
      ['postgresql', 'upgrade']);
  }

  /**
   * RDS for MySQL, a single instance. Its audit log (connections, DDL and DCL statements, through the
   * `MARIADB_AUDIT_PLUGIN` option) is exported to CloudWatch Logs with the error and slow query logs.
   */
  public static mysql(options: MysqlEngineOptions = {}): SqlEngine {
    return new InstanceEngine(SqlEngineFamily.MYSQL, options,
      rds.DatabaseInstanceEngine.mysql({ version: options.version ?? MYSQL_MAJOR_VERSION }),
      ['audit', 'error', 'slowquery']);
  }

  /** Aurora PostgreSQL Serverless v2. */
  public static auroraPostgres(options: AuroraPostgresEngineOptions = {}): SqlEngine {
    return new AuroraEngine(SqlEngineFamily.POSTGRES, options,
      rds.DatabaseClusterEngine.auroraPostgres({ version: options.version ?? rds.AuroraPostgresEngineVersion.VER_17_7 }),
      ['postgresql']);
  }

  /**
   * Aurora MySQL Serverless v2. Its audit log (connections, DDL and DCL statements, through the cluster's
   * `server_audit_*` parameters) is exported to CloudWatch Logs with the error and slow query logs.
   */
  public static auroraMysql(options: AuroraMysqlEngineOptions = {}): SqlEngine {
    return new AuroraEngine(SqlEngineFamily.MYSQL, options,
      rds.DatabaseClusterEngine.auroraMysql({ version: options.version ?? rds.AuroraMysqlEngineVersion.VER_3_10_3 }),
      ['audit', 'error', 'slowquery']);
  }

  /** The wire protocol of this engine. */
  public readonly family: SqlEngineFamily;

  /** The port the proxy listens on: the engine's default, as RDS Proxy always uses it. */
  public readonly port: number;

  /** Whether this engine is an Aurora Serverless v2 cluster (true) or a single RDS instance (false). */
  public readonly isAurora: boolean;

  protected constructor(family: SqlEngineFamily, isAurora: boolean) {
    this.family = family;
    this.isAurora = isAurora;
    this.port = defaultPort(family);
  }

  /** @internal */
  public abstract _createDatabase(scope: Construct, settings: DatabaseSettings): CreatedDatabase;
}

/** The default port of an engine family, which RDS Proxy always listens on. @internal */
export function defaultPort(family: SqlEngineFamily): number {
  return family === SqlEngineFamily.POSTGRES ? 5432 : 3306;
}

/** The port a new database listens on: the given one, or one next to the engine's default. */
function databasePort(scope: Construct, family: SqlEngineFamily, options: EngineOptions): number {
  const port = options.port ?? defaultPort(family) + 1;
  checkInteger(scope, 'engine.port', port);
  checkRange(scope, 'engine.port', port, 1150, 65535);
  return port;
}

/** The MySQL audit events this library records: who connects, and every change of schema or privileges. */
const MYSQL_AUDIT_EVENTS = 'CONNECT,QUERY_DDL,QUERY_DCL';

/**
 * The parameters of a new database: it refuses connections without TLS (the proxy, the bootstrap and the secret
 * rotation all use TLS), and Aurora MySQL writes its audit log (RDS for MySQL does so through an option group).
 */
function databaseParameters(family: SqlEngineFamily, aurora: boolean): Record<string, string> {
  if (family === SqlEngineFamily.POSTGRES) return { 'rds.force_ssl': '1' };
  return aurora
    ? { require_secure_transport: 'ON', server_audit_logging: '1', server_audit_events: MYSQL_AUDIT_EVENTS }
    : { require_secure_transport: '1' };
}

/** The Enhanced Monitoring interval, or undefined when it is off; throws on an interval RDS refuses. */
function monitoringInterval(scope: Construct, options: EngineOptions): Duration | undefined {
  const interval = options.monitoringInterval;
  if (interval === undefined || interval.isUnresolved()) return interval;
  const seconds = interval.toSeconds({ integral: false });
  if (seconds === 0) return undefined;
  if (![1, 5, 10, 15, 30, 60].includes(seconds)) {
    throw new ConfigurationError(scope, 'engine.monitoringInterval', interval,
      'Use 1, 5, 10, 15, 30 or 60 seconds (Enhanced Monitoring\'s intervals), or leave it unset for none.');
  }
  return interval;
}

/** The role RDS Enhanced Monitoring publishes with, when monitoring is on. */
function monitoringRole(scope: Construct, interval: Duration | undefined): iam.Role | undefined {
  if (interval === undefined) return undefined;
  const role = new iam.Role(scope, 'MonitoringRole', {
    // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html#USER_Monitoring.OS.confused-deputy:
    // the source is the monitored DB instance (Aurora's are instances too)
    assumedBy: confinedServicePrincipal(scope, 'monitoring.rds.amazonaws.com',
      { service: 'rds', resource: 'db', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
    description: `RDS Enhanced Monitoring of ${scope.node.path}`,
  });
  acknowledge(role, managedPolicyFinding('service-role/AmazonRDSEnhancedMonitoringRole'),
    'The AWS-maintained policy made for this service role: it lets RDS write the RDSOSMetrics log group only.');
  return role;
}

/** Acknowledges what every new database does differently from the compliance packs, each with its reason. */
function acknowledgeDatabaseChoices(database: Construct, family: SqlEngineFamily, monitored: boolean) {
  acknowledge(database, rule('RDSInBackupPlan', 'hipaa', 'nist'),
    'Automated backups are kept 7 days with point-in-time restore and a final snapshot is taken on removal. Copying '
    + 'them to an AWS Backup vault is an organization-wide choice: add the database to your backup plan (for example by tag).');
  if (!monitored) {
    acknowledge(database, rule('RDSEnhancedMonitoringEnabled', 'hipaa', 'nist'),
      'Enhanced Monitoring bills its CloudWatch Logs volume and is off by default; turn it on with engine monitoringInterval.');
  }
  if (family === SqlEngineFamily.MYSQL) {
    acknowledge(database, rule('RDSLoggingEnabled[LogExport::general]', 'hipaa', 'nist'),
      'The general query log records every statement with its values (personal data) at a volume that grows with '
      + 'traffic; the audit (connections, DDL, DCL), error and slow query logs are exported.');
  }
}

/**
 * The security groups of a new database with its port as a number. The connections of aws-cdk-lib's database
 * constructs carry the port as a token (the endpoint's attribute), which leaves the ingress rules unreadable by
 * template checks.
 */
function databaseConnections(settings: DatabaseSettings, port: number): ec2.Connections {
  return new ec2.Connections({ securityGroups: [settings.securityGroup], defaultPort: ec2.Port.tcp(port) });
}

class InstanceEngine extends SqlEngine {
  constructor(
    family: SqlEngineFamily,
    private readonly options: InstanceEngineOptions,
    private readonly engine: rds.IInstanceEngine,
    private readonly logExports: string[],
  ) {
    super(family, false);
  }

  public _createDatabase(scope: Construct, settings: DatabaseSettings): CreatedDatabase {
    const allocatedStorage = this.options.allocatedStorage ?? 20;
    // a limit cannot be derived from storage that is a token: then storage autoscaling is left off
    const maxAllocatedStorage = this.options.maxAllocatedStorage
      ?? (Token.isUnresolved(allocatedStorage) ? undefined : Math.max(100, allocatedStorage));
    checkRange(scope, 'engine.allocatedStorage', allocatedStorage, 20, 65536, ' GiB');
    checkRange(scope, 'engine.maxAllocatedStorage', maxAllocatedStorage, allocatedStorage, 65536, ' GiB');

    const port = databasePort(scope, this.family, this.options);
    const monitoring = monitoringInterval(scope, this.options);
    const multiAz = this.options.multiAz ?? false;

    const adminSecret = newAdminSecret(scope, settings);
    const optionGroup = this.family === SqlEngineFamily.MYSQL
      ? new rds.OptionGroup(scope, 'Options', {
        engine: this.engine,
        description: `Audit log of ${scope.node.path}`,
        configurations: [{ name: 'MARIADB_AUDIT_PLUGIN', settings: { SERVER_AUDIT_EVENTS: MYSQL_AUDIT_EVENTS } }],
      })
      : undefined;
    const parameterGroup = new rds.ParameterGroup(scope, 'Parameters', {
      engine: this.engine,
      description: `Parameters of ${scope.node.path}`,
      parameters: databaseParameters(this.family, false),
    });
    const instanceType = this.options.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO);
    const instance = new rds.DatabaseInstance(scope, 'Instance', {
      engine: this.engine,
      instanceType,
      vpc: settings.vpc,
      vpcSubnets: settings.vpcSubnets,
      securityGroups: [settings.securityGroup],
      port,
      credentials: rds.Credentials.fromSecret(adminSecret),
      databaseName: settings.databaseName,
      allocatedStorage,
      maxAllocatedStorage,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      storageEncryptionKey: settings.encryptionKey,
      multiAz,
      monitoringInterval: monitoring,
      monitoringRole: monitoringRole(scope, monitoring),
      optionGroup,
      parameterGroup,
      iamAuthentication: true,
      publiclyAccessible: false,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      backupRetention: BACKUP_RETENTION,
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      cloudwatchLogsExports: this.logExports,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
    });
    acknowledgeDatabaseChoices(instance, this.family, monitoring !== undefined);
    if (!multiAz) {
      acknowledge(instance, [...rule('RDS3', 'awsSolutions'), ...rule('RDSMultiAZSupport', 'hipaa', 'nist')],
        'A standby instance doubles the cost and is off by default; turn it on with engine multiAz: true for production.');
    }
    // the proxy targets the instance through a reference that carries the port as a number, so that the rule it
    // opens into the database's security group names the port
    const target = rds.DatabaseInstance.fromDatabaseInstanceAttributes(scope, 'ProxyTarget', {
      instanceIdentifier: instance.instanceIdentifier,
      instanceEndpointAddress: instance.dbInstanceEndpointAddress,
      port,
      securityGroups: [settings.securityGroup],
      engine: this.engine,
      instanceResourceId: instance.instanceResourceId,
    });
    return {
      family: this.family,
      port,
      endpoint: instance.dbInstanceEndpointAddress,
      connections: databaseConnections(settings, port),
      resource: instance,
      proxyTarget: rds.ProxyTarget.fromInstance(target),
      resourceId: instance.instanceResourceId!,
      adminSecret,
      rotationApplication: this.engine.singleUserRotationApplication,
      maxConnections: defaultMaxConnections(this.family, instanceType),
      monitoring: {
        kind: 'instance',
        dimensionsMap: { DBInstanceIdentifier: instance.instanceIdentifier },
        memoryBytes: instanceMemoryBytes(instanceType),
        allocatedStorageGiB: Token.isUnresolved(allocatedStorage) ? undefined : allocatedStorage,
      },
    };
  }
}

class AuroraEngine extends SqlEngine {
  constructor(
    family: SqlEngineFamily,
    private readonly options: AuroraServerlessOptions,
    private readonly engine: rds.IClusterEngine,
    private readonly logExports: string[],
  ) {
    super(family, true);
  }

  public _createDatabase(scope: Construct, settings: DatabaseSettings): CreatedDatabase {
    const why = 'aws-cdk-lib checks the capacity range when it synthesizes the cluster';
    checkConcrete(scope, 'engine.minCapacity', this.options.minCapacity, why);
    checkConcrete(scope, 'engine.maxCapacity', this.options.maxCapacity, why);
    checkConcrete(scope, 'engine.readers', this.options.readers, 'it decides how many instances are created');
    const minCapacity = this.options.minCapacity ?? 0.5;
    const maxCapacity = this.options.maxCapacity ?? Math.max(4, minCapacity);
    const readers = this.options.readers ?? 0;
    if (minCapacity === 0) {
      throw new ConfigurationError(scope, 'engine.minCapacity', minCapacity,
        'Auto-pause (0 ACU) never happens behind RDS Proxy, which keeps connections open; use 0.5 or more.');
    }
    checkRange(scope, 'engine.minCapacity', minCapacity, 0.5, 256, ' ACU');
    checkRange(scope, 'engine.maxCapacity', maxCapacity, Math.max(1, minCapacity), 256, ' ACU');
    for (const [prop, value] of [['engine.minCapacity', minCapacity], ['engine.maxCapacity', maxCapacity]] as const) {
      if (value % 0.5 !== 0) {
        throw new ConfigurationError(scope, prop, value, 'Use a multiple of 0.5 ACU.');
      }
    }
    checkRange(scope, 'engine.readers', readers, 0, 15);
    const port = databasePort(scope, this.family, this.options);
    const monitoring = monitoringInterval(scope, this.options);

    const adminSecret = newAdminSecret(scope, settings);
    const parameterGroup = new rds.ParameterGroup(scope, 'Parameters', {
      engine: this.engine,
      description: `Parameters of ${scope.node.path}`,
      parameters: databaseParameters(this.family, true),
    });
    const cluster = new rds.DatabaseCluster(scope, 'Cluster', {
      engine: this.engine,
      writer: rds.ClusterInstance.serverlessV2('Writer', { autoMinorVersionUpgrade: true }),
      readers: Array.from({ length: readers }, (_, i) =>
        rds.ClusterInstance.serverlessV2(`Reader${i + 1}`, { scaleWithWriter: true, autoMinorVersionUpgrade: true })),
      serverlessV2MinCapacity: minCapacity,
      serverlessV2MaxCapacity: maxCapacity,
      vpc: settings.vpc,
      vpcSubnets: settings.vpcSubnets,
      securityGroups: [settings.securityGroup],
      port,
      credentials: rds.Credentials.fromSecret(adminSecret),
      defaultDatabaseName: settings.databaseName,
      storageEncrypted: true,
      storageEncryptionKey: settings.encryptionKey,
      iamAuthentication: true,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      backup: { retention: BACKUP_RETENTION },
      copyTagsToSnapshot: true,
      cloudwatchLogsExports: this.logExports,
      parameterGroup,
      monitoringInterval: monitoring,
      monitoringRole: monitoringRole(scope, monitoring),
    });
    acknowledgeDatabaseChoices(cluster, this.family, monitoring !== undefined);
    if (this.family === SqlEngineFamily.MYSQL) {
      acknowledge(cluster, rule('RDS14', 'awsSolutions'),
        'Recovery is point-in-time restore from the automated backups. Backtrack can only be chosen when a cluster is '
        + 'created and bills every change record it keeps; set it on the cluster (api.database.cluster) if you need it.');
    }
    // as for an instance: a reference that carries the port as a number (SqlDatabase makes the proxy's target group
    // wait for the cluster's instances, which aws-cdk-lib does only for the cluster construct itself)
    const target = rds.DatabaseCluster.fromDatabaseClusterAttributes(scope, 'ProxyTarget', {
      clusterIdentifier: cluster.clusterIdentifier,
      clusterEndpointAddress: cluster.clusterEndpoint.hostname,
      port,
      securityGroups: [settings.securityGroup],
      engine: this.engine,
      clusterResourceIdentifier: cluster.clusterResourceIdentifier,
    });
    return {
      family: this.family,
      port,
      endpoint: cluster.clusterEndpoint.hostname,
      connections: databaseConnections(settings, port),
      resource: cluster,
      proxyTarget: rds.ProxyTarget.fromCluster(target),
      resourceId: cluster.clusterResourceIdentifier,
      adminSecret,
      rotationApplication: this.engine.singleUserRotationApplication,
      maxConnections: serverlessMaxConnections(this.family, minCapacity, maxCapacity),
      monitoring: { kind: 'cluster', dimensionsMap: { DBClusterIdentifier: cluster.clusterIdentifier }, serverless: true },
    };
  }
}
