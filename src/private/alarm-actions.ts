import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { IConstruct } from 'constructs';

/** The alarm actions a construct gives every alarm the library creates under it (monitoring.alarmActions). */
const registry = new WeakMap<IConstruct, cloudwatch.IAlarmAction[]>();

export function setAlarmActions(scope: IConstruct, actions: cloudwatch.IAlarmAction[]): void {
  registry.set(scope, actions);
}

/** The actions registered on the nearest enclosing construct, or none. */
export function alarmActionsFor(scope: IConstruct): cloudwatch.IAlarmAction[] {
  for (const construct of [...scope.node.scopes].reverse()) {
    const actions = registry.get(construct);
    if (actions) return actions;
  }
  return [];
}
