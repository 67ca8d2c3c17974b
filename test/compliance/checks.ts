/**
 * Runs the compliance checks this library is held to on synthesized stacks: the cdk-nag packs AwsSolutions,
 * Serverless, HIPAA Security and NIST 800-53 rev 5, and the AWS Control Tower proactive controls through cfn-guard.
 * Used by `compliance.test.ts` (which asserts) and `report.ts` (which prints the README's table).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, HIPAASecurityChecks, IApplyRule, NagPack, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { TodoApiStack } from '../../examples/todo-api/stack';
import {
  ColdStart, Deployment, FrontDoor, Migrations, PipeSource, ServerlessSqlApi, SqlEngine, StreamStartingPosition,
} from '../../src';
import { nodeHandler } from '../util';

/** A synthesized stack and the part of it the checks hold to account. */
export interface CheckedStack {
  readonly name: string;
  readonly stack: Stack;
  /** What cdk-nag checks: the whole stack, or only the library's construct where the stack holds test fixtures. */
  readonly scope: IConstruct;
  readonly templatePath: string;
}

const ENV = { account: '111111111111', region: 'eu-west-1' };

function synthesize(name: string, build: (app: App) => { stack: Stack; scope?: IConstruct }): CheckedStack {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'compliance-')) });
  const { stack, scope } = build(app);
  const assembly = app.synth();
  return { name, stack, scope: scope ?? stack, templatePath: assembly.getStackByName(stack.stackName).templateFullPath };
}

/** The stacks the checks run on, by the name the README's table gives them. */
export const STACKS: ReadonlyArray<readonly [string, () => CheckedStack]> = [
  ['default', () => synthesize('default', app => {
    const stack = new Stack(app, 'Default', { env: ENV });
    new ServerlessSqlApi(stack, 'Api', { handler: nodeHandler() });
    return { stack };
  })],
  ['example app', () => synthesize('example app', app => ({ stack: new TodoApiStack(app, 'TodoApi') }))],
  ['Aurora MySQL, every feature', () => synthesize('Aurora MySQL, every feature', app => {
    const stack = new Stack(app, 'EveryFeature', { env: ENV });
    const api = new ServerlessSqlApi(stack, 'Api', {
      handler: nodeHandler(),
      engine: SqlEngine.auroraMysql({ readers: 1, maxCapacity: 8, monitoringInterval: Duration.seconds(30) }),
      coldStart: ColdStart.provisioned({ min: 1, max: 5 }),
      deployment: Deployment.canary({ percent: 10, interval: Duration.minutes(5) }),
      frontDoor: FrontDoor.functionUrl({ authType: lambda.FunctionUrlAuthType.NONE }),
      migrations: Migrations.fromDirectory(path.join(__dirname, '..', '..', 'examples', 'todo-api', 'db', 'migrations')),
      // with actions, the alarm-action rules pass on every alarm the library makes
      monitoring: {
        alarmActions: [new cloudwatchActions.SnsAction(new sns.Topic(stack, 'Pager', {
          enforceSSL: true, masterKey: kms.Alias.fromAliasName(stack, 'SnsKey', 'alias/aws/sns'),
        }))],
      },
    });
    // the sources are fixtures, outside the library's construct; cdk-nag checks the construct only
    const failed = new sqs.Queue(stack, 'EventsDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
    });
    const events = new sqs.Queue(stack, 'Events', {
      encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, deadLetterQueue: { queue: failed, maxReceiveCount: 3 },
    });
    api.addWorker('FromQueue', { handler: nodeHandler(), source: PipeSource.sqs(events) });
    api.addWorker('FromKinesis', {
      handler: nodeHandler(),
      source: PipeSource.kinesis(new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED }),
        { startingPosition: StreamStartingPosition.TRIM_HORIZON }),
    });
    const table = new dynamodb.Table(stack, 'Table', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      stream: dynamodb.StreamViewType.NEW_IMAGE,
    });
    api.addWorker('FromTable', { handler: nodeHandler(), source: PipeSource.dynamoDbStream(table, { startingPosition: StreamStartingPosition.LATEST }) });
    return { stack, scope: api };
  })],
  ['RDS for MySQL, public HTTP API', () => synthesize('RDS for MySQL, public HTTP API', app => {
    const stack = new Stack(app, 'PublicMysql', { env: ENV });
    const api = new ServerlessSqlApi(stack, 'Api', {
      handler: nodeHandler(),
      engine: SqlEngine.mysql(),
      frontDoor: FrontDoor.httpApi({ defaultAuthorizer: new apigwv2.HttpNoneAuthorizer() }),
      reservedConcurrentExecutions: 100,
    });
    // a route with a function of its own, public like the API's default route
    api.addRoute('POST /orders', nodeHandler(), { reservedConcurrentExecutions: 20, memorySize: 1024 });
    return { stack };
  })],
];

/** A finding: a rule one resource does not meet. */
export interface Finding {
  readonly rule: string;
  /** The construct path (cdk-nag) or logical id (cfn-guard) of the resource; empty when the rule names none. */
  readonly resource: string;
}

/** What one cdk-nag pack reports on one stack. */
export interface NagResult {
  readonly pack: string;
  /** How many rules the pack evaluated. */
  readonly rules: number;
  /** What the pack reports, as a user running it sees it. */
  readonly findings: Finding[];
  /** The findings that acknowledgements cover (the pack run again with acknowledgements ignored, minus `findings`). */
  readonly acknowledged: Finding[];
}

export const NAG_PACKS: ReadonlyArray<readonly [string, () => NagPack]> = [
  ['AwsSolutions', () => new AwsSolutionsChecks()],
  ['Serverless', () => new ServerlessChecks()],
  ['HIPAA Security', () => new HIPAASecurityChecks()],
  ['NIST 800-53 rev 5', () => new NIST80053R5Checks()],
];

function nagFindings(pack: NagPack, scope: IConstruct, onRule?: (ruleId: string) => void): Finding[] {
  const hooks = pack as unknown as { readPackName: string; applyRule(params: IApplyRule): void };
  const applyRule = hooks.applyRule.bind(pack);
  hooks.applyRule = params => {
    onRule?.(`${hooks.readPackName}-${params.ruleSuffixOverride ?? params.rule.name}`);
    applyRule(params);
  };
  return pack.validateScope(scope).violations.flatMap(violation =>
    violation.violatingResources.map(resource => ({ rule: violation.ruleName, resource: resource.constructPath ?? '' })));
}

export function runNag(packName: string, makePack: () => NagPack, scope: IConstruct): NagResult {
  const rules = new Set<string>();
  const findings = nagFindings(makePack(), scope, rule => rules.add(rule));
  const blind = makePack();
  (blind as unknown as { isAcknowledged(): boolean }).isAcknowledged = () => false;
  const all = nagFindings(blind, scope);
  const key = (f: Finding) => `${f.rule}@${f.resource}`;
  const reported = new Set(findings.map(key));
  return { pack: packName, rules: rules.size, findings, acknowledged: all.filter(f => !reported.has(key(f))) };
}

/** An acknowledgement recorded on a construct. */
export interface Acknowledgement {
  readonly path: string;
  readonly rule: string;
  readonly reason: string;
}

/** Every acknowledgement recorded under `scope` (the prefix `Validations.acknowledge()` adds is removed). */
export function acknowledgementsUnder(scope: IConstruct): Acknowledgement[] {
  return scope.node.findAll().flatMap(construct => construct.node.metadata
    .filter(entry => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap(entry => Object.entries(entry.data as Record<string, string>).map(([rule, reason]) => ({
      path: construct.node.path, rule: rule.replace(/^annotation::/i, ''), reason,
    }))));
}

/** A Control Tower control that fails on purpose, documented in the README's table of exceptions. */
export interface GuardException {
  /** The control's id, for example `CT.LAMBDA.PR.3`. */
  readonly control: string;
  /** The guard rule that implements it. */
  readonly rule: string;
  /** The logical ids it may fail on; undefined when the rule reports no resource. */
  readonly resources?: RegExp;
}

/** The documented exceptions; the README's table holds the same controls, with why each is accepted. */
export const GUARD_EXCEPTIONS: readonly GuardException[] = [
  { control: 'CT.LAMBDA.PR.3', rule: 'lambda_inside_vpc_check', resources: /^(CustomVpcRestrictDefaultSGCustomResourceProviderHandler|AWS679f53fac002430cb0da5b7982bd2287)/ },
  { control: 'CT.LAMBDA.PR.2', rule: 'lambda_function_public_access_prohibited_check', resources: /HttpApiDefaultRouteIntegrationPermission|Route[A-Za-z0-9]*RouteIntegrationPermission|Aliasinvokefunction/ },
  { control: 'CT.LAMBDA.PR.5', rule: 'lambda_function_url_auth_check', resources: /AliasFunctionUrl/ },
  { control: 'CT.APIGATEWAY.PR.5', rule: 'api_gw_v2_authorization_type_configured_check', resources: /HttpApiDefaultRoute[0-9A-F]{8}$|Route[A-Za-z0-9]*Route[0-9A-F]{8}$/ },
  { control: 'CT.SQS.PR.1', rule: 'sqs_dlq_check', resources: /DeadLetterQueue|TodosDlq/ },
  { control: 'CT.RDS.PR.1', rule: 'rds_instance_multi_az_support_check', resources: /DatabaseInstance/ },
  { control: 'CT.RDS.PR.2', rule: 'rds_instance_enhanced_monitoring_enabled_check', resources: /DatabaseInstance/ },
  { control: 'CT.RDS.PR.14', rule: 'rds_instance_logging_enabled_check' },
  { control: 'CT.RDS.PR.25', rule: 'rds_cluster_logging_enabled_check' },
  { control: 'CT.CLOUDWATCH.PR.1', rule: 'cloudwatch_alarm_action_check', resources: /NewVersion(Errors|Throttles)|Monitoring[A-Za-z]+[0-9A-F]{8}$/ },
];

/** What cfn-guard reports on one template. */
export interface GuardResult {
  readonly rules: number;
  readonly failures: Finding[];
}

export function runGuard(templatePath: string): GuardResult {
  const validator = new CfnGuardValidator();
  const report = validator.validate({ templatePaths: [templatePath] });
  return {
    rules: validator.ruleIds!.length,
    failures: report.violations.flatMap(violation => violation.violatingResources.map(resource => ({
      rule: violation.ruleName, resource: resource.resourceLogicalId ?? '',
    }))),
  };
}

/** The exception that covers a guard failure, if any. */
export function exceptionFor(failure: Finding): GuardException | undefined {
  return GUARD_EXCEPTIONS.find(exception => exception.rule === failure.rule
    && (exception.resources ? exception.resources.test(failure.resource) : failure.resource === ''));
}

const GUARD_RULES = path.join(path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules', 'control-tower', 'cfn-guard');

/** The Control Tower control a guard rule implements, read from the rule files shipped with the validator. */
export function controlOf(rule: string): string | undefined {
  for (const service of fs.readdirSync(GUARD_RULES)) {
    for (const file of fs.readdirSync(path.join(GUARD_RULES, service))) {
      const text = fs.readFileSync(path.join(GUARD_RULES, service, file), 'utf8');
      if (new RegExp(`^rule ${rule}\\b`, 'm').test(text)) return /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/.exec(text)?.[1];
    }
  }
  return undefined;
}

/** Everything measured on one stack. */
export interface StackReport {
  readonly stack: CheckedStack;
  readonly nag: NagResult[];
  readonly guard: GuardResult;
}

export function check(stack: CheckedStack): StackReport {
  return {
    stack,
    nag: NAG_PACKS.map(([name, make]) => runNag(name, make, stack.scope)),
    guard: runGuard(stack.templatePath),
  };
}

export const README_TABLE_START = '<!-- compliance-counts:start -->';
export const README_TABLE_END = '<!-- compliance-counts:end -->';

/** The README's table of counts: per stack and tool, findings left / findings acknowledged (or documented exceptions). */
export function renderTable(reports: StackReport[]): string {
  const tools = [...NAG_PACKS.map(([name]) => name), 'Control Tower (cfn-guard)'];
  const rules = [...reports[0].nag.map(result => result.rules), reports[0].guard.rules];
  const lines = [
    `| | ${tools.join(' | ')} |`,
    `| --- |${tools.map(() => ' --- |').join('')}`,
    `| rules run | ${rules.join(' | ')} |`,
    ...reports.map(report => `| ${report.stack.name}: findings / acknowledged | ${[
      ...report.nag.map(result => `${result.findings.length} / ${result.acknowledged.length}`),
      `${report.guard.failures.filter(f => !exceptionFor(f)).length} / ${report.guard.failures.length}`,
    ].join(' | ')} |`),
  ];
  return lines.join('\n');
}
