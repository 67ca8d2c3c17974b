import { Annotations, ArnFormat, Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { alarmActionsFor } from './private/alarm-actions';
import { acknowledge, acknowledgeInlinePolicies, managedPolicyFinding, rule } from './private/compliance';
import { confinedServicePrincipal } from './private/service-principal';
import { checkInteger, checkRange, ConfigurationError } from './private/validation';

/** Options shared by the gradual deployments. */
export interface GradualDeploymentOptions {
  /** The share of traffic moved to the new version at each step, in percent (1–99). */
  readonly percent: number;

  /** The time between steps, in whole minutes (1 minute to 48 hours). */
  readonly interval: Duration;

  /**
   * More alarms that roll the deployment back when they fire (the errors and throttles of the new version are
   * always watched).
   *
   * @default - none
   */
  readonly alarms?: cloudwatch.IAlarm[];

  /**
   * Before any traffic shifts, a hook function in the VPC connects through RDS Proxy as the application user (IAM
   * token, TLS) and runs `select 1`; a failure stops the deployment.
   *
   * @default true
   */
  readonly preTrafficCheck?: boolean;

  /**
   * Create a VPC interface endpoint for CodeDeploy so that the hook, in isolated subnets, can report its result.
   * Turn off when the VPC already has one with private DNS, or reaches CodeDeploy through a NAT gateway.
   *
   * @default true
   */
  readonly codeDeployEndpoint?: boolean;
}

/** @internal */
export interface DeploymentTarget {
  readonly alias: lambda.Alias;
  readonly version: lambda.IVersion;
  readonly provisioned: boolean;
  /** Creates the pre-traffic hook function (in the VPC, with database access) and returns its alias. */
  readonly createHook: (scope: Construct) => { alias: lambda.IFunction; connections: ec2.Connections };
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
}

/**
 * How a new version receives traffic.
 */
export abstract class Deployment {
  /** The alias moves to the new version at once when the stack updates. Default. */
  public static allAtOnce(): Deployment {
    return new AllAtOnce();
  }

  /**
   * CodeDeploy shifts `percent` of the traffic to the new version, waits `interval`, then shifts the rest; it rolls
   * back automatically on a failed deployment or a firing alarm.
   */
  public static canary(options: GradualDeploymentOptions): Deployment {
    return new Gradual('canary', options);
  }

  /** CodeDeploy shifts `percent` more of the traffic every `interval`, with the same rollbacks as `canary`. */
  public static linear(options: GradualDeploymentOptions): Deployment {
    return new Gradual('linear', options);
  }

  /** @internal */
  public abstract _bind(scope: Construct, target: DeploymentTarget): codedeploy.LambdaDeploymentGroup | undefined;
}

class AllAtOnce extends Deployment {
  public _bind(): undefined {
    return undefined;
  }
}

const MAX_INTERVAL_MINUTES = 2880;
/** Lambda needs a few minutes to provision concurrency for a new version. */
const PROVISIONING_MINUTES = 5;

class Gradual extends Deployment {
  constructor(private readonly kind: 'canary' | 'linear', private readonly options: GradualDeploymentOptions) {
    super();
  }

  public _bind(scope: Construct, target: DeploymentTarget): codedeploy.LambdaDeploymentGroup {
    const { percent, interval } = this.options;
    checkInteger(scope, 'deployment.percent', percent);
    checkRange(scope, 'deployment.percent', percent, 1, 99, '%');
    if (!interval.isUnresolved()) {
      const minutes = interval.toMinutes({ integral: false });
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_INTERVAL_MINUTES) {
        throw new ConfigurationError(scope, 'deployment.interval', interval,
          `Use a whole number of minutes from 1 to ${MAX_INTERVAL_MINUTES} (48 hours).`);
      }
      if (target.provisioned && minutes < PROVISIONING_MINUTES) {
        Annotations.of(scope).addWarningV2('serverless-sql-api:provisionedGradualDeployment',
          `deployment.interval is ${interval.toHumanString()} with provisioned concurrency: during a shift Lambda splits the alias's `
          + 'provisioned concurrency between the versions by weight, and provisioning the new version\'s share takes minutes; '
          + `with a shorter interval requests may meet cold starts. Use an interval of ${PROVISIONING_MINUTES} minutes or more.`);
      }
    }

    // Lambda publishes per-version metrics under FunctionName plus Resource "name:version".
    const versionMetric = (metricName: string) => new cloudwatch.Metric({
      namespace: 'AWS/Lambda',
      metricName,
      dimensionsMap: {
        FunctionName: target.version.lambda.functionName,
        Resource: `${target.version.lambda.functionName}:${target.version.version}`,
      },
      period: Duration.minutes(1),
      statistic: 'Sum',
    });
    const rollbackAlarms = (['Errors', 'Throttles'] as const).map(metricName => {
      const alarm = new cloudwatch.Alarm(scope, `NewVersion${metricName}`, {
        metric: versionMetric(metricName),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `${metricName} of the version being deployed: rolls the deployment back`,
      });
      const actions = alarmActionsFor(scope);
      if (actions.length > 0) {
        alarm.addAlarmAction(...actions);
      } else {
        acknowledge(alarm, rule('CloudWatchAlarmAction', 'hipaa', 'nist'),
          'CodeDeploy watches this alarm during a deployment and rolls back when it fires; it needs no action of its own.');
      }
      return alarm;
    });
    const alarms: cloudwatch.IAlarm[] = [...rollbackAlarms, ...this.options.alarms ?? []];

    const trafficRouting = this.kind === 'canary'
      ? new codedeploy.TimeBasedCanaryTrafficRouting({ interval, percentage: percent })
      : new codedeploy.TimeBasedLinearTrafficRouting({ interval, percentage: percent });
    // https://docs.aws.amazon.com/codedeploy/latest/userguide/security_confused_deputy.html: CodeDeploy assumes the
    // role for a deployment group of this account, arn:…:deploymentgroup:APPLICATION/GROUP
    let group: codedeploy.LambdaDeploymentGroup | undefined = undefined;
    const applicationName = Lazy.string({ produce: () => group!.application.applicationName });
    const role = new iam.Role(scope, 'DeploymentRole', {
      assumedBy: confinedServicePrincipal(scope, 'codedeploy.amazonaws.com', {
        service: 'codedeploy', resource: 'deploymentgroup', resourceName: `${applicationName}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
      description: `CodeDeploy: shifts the traffic of ${target.alias.node.path} between versions`,
    });
    group = new codedeploy.LambdaDeploymentGroup(scope, 'Deployment', {
      role,
      alias: target.alias,
      deploymentConfig: new codedeploy.LambdaDeploymentConfig(scope, 'DeploymentConfig', { trafficRouting }),
      alarms,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    acknowledge(group.role, managedPolicyFinding('service-role/AWSCodeDeployRoleForLambdaLimited'),
      'The AWS-maintained policy made for CodeDeploy\'s Lambda deployments, in its limited form: it may shift this '
      + 'account\'s aliases and read alarms; the hook it invokes is granted separately.');
    acknowledgeInlinePolicies(group.role);

    if (this.options.preTrafficCheck ?? true) {
      const hook = target.createHook(scope);
      group.addPreHook(hook.alias);
      if (this.options.codeDeployEndpoint ?? true) {
        // from the hook's side: both rules land in the hook's stack, whichever stack holds the endpoint
        hook.connections.allowToDefaultPort(codeDeployEndpoint(scope, target.vpc, target.vpcSubnets), 'Pre-traffic hook to CodeDeploy');
      }
    }
    return group;
  }
}

/** The CodeDeploy endpoint of each VPC, shared by every pre-traffic hook in it. */
const codeDeployEndpoints = new WeakMap<ec2.IVpc, ec2.InterfaceVpcEndpoint>();

/**
 * The one CodeDeploy interface endpoint of `vpc`. Its private DNS associates a private hosted zone for the service's
 * public name with the VPC, so a second endpoint with private DNS for the same service in the same VPC fails to
 * create: every hook of the VPC (the API's, its routes', its workers', in any stack) shares one. The first is made
 * where the first hook is when that is the VPC's stack (as before routes existed, so its logical id stays), else in
 * the VPC's stack, which every function in the VPC already depends on.
 *
 * @see https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html (PrivateDnsEnabled)
 */
function codeDeployEndpoint(scope: Construct, vpc: ec2.IVpc, subnets: ec2.SubnetSelection): ec2.InterfaceVpcEndpoint {
  let endpoint = codeDeployEndpoints.get(vpc);
  if (!endpoint) {
    const [endpointScope, id] = Stack.of(scope) === Stack.of(vpc) ? [scope, 'CodeDeployEndpoint'] : [vpc, 'CodeDeployEndpoint'];
    endpoint = new ec2.InterfaceVpcEndpoint(endpointScope, id, {
      vpc,
      service: ec2.InterfaceVpcEndpointAwsService.CODEDEPLOY,
      subnets,
      privateDnsEnabled: true,
      open: false,
    });
    codeDeployEndpoints.set(vpc, endpoint);
  }
  return endpoint;
}
