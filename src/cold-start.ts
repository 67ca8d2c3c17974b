import { Annotations, Duration, Size, Token } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { checkConcrete, checkInteger, checkRange, ConfigurationError } from './private/validation';

/** Which statistic of provisioned concurrency utilization autoscaling tracks. */
export enum UtilizationStatistic {
  /** The average over each minute: smooth, scales late on bursts (the default of Lambda's predefined metric). */
  AVERAGE = 'Average',
  /** The maximum within each minute: scales out on short bursts that an average hides. */
  MAXIMUM = 'Maximum',
}

/** A scheduled change of the provisioned concurrency range (for example before a known daily peak). */
export interface ProvisionedConcurrencySchedule {
  /** A name for the scheduled action, unique within the function. */
  readonly name: string;
  /** When the action runs. */
  readonly schedule: appscaling.Schedule;
  /**
   * The new minimum.
   *
   * @default - unchanged
   */
  readonly min?: number;
  /**
   * The new maximum.
   *
   * @default - unchanged
   */
  readonly max?: number;
}

/** Options for `ColdStart.provisioned()`. */
export interface ProvisionedConcurrencyOptions {
  /** Provisioned concurrent executions kept initialized on the alias (at least 1). */
  readonly min: number;

  /**
   * Upper bound for autoscaling; equal to `min` for a fixed amount.
   *
   * @default - `min` (no autoscaling)
   */
  readonly max?: number;

  /**
   * Target utilization of the provisioned concurrency, from 0.1 to 0.9.
   *
   * @see https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html#managing-provisioned-concurrency
   * @default 0.7
   */
  readonly utilizationTarget?: number;

  /**
   * The utilization statistic autoscaling tracks.
   *
   * @default UtilizationStatistic.AVERAGE
   */
  readonly utilizationStatistic?: UtilizationStatistic;

  /**
   * Scheduled changes of the range.
   *
   * @default - none
   */
  readonly schedules?: ProvisionedConcurrencySchedule[];
}

/** @internal */
export interface ColdStartTarget {
  readonly runtime: lambda.Runtime;
  /** Whether the handler can use SnapStart: its runtime supports it, or it is a container image. */
  readonly snapStartSupported: boolean;
  readonly reservedConcurrentExecutions?: number;
  readonly ephemeralStorageSize?: Size;
}

/**
 * How the function meets cold starts: on demand (default), SnapStart, or provisioned concurrency. Each is a
 * deliberate trade of latency against cost; invalid combinations fail at synth.
 */
export abstract class ColdStart {
  /** No preparation: a new sandbox initializes on its first request. Pay per use only. */
  public static onDemand(): ColdStart {
    return new OnDemand();
  }

  /**
   * SnapStart on published versions: initialization runs once per version and is restored from a snapshot.
   * Only for runtimes that support it (Java 11+, Python 3.12+, .NET 8+) and container images (`ApiHandler.fromImageAsset()`,
   * `fromImage()`, Node.js images included); not for Node.js zip functions.
   *
   * @see https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html
   */
  public static snapStart(): ColdStart {
    return new SnapStart();
  }

  /**
   * Provisioned concurrency on the alias, optionally autoscaled between `min` and `max` on utilization.
   *
   * @see https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html
   */
  public static provisioned(options: ProvisionedConcurrencyOptions): ColdStart {
    return new Provisioned(options);
  }

  /** The most concurrent executions this choice keeps provisioned, if any. */
  public abstract readonly maxProvisioned?: number;

  /** @internal */
  public abstract _validate(scope: Construct, target: ColdStartTarget): void;

  /** @internal */
  public _snapStart(): lambda.SnapStartConf | undefined {
    return undefined;
  }

  /** @internal */
  public _provisionedConcurrency(): number | undefined {
    return undefined;
  }

  /** @internal */
  public _bindAlias(_scope: Construct, _alias: lambda.Alias): void {}
}

class OnDemand extends ColdStart {
  public readonly maxProvisioned = undefined;
  public _validate(): void {}
}

const SNAPSTART_MAX_EPHEMERAL_MIB = 512;

class SnapStart extends ColdStart {
  public readonly maxProvisioned = undefined;

  public _validate(scope: Construct, target: ColdStartTarget): void {
    if (!target.snapStartSupported) {
      throw new ConfigurationError(scope, 'coldStart', `ColdStart.snapStart() with ${target.runtime.name}`,
        `SnapStart supports Java 11+, Python 3.12+ and .NET 8+ zip functions and container images, not ${target.runtime.name} `
        + 'from a zip; use ColdStart.provisioned({ min }) to keep sandboxes initialized, ApiHandler.fromImageAsset() for a '
        + 'container image, or ApiHandler.fromCode() with a supported runtime.');
    }
    const ephemeral = target.ephemeralStorageSize;
    if (ephemeral && !Token.isUnresolved(ephemeral.toMebibytes()) && ephemeral.toMebibytes() > SNAPSTART_MAX_EPHEMERAL_MIB) {
      throw new ConfigurationError(scope, 'ephemeralStorageSize', `${ephemeral.toMebibytes()} MiB with ColdStart.snapStart()`,
        `SnapStart allows at most ${SNAPSTART_MAX_EPHEMERAL_MIB} MiB of ephemeral storage; lower it or use ColdStart.provisioned().`);
    }
  }

  public _snapStart() {
    return lambda.SnapStartConf.ON_PUBLISHED_VERSIONS;
  }
}

class Provisioned extends ColdStart {
  public readonly maxProvisioned: number;
  private readonly min: number;

  constructor(private readonly options: ProvisionedConcurrencyOptions) {
    super();
    this.min = options.min;
    this.maxProvisioned = options.max ?? options.min;
  }

  public _validate(scope: Construct, target: ColdStartTarget): void {
    const { min, utilizationTarget } = this.options;
    const max = this.maxProvisioned;
    checkConcrete(scope, 'coldStart.min', min, 'aws-cdk-lib checks the alias\'s provisioned concurrency when it synthesizes it');
    checkInteger(scope, 'coldStart.min', min);
    checkRange(scope, 'coldStart.min', min, 1, 1_000_000, '', 'provisioned concurrency needs at least 1; use ColdStart.onDemand() for none');
    checkInteger(scope, 'coldStart.max', max);
    if (!Token.isUnresolved(min) && !Token.isUnresolved(max) && max < min) {
      throw new ConfigurationError(scope, 'coldStart.max', max, `Use a maximum of at least min (${min}).`);
    }
    checkRange(scope, 'coldStart.utilizationTarget', utilizationTarget, 0.1, 0.9);
    const reserved = target.reservedConcurrentExecutions;
    if (reserved !== undefined && !Token.isUnresolved(reserved) && !Token.isUnresolved(max) && max > reserved) {
      throw new ConfigurationError(scope, 'coldStart', `provisioned up to ${max} with reservedConcurrentExecutions ${reserved}`,
        'Provisioned concurrency cannot exceed the reserved concurrency; raise reservedConcurrentExecutions or lower min/max.');
    }
    for (const schedule of this.options.schedules ?? []) {
      checkInteger(scope, `coldStart.schedules[${schedule.name}].min`, schedule.min);
      checkInteger(scope, `coldStart.schedules[${schedule.name}].max`, schedule.max);
      if (schedule.min === undefined && schedule.max === undefined) {
        throw new ConfigurationError(scope, `coldStart.schedules[${schedule.name}]`, 'no min and no max',
          'A scheduled action must change min, max or both.');
      }
      if (schedule.min !== undefined && schedule.max !== undefined && schedule.max < schedule.min) {
        throw new ConfigurationError(scope, `coldStart.schedules[${schedule.name}].max`, schedule.max, `Use a maximum of at least ${schedule.min}.`);
      }
    }
    if (target.snapStartSupported) {
      Annotations.of(scope).addInfo(`${target.runtime.name} supports SnapStart, which removes most cold-start latency without paying for idle concurrency.`);
    }
  }

  public _provisionedConcurrency(): number {
    return this.min;
  }

  public _bindAlias(scope: Construct, alias: lambda.Alias): void {
    const max = this.maxProvisioned;
    if (max === this.min && !this.options.schedules?.length) return;
    const target = new appscaling.ScalableTarget(scope, 'ProvisionedConcurrency', {
      serviceNamespace: appscaling.ServiceNamespace.LAMBDA,
      scalableDimension: 'lambda:function:ProvisionedConcurrency',
      resourceId: `function:${alias.version.lambda.functionName}:${alias.aliasName}`,
      minCapacity: this.min,
      maxCapacity: max,
    });
    target.node.addDependency(alias);
    const statistic = this.options.utilizationStatistic ?? UtilizationStatistic.AVERAGE;
    target.scaleToTrackMetric('Utilization', {
      targetValue: this.options.utilizationTarget ?? 0.7,
      ...(statistic === UtilizationStatistic.AVERAGE
        ? { predefinedMetric: appscaling.PredefinedMetric.LAMBDA_PROVISIONED_CONCURRENCY_UTILIZATION }
        : {
          customMetric: new cloudwatch.Metric({
            namespace: 'AWS/Lambda',
            metricName: 'ProvisionedConcurrencyUtilization',
            dimensionsMap: { FunctionName: alias.version.lambda.functionName, Resource: `${alias.version.lambda.functionName}:${alias.aliasName}` },
            statistic: 'Maximum',
            period: Duration.minutes(1),
          }),
        }),
    });
    for (const schedule of this.options.schedules ?? []) {
      target.scaleOnSchedule(schedule.name, { schedule: schedule.schedule, minCapacity: schedule.min, maxCapacity: schedule.max });
    }
  }
}
