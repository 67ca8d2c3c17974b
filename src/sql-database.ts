import { Annotations, ArnFormat, Duration, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { ExistingDatabase } from './existing-database';
import { BoundMigrations, Migrations } from './migrations';
import { acknowledgeInlinePolicies } from './private/compliance';
import { DatabaseBootstrap } from './private/database-bootstrap';
import { checkAvailabilityZones, checkSameEnvironment } from './private/environment';
import { allowLogsToUse } from './private/log-group';
import { ConnectionConsumer } from './private/max-connections';
import { ADMIN_PASSWORD_EXCLUDED_CHARACTERS, ADMIN_USERNAME, proxyName, validateDatabaseName, validateDbUser } from './private/names';
import { validateSubnets } from './private/network';
import { checkDurationSeconds, checkInteger, checkRange, ConfigurationError } from './private/validation';
import { BoundDatabase, CreatedDatabase, DatabaseMonitoring, defaultPort, SqlEngine, SqlEngineFamily } from './sql-engine';

/**
 * RDS Proxy settings. IAM authentication (end to end: client → proxy → database) and TLS are always required and
 * cannot be turned off.
 *
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-connections.html
 */
export interface SqlProxyOptions {
  /**
   * How long a client waits for a database connection when the pool is at its maximum: 1 to 300 seconds (the
   * RDS API's current bound). A value longer than every function's timeout draws a synth warning, since Lambda
   * stops the function while it is still waiting.
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-connections.html#rds-proxy-connection-pooling-tuning.connectionborrowtimeout
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ConnectionPoolConfiguration.html
   * @default - one second less than the shortest timeout of the functions that use the proxy, at most 120 s (the
   * RDS default): a request that cannot get a pooled connection gets the proxy's error before Lambda stops it
   */
  readonly borrowTimeout?: Duration;

  /**
   * The largest pool the proxy opens, as a percentage (1–100) of the database's `max_connections`.
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-connections.html#rds-proxy-connection-pooling-tuning.maxconnectionspercent
   * @default 100
   */
  readonly maxConnectionsPercent?: number;

  /**
   * How many idle database connections the proxy keeps, as a percentage (0 to `maxConnectionsPercent`) of the
   * database's `max_connections`.
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-connections.html#rds-proxy-connection-pooling-tuning.maxidleconnectionspercent
   * @default - half of `maxConnectionsPercent`
   */
  readonly maxIdleConnectionsPercent?: number;

  /**
   * How long a client connection may stay idle before the proxy closes it, from 1 second to 8 hours. The runtime
   * package evicts connections idle for most of this bound before reuse.
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-connections.html#rds-proxy-connection-pooling-tuning.idleclienttimeout
   * @default Duration.minutes(30)
   */
  readonly idleClientTimeout?: Duration;

  /**
   * Log the text of SQL statements passing through the proxy. Only for debugging: statements may hold personal data.
   *
   * @default false
   */
  readonly debugLogging?: boolean;
}

/** Settings of a `SqlDatabase` other than its VPC (shared with `ServerlessSqlApiProps`). */
export interface SqlDatabaseOptions {
  /**
   * Subnets for the database and the proxy (and the functions of a `ServerlessSqlApi`); they must span at least two Availability Zones.
   *
   * @default - the VPC's isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The engine of the database to create. Not allowed together with `existingDatabase`.
   *
   * @default SqlEngine.postgres()
   */
  readonly engine?: SqlEngine;

  /**
   * Put an existing database behind the proxy instead of creating one.
   *
   * @default - a new database is created from `engine`
   */
  readonly existingDatabase?: ExistingDatabase;

  /**
   * The name of the application database.
   *
   * @default 'app'
   */
  readonly databaseName?: string;

  /**
   * The proxy's connection settings.
   *
   * @default - the defaults of each `SqlProxyOptions` field
   */
  readonly proxy?: SqlProxyOptions;

  /**
   * SQL migrations applied at deploy time, as the admin, before functions that depend on the database go live.
   *
   * @default - none
   */
  readonly migrations?: Migrations;

  /**
   * How often the admin secret of a database this construct creates is rotated (Secrets Manager single-user
   * rotation, by a function in the same subnets that reaches Secrets Manager through its VPC endpoint). Application
   * users have no password, so nothing else needs rotating. `Duration.days(0)` turns rotation off.
   *
   * @default Duration.days(30)
   */
  readonly adminSecretRotation?: Duration;

  /**
   * The KMS key that encrypts the database's storage and admin secret, and the log groups of the functions, the
   * pipes and the API. Its key policy must let CloudWatch Logs use it; that statement is added to a key created in
   * the app, and an imported key gets a warning.
   *
   * @default - a new customer managed key with automatic yearly rotation, kept when the stack is deleted (the
   *   database's final snapshot needs it)
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Create the VPC endpoints the deploy-time bootstrap needs from isolated subnets: Secrets Manager (interface) to
   * read the admin secret, and S3 (gateway, free) to answer CloudFormation. Turn off when the VPC already has them
   * (or reaches AWS through a NAT gateway).
   *
   * @default true
   */
  readonly bootstrapEndpoints?: boolean;
}

/** Properties of a `SqlDatabase`. */
export interface SqlDatabaseProps extends SqlDatabaseOptions {
  /** The VPC of the database and the proxy. */
  readonly vpc: ec2.IVpc;
}

/** What an application user may do in the application database. */
export enum DatabaseAccess {
  /** SELECT, INSERT, UPDATE, DELETE on every table (and the sequences they use). No DDL. */
  READ_WRITE = 'read-write',
  /** SELECT on every table. */
  READ_ONLY = 'read-only',
}

/** Options of `addUser()`. */
export interface DatabaseUserOptions {
  /**
   * What the user may do.
   *
   * @default DatabaseAccess.READ_WRITE
   */
  readonly access?: DatabaseAccess;
}

/**
 * A database reachable through an RDS Proxy with IAM authentication, as functions need to see it.
 * `SqlDatabase` implements it.
 */
export interface ISqlDatabase extends ec2.IConnectable {
  /** The wire protocol of the database. */
  readonly engineFamily: SqlEngineFamily;
  /** The port of the proxy. */
  readonly port: number;
  /** The name of the application database. */
  readonly databaseName: string;
  /** The endpoint (host name) of the proxy that functions connect to. */
  readonly proxyEndpoint: string;
  /** How long the proxy keeps an idle client connection open. */
  readonly idleClientTimeout: Duration;
  /** The VPC of the proxy. */
  readonly vpc: ec2.IVpc;
  /** The KMS key of the database, which also encrypts the log groups of the functions that use it. */
  readonly encryptionKey: kms.IKey;
  /** The subnets functions are placed in. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /**
   * How many database connections the proxy may hold at once (the database's `max_connections` times the proxy's
   * `maxConnectionsPercent`), where it can be told at synth time.
   */
  readonly connectionBudget?: number;
  /** Allow `grantee` to connect through the proxy as `dbUser` with an IAM token. */
  grantConnect(grantee: iam.IGrantable, dbUser: string): iam.Grant;
}

/**
 * A database (new or existing) behind an RDS Proxy that accepts only IAM-authenticated TLS connections and
 * authenticates to the database with IAM as well, so no application password exists anywhere.
 *
 * Security groups chain proxy → database on the engine port only; open the path to the proxy with
 * `connections.allowDefaultPortFrom(peer)` and grant callers with `grantConnect(grantee, dbUser)`.
 */
export class SqlDatabase extends Construct implements ISqlDatabase {
  /** The proxy in front of the database. */
  public readonly proxy: rds.DatabaseProxy;

  /** The endpoint (host name) of the proxy. */
  public readonly proxyEndpoint: string;

  /** The database instance, when this construct created an RDS instance. */
  public readonly instance?: rds.DatabaseInstance;

  /** The Aurora cluster, when this construct created one. */
  public readonly cluster?: rds.DatabaseCluster;

  /** The admin (master) secret of the database. Never granted to the application. */
  public readonly adminSecret: secretsmanager.ISecret;

  /** The wire protocol of the database. */
  public readonly engineFamily: SqlEngineFamily;

  /** The port of the proxy: the engine's default, which RDS Proxy always listens on. */
  public readonly port: number;

  /** The port the database itself listens on (reached only by the proxy and the deploy-time functions). */
  public readonly databasePort: number;

  /** The name of the application database. */
  public readonly databaseName: string;

  /** The VPC of the database and the proxy. */
  public readonly vpc: ec2.IVpc;

  /** The subnets of the database and the proxy. */
  public readonly vpcSubnets: ec2.SubnetSelection;

  /** The KMS key that encrypts the database, its admin secret and the log groups of the functions that use it. */
  public readonly encryptionKey: kms.IKey;

  /** Network access to the proxy: `allowDefaultPortFrom(peer)` opens the engine port. */
  public readonly connections: ec2.Connections;

  /** How long the proxy keeps an idle client connection open. */
  public readonly idleClientTimeout: Duration;

  /** How many database connections the proxy may hold at once, where it can be told at synth time. */
  public readonly connectionBudget?: number;

  private readonly consumers: ConnectionConsumer[] = [];
  private budgetBasis = '';

  /** The resource id (`db-…` or `cluster-…`) of the database, as `rds-db:connect` statements of the proxy name it. */
  public readonly databaseResourceId: string;

  /** The deploy-time bootstrap (users and migrations). Functions that serve traffic should depend on it. */
  public readonly bootstrap: IDependable;

  /** @internal */
  public readonly _databaseMonitoring: DatabaseMonitoring;
  private readonly proxyRole: iam.Role;
  /** The migrations, bound. @internal */
  public readonly _migrations?: BoundMigrations;

  private readonly users = new Map<string, DatabaseAccess>();
  private readonly usersTheProxyMayBe = new Set<string>();
  /** The timeouts, in seconds, of the functions that connect through the proxy. */
  private readonly functionTimeouts: number[] = [];

  constructor(scope: Construct, id: string, props: SqlDatabaseProps) {
    super(scope, id);

    if (props.engine && props.existingDatabase) {
      throw new ConfigurationError(this, 'engine', 'set together with existingDatabase',
        'Give either `engine` (to create a database) or `existingDatabase` (to use one), not both.');
    }
    this.databaseName = props.databaseName ?? 'app';
    validateProxyOptions(this, props.proxy ?? {});
    const rotation = props.adminSecretRotation ?? Duration.days(30);
    const rotationDays = rotation.isUnresolved() ? undefined : rotation.toDays({ integral: false });
    if (rotationDays !== undefined && rotationDays !== 0 && (!Number.isInteger(rotationDays) || rotationDays < 1 || rotationDays > 1000)) {
      throw new ConfigurationError(this, 'adminSecretRotation', rotation, 'Use a whole number of days from 1 to 1000, or Duration.days(0) for no rotation.');
    }

    this.vpc = props.vpc;
    this.vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    checkSameEnvironment(this, 'vpc', this.vpc, 'region');
    if (!(this.vpc instanceof ec2.Vpc)) checkAvailabilityZones(this, 'vpc.availabilityZones', this.vpc.availabilityZones);
    if (props.encryptionKey) checkSameEnvironment(this, 'encryptionKey', props.encryptionKey, 'region');
    validateSubnets(this, 'vpcSubnets', this.vpc, this.vpcSubnets);

    this.encryptionKey = props.encryptionKey ?? this.createKey();
    allowLogsToUse(this, this.encryptionKey);

    let bound: BoundDatabase;
    let created: CreatedDatabase | undefined;
    if (props.existingDatabase) {
      bound = props.existingDatabase._bind(this);
      this.adminSecret = props.existingDatabase.adminSecret;
    } else {
      const databaseSecurityGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
        vpc: this.vpc,
        description: 'Database: ingress only from the RDS Proxy and the deploy-time functions, on the database port',
        allowAllOutbound: false,
      });
      bound = created = (props.engine ?? SqlEngine.postgres())._createDatabase(this, {
        vpc: this.vpc,
        vpcSubnets: this.vpcSubnets,
        securityGroup: databaseSecurityGroup,
        databaseName: this.databaseName,
        adminUsername: ADMIN_USERNAME,
        encryptionKey: this.encryptionKey,
      });
      if (created.resource instanceof rds.DatabaseCluster) {
        this.cluster = created.resource;
      } else {
        this.instance = created.resource;
      }
      this.adminSecret = created.adminSecret;
    }
    this.engineFamily = bound.family;
    validateDatabaseName(this, 'databaseName', this.databaseName, this.engineFamily);
    this.port = defaultPort(bound.family);
    this.databasePort = bound.port;
    this.databaseResourceId = bound.resourceId;
    this._databaseMonitoring = bound.monitoring;

    this.proxyRole = new iam.Role(this, 'ProxyRole', {
      assumedBy: new iam.ServicePrincipal('rds.amazonaws.com'),
      description: 'RDS Proxy: IAM authentication to the database as the application users',
    });
    acknowledgeInlinePolicies(this.proxyRole);
    const proxySecurityGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
      vpc: this.vpc,
      description: 'RDS Proxy: ingress from granted functions, egress only to the database on the engine port',
      allowAllOutbound: false,
    });
    const proxyOptions = props.proxy ?? {};
    const maxConnectionsPercent = proxyOptions.maxConnectionsPercent ?? 100;
    this.idleClientTimeout = proxyOptions.idleClientTimeout ?? Duration.minutes(30);
    const maxConnections = bound.maxConnections;
    if (maxConnections !== undefined && !Token.isUnresolved(maxConnectionsPercent)) {
      this.connectionBudget = Math.floor(maxConnections * maxConnectionsPercent / 100);
      this.budgetBasis = `the database's max_connections ${maxConnections} times the proxy's maxConnectionsPercent ${maxConnectionsPercent}%`;
    }
    this.proxy = new rds.DatabaseProxy(this, 'Proxy', {
      // aws-cdk-lib names the proxy after its construct id ("Proxy"), which a second stack in the account repeats
      dbProxyName: proxyName(this),
      proxyTarget: bound.proxyTarget,
      vpc: this.vpc,
      vpcSubnets: this.vpcSubnets,
      securityGroups: [proxySecurityGroup],
      role: this.proxyRole,
      defaultAuthScheme: rds.DefaultAuthScheme.IAM_AUTH,
      iamAuth: true,
      requireTLS: true,
      borrowTimeout: proxyOptions.borrowTimeout ?? Duration.seconds(Lazy.number({ produce: () => this.defaultBorrowTimeout() })),
      maxConnectionsPercent,
      maxIdleConnectionsPercent: proxyOptions.maxIdleConnectionsPercent ?? Math.floor(maxConnectionsPercent / 2),
      idleClientTimeout: this.idleClientTimeout,
      debugLogging: proxyOptions.debugLogging ?? false,
    });

    this.node.addValidation({ validate: () => { this.warnAboutBorrowTimeout(proxyOptions.borrowTimeout); return []; } });
    // every function of the app that connects here is counted by then: routes, workers and hooks in any stack
    this.node.addValidation({ validate: () => { this.warnAboutConnectionBudget(); return []; } });

    // The proxy target opens proxy → database on the database's port (both security groups deny everything else).
    this.proxyEndpoint = this.proxy.endpoint;
    this.connections = new ec2.Connections({ securityGroups: [proxySecurityGroup], defaultPort: ec2.Port.tcp(this.port) });
    if (created) {
      // the target names the cluster or instance through a reference: registering it must wait for the database
      this.proxy.node.children.filter(child => child instanceof rds.CfnDBProxyTargetGroup)
        .forEach(targetGroup => targetGroup.node.addDependency(created.resource));
    }

    this._migrations = props.migrations?._bind(this);
    const bootstrap = new DatabaseBootstrap(this, 'Bootstrap', {
      vpc: this.vpc,
      vpcSubnets: this.vpcSubnets,
      engine: this.engineFamily,
      host: bound.endpoint,
      port: this.databasePort,
      databaseName: this.databaseName,
      adminSecret: this.adminSecret,
      databaseConnections: bound.connections,
      users: () => this._users(),
      migrations: this._migrations,
      createEndpoints: props.bootstrapEndpoints ?? true,
      encryptionKey: this.encryptionKey,
    });
    this.bootstrap = bootstrap.resource;

    if (created && rotationDays !== 0) {
      const rotationSecurityGroup = new ec2.SecurityGroup(this, 'AdminSecretRotationSecurityGroup', {
        vpc: this.vpc,
        description: 'Admin secret rotation: the database port, and HTTPS to the Secrets Manager endpoint',
        allowAllOutbound: false,
      });
      if (bootstrap.secretsEndpoint) {
        // ingress on the endpoint's group, and the only HTTPS egress of the rotation function
        bootstrap.secretsEndpoint.connections.allowDefaultPortFrom(rotationSecurityGroup, 'Admin secret rotation to Secrets Manager');
      } else {
        rotationSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to the Secrets Manager endpoint of the VPC');
      }
      // what addRotationSingleUser() does, but with the database's port as a number in the security group rule
      new secretsmanager.SecretRotation(this, 'AdminSecretRotation', {
        application: created.rotationApplication,
        secret: created.resource.secret!,
        target: { connections: bound.connections },
        vpc: this.vpc,
        vpcSubnets: this.vpcSubnets,
        securityGroup: rotationSecurityGroup,
        automaticallyAfter: rotation,
        excludeCharacters: ADMIN_PASSWORD_EXCLUDED_CHARACTERS,
      });
    }
  }

  /** A customer managed key with yearly rotation, whose grants only AWS services may create for the account's principals. */
  private createKey(): kms.Key {
    const key = new kms.Key(this, 'Key', {
      description: `Encrypts the database, its admin secret and the logs of ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // RDS and Secrets Manager create grants on behalf of their callers; nobody else needs to (AWS Control Tower CT.KMS.PR.3)
    key.addToResourcePolicy(new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }));
    return key;
  }

  /** The users the bootstrap creates, with their access. @internal */
  public _users(): Array<{ name: string; access: string }> {
    return [...this.users.entries()].map(([name, access]) => ({ name, access }));
  }

  /**
   * Have the deploy-time bootstrap create `name` as a database user that logs in with IAM only (no password
   * exists), with `access` to every table of the application database, present and future. Idempotent; users are
   * never dropped. Grant principals the right to connect as it with `grantConnect`.
   */
  public addUser(name: string, options: DatabaseUserOptions = {}): void {
    validateDbUser(this, 'user', name, this.engineFamily);
    const access = options.access ?? DatabaseAccess.READ_WRITE;
    const existing = this.users.get(name);
    if (existing !== undefined && existing !== access) {
      throw new ConfigurationError(this, 'user', name, `It was already added with ${existing} access; add each user once.`);
    }
    this.users.set(name, access);
  }

  /**
   * Records the timeout of a function that connects through the proxy: the default borrow timeout follows the
   * shortest, and an explicit one longer than the longest draws a warning.
   *
   * @internal
   */
  public _addFunctionTimeout(timeout: Duration): void {
    if (!timeout.isUnresolved()) this.functionTimeouts.push(timeout.toSeconds());
  }

  /**
   * Records a function that connects through the proxy and the concurrency it can reach (undefined: no cap), for the
   * connection-budget warning, which sums them.
   *
   * @internal
   */
  public _countConnections(consumer: ConnectionConsumer): void {
    this.consumers.push(consumer);
  }

  private warnAboutConnectionBudget(): void {
    const budget = this.connectionBudget;
    if (budget === undefined || Token.isUnresolved(budget)) return;
    const capped = this.consumers.filter(consumer => consumer.concurrency !== undefined);
    const total = capped.reduce((sum, consumer) => sum + consumer.concurrency!, 0);
    if (total <= budget) return;
    const uncapped = this.consumers.length - capped.length;
    const parts = capped.map(consumer => `${consumer.path} ${consumer.concurrency} (${consumer.basis})`).join(', ');
    Annotations.of(this).addWarningV2('serverless-sql-api:connectionBudget',
      `the functions that connect through this proxy reach up to ${total} concurrent executions together (${parts})`
      + (uncapped > 0 ? `, and ${uncapped} more without a concurrency cap are not counted` : '')
      + `; each execution can hold a proxy client connection, but the proxy may open at most ${budget} database `
      + `connections (${this.budgetBasis}). RDS Proxy multiplexes idle clients, yet concurrent transactions beyond `
      + `${budget} wait up to the borrow timeout: size the database up, raise maxConnectionsPercent, or lower the `
      + 'concurrency (reservedConcurrentExecutions, the provisioned maximum).');
  }

  private defaultBorrowTimeout(): number {
    if (this.functionTimeouts.length === 0) return DEFAULT_BORROW_TIMEOUT_SECONDS;
    return Math.max(1, Math.min(DEFAULT_BORROW_TIMEOUT_SECONDS, Math.min(...this.functionTimeouts) - 1));
  }

  private warnAboutBorrowTimeout(borrowTimeout: Duration | undefined): void {
    if (borrowTimeout === undefined || borrowTimeout.isUnresolved() || this.functionTimeouts.length === 0) return;
    const borrow = borrowTimeout.toSeconds();
    const longest = Math.max(...this.functionTimeouts);
    if (borrow <= longest) return;
    Annotations.of(this).addWarningV2('serverless-sql-api:borrowTimeout',
      `proxy.borrowTimeout is ${borrow} s, but the longest timeout of the functions that connect through this proxy is `
      + `${longest} s: when the pool is full, Lambda stops a function while it still waits for a connection, and the `
      + `caller sees a timeout instead of the proxy's error. Set borrowTimeout below ${longest} s, or leave it unset.`);
  }

  /**
   * A metric of the proxy, in the `AWS/RDS` namespace with the `ProxyName` dimension (the proxy's metrics summed
   * over the nodes that serve it with the `Sum` statistic).
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.monitoring.html
   * @param metricName for example `ClientConnections`
   * @default - Sum over 1 minute
   */
  public metricProxy(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return rdsMetric(metricName, { ProxyName: this.proxy.dbProxyName }, 'Sum', Duration.minutes(1), props);
  }

  /**
   * The client connections open to the proxy (`ClientConnections`). Every warm function environment holds one.
   *
   * @default - Sum over 1 minute
   */
  public metricProxyClientConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricProxy('ClientConnections', props);
  }

  /**
   * The connections the proxy holds to the database (`DatabaseConnections`), at most `connectionBudget`.
   *
   * @default - Sum over 1 minute
   */
  public metricProxyDatabaseConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricProxy('DatabaseConnections', props);
  }

  /**
   * Database connections pinned to one client session (`DatabaseConnectionsCurrentlySessionPinned`): the proxy
   * cannot share them until the client disconnects, so multiplexing stops for them. Session state (SET, temporary
   * tables, prepared statements by name, locks) pins.
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
   * @default - Sum over 1 minute
   */
  public metricProxyPinnedConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricProxy('DatabaseConnectionsCurrentlySessionPinned', props);
  }

  /**
   * How long clients wait for a database connection from the pool (`DatabaseConnectionsBorrowLatency`, in
   * microseconds); it grows when the pool is at its maximum.
   *
   * @default - Average over 1 minute
   */
  public metricProxyBorrowLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricProxy('DatabaseConnectionsBorrowLatency', { statistic: 'Average', ...props });
  }

  /**
   * A metric of the database (instance or cluster) in the `AWS/RDS` namespace, with the `DBInstanceIdentifier` or
   * `DBClusterIdentifier` dimension.
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html
   * @default - Average over 5 minutes
   */
  public metricDatabase(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return rdsMetric(metricName, this._databaseMonitoring.dimensionsMap, 'Average', Duration.minutes(5), props);
  }

  /** The database's CPU utilization in percent. @default - Average over 5 minutes */
  public metricCpuUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricDatabase('CPUUtilization', props);
  }

  /** The database's freeable memory in bytes. @default - Average over 5 minutes */
  public metricFreeableMemory(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricDatabase('FreeableMemory', props);
  }

  /** Connections open on the database itself (the proxy's and the deploy-time functions'). @default - Average over 5 minutes */
  public metricDatabaseConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricDatabase('DatabaseConnections', props);
  }

  /**
   * The free storage of an RDS instance in bytes. Aurora storage grows by itself and has no such metric: on a
   * cluster this throws.
   *
   * @default - Minimum over 5 minutes
   */
  public metricFreeStorageSpace(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.requireKind('instance', 'metricFreeStorageSpace', 'Aurora storage grows by itself; watch metricAcuUtilization() instead.');
    return this.metricDatabase('FreeStorageSpace', { statistic: 'Minimum', ...props });
  }

  /**
   * The capacity an Aurora Serverless v2 cluster uses, as a percentage of its `maxCapacity` (`ACUUtilization`). On
   * an RDS instance this throws.
   *
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.setting-capacity.html
   * @default - Average over 5 minutes
   */
  public metricAcuUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.requireKind('cluster', 'metricAcuUtilization', 'An RDS instance has a fixed class; watch metricCpuUtilization() and metricFreeableMemory().');
    return this.metricDatabase('ACUUtilization', props);
  }

  /**
   * The capacity of an Aurora Serverless v2 cluster in ACUs (`ServerlessDatabaseCapacity`). On an RDS instance
   * this throws.
   *
   * @default - Average over 5 minutes
   */
  public metricServerlessDatabaseCapacity(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.requireKind('cluster', 'metricServerlessDatabaseCapacity', 'An RDS instance has a fixed class; watch metricCpuUtilization().');
    return this.metricDatabase('ServerlessDatabaseCapacity', props);
  }

  private requireKind(kind: 'instance' | 'cluster', method: string, fix: string): void {
    if (this._databaseMonitoring.kind !== kind) {
      throw new ConfigurationError(this, method, `an ${this._databaseMonitoring.kind === 'instance' ? 'RDS instance' : 'Aurora cluster'}`,
        `This metric exists only for ${kind === 'instance' ? 'RDS instances' : 'Aurora clusters'}. ${fix}`);
    }
  }

  /**
   * Allow `grantee` to connect through the proxy as the database user `dbUser` with an IAM token:
   * `rds-db:connect` on `arn:…:rds-db:REGION:ACCOUNT:dbuser:prx-…/dbUser` for the grantee, and on the database's
   * resource id for the proxy's own role (end-to-end IAM). The user must exist in the database and be enabled
   * for IAM authentication: add it with `addUser` first, so that the deploy-time bootstrap creates it.
   */
  public grantConnect(grantee: iam.IGrantable, dbUser: string): iam.Grant {
    validateDbUser(this, 'dbUser', dbUser, this.engineFamily);
    if (!Token.isUnresolved(dbUser) && !this.users.has(dbUser)) {
      throw new ConfigurationError(this, 'dbUser', dbUser,
        `The bootstrap creates only the users added with addUser (${[...this.users.keys()].join(', ') || 'none yet'}), so a login as this one `
        + `would fail: call addUser('${dbUser}', { access }) before granting it.`);
    }
    if (!this.usersTheProxyMayBe.has(dbUser)) {
      this.usersTheProxyMayBe.add(dbUser);
      this.proxyRole.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['rds-db:connect'],
        resources: [Stack.of(this).formatArn({
          service: 'rds-db',
          resource: 'dbuser',
          resourceName: `${this.databaseResourceId}/${dbUser}`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        })],
      }));
    }
    return this.proxy.grantConnect(grantee, dbUser);
  }
}

function rdsMetric(metricName: string, dimensionsMap: { [name: string]: string }, statistic: string, period: Duration,
  props: cloudwatch.MetricOptions | undefined): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: 'AWS/RDS', metricName, dimensionsMap, statistic, period, ...props });
}

/** The RDS default ConnectionBorrowTimeout. */
const DEFAULT_BORROW_TIMEOUT_SECONDS = 120;

function validateProxyOptions(scope: Construct, options: SqlProxyOptions) {
  const borrow = options.borrowTimeout;
  if (borrow && !borrow.isUnresolved() && borrow.toSeconds({ integral: false }) === 0) {
    // older API references read 0 as "no limit"; the current one bounds the value to 0–300 without saying what 0 does
    throw new ConfigurationError(scope, 'proxy.borrowTimeout', borrow,
      'Give a whole number of seconds from 1 to 300: with no limit a client waits past any function\'s timeout.');
  }
  // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ConnectionPoolConfiguration.html: between 0 and 300
  checkDurationSeconds(scope, 'proxy.borrowTimeout', borrow, 1, 300);
  checkDurationSeconds(scope, 'proxy.idleClientTimeout', options.idleClientTimeout, 1, 28800);
  checkInteger(scope, 'proxy.maxConnectionsPercent', options.maxConnectionsPercent);
  checkRange(scope, 'proxy.maxConnectionsPercent', options.maxConnectionsPercent, 1, 100, '%');
  checkInteger(scope, 'proxy.maxIdleConnectionsPercent', options.maxIdleConnectionsPercent);
  const max = options.maxConnectionsPercent ?? 100;
  checkRange(scope, 'proxy.maxIdleConnectionsPercent', options.maxIdleConnectionsPercent, 0,
    Token.isUnresolved(max) ? 100 : max, '%', 'it may not exceed maxConnectionsPercent');
}
