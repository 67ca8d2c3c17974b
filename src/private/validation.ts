import { Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Error thrown for an invalid construct configuration. The message always names the prop, the bad value and the
 * fix, so that the synth output alone tells the user what to change.
 */
export class ConfigurationError extends Error {
  constructor(scope: IConstruct, prop: string, value: unknown, fix: string) {
    super(`${scope.node.path}: invalid ${prop} (${describe(value)}). ${fix}`);
    this.name = 'ConfigurationError';
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Duration) return value.toHumanString();
  if (value === undefined) return 'undefined';
  return String(value);
}

/** Throws unless `value` (when concrete) is a number within [min, max]. Unresolved tokens pass. */
export function checkRange(scope: IConstruct, prop: string, value: number | undefined, min: number, max: number, unit = '', why = '') {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigurationError(scope, prop, value, `Use a value from ${min} to ${max}${unit}${why ? ` (${why})` : ''}.`);
  }
}

export function checkInteger(scope: IConstruct, prop: string, value: number | undefined) {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value)) {
    throw new ConfigurationError(scope, prop, value, 'Use a whole number.');
  }
}

/** Throws unless `duration` (when concrete) lies within [min, max] seconds. */
export function checkDurationSeconds(scope: IConstruct, prop: string, duration: Duration | undefined, min: number, max: number) {
  if (duration === undefined || duration.isUnresolved()) return;
  const seconds = duration.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    throw new ConfigurationError(scope, prop, duration, `Use a whole number of seconds from ${min} to ${max} (${Duration.seconds(max).toHumanString()}).`);
  }
}

/**
 * Throws when `value` is an unresolved token where synth needs the value itself: to decide what to create, or
 * because aws-cdk-lib checks it when it synthesizes. `why` completes "Give <prop> as a number, not a token: ".
 */
export function checkConcrete(scope: IConstruct, prop: string, value: number | Duration | undefined, why: string) {
  const isDuration = value instanceof Duration;
  if (value === undefined || !(isDuration ? value.isUnresolved() : Token.isUnresolved(value))) return;
  throw new ConfigurationError(scope, prop, 'an unresolved token', `Give ${prop} as a ${isDuration ? 'duration' : 'number'}, not a token: ${why}.`);
}

/** Throws unless `value` (when concrete) matches `pattern`. */
export function checkPattern(scope: IConstruct, prop: string, value: string | undefined, pattern: RegExp, fix: string) {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!pattern.test(value)) {
    throw new ConfigurationError(scope, prop, value, fix);
  }
}
