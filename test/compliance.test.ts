/**
 * Compliance, in the test suite: cdk-nag (AwsSolutions, Serverless, HIPAA Security, NIST 800-53 rev 5) and the AWS
 * Control Tower proactive controls (cfn-guard) on the default stack, the example app and stacks with the other
 * features on. The README's security section reports what these measure.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  acknowledgementsUnder, check, controlOf, exceptionFor, Finding, GUARD_EXCEPTIONS, README_TABLE_END, README_TABLE_START,
  renderTable, StackReport, STACKS,
} from './compliance/checks';

const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const list = (findings: Finding[]) => findings.map(f => `${f.rule} at ${f.resource || '(no resource)'}`).join('\n');

const reports = new Map<string, StackReport>();
beforeAll(() => {
  for (const [name, make] of STACKS) reports.set(name, check(make()));
}, 180_000);

describe.each(STACKS.map(([name]) => name))('%s', name => {
  const report = () => reports.get(name)!;

  test('cdk-nag: no finding left in any pack', () => {
    for (const result of report().nag) {
      expect(`${result.pack}:\n${list(result.findings)}`).toEqual(`${result.pack}:\n`);
    }
  });

  test('every acknowledgement has a reason, sits on the resource it concerns (or at most two levels above) and covers a finding', () => {
    const acknowledgements = acknowledgementsUnder(report().stack.scope);
    const acknowledged = report().nag.flatMap(result => result.acknowledged);
    const covers = (scopePath: string, finding: Finding) => finding.resource === scopePath || finding.resource.startsWith(`${scopePath}/`);
    for (const acknowledgement of acknowledgements) {
      expect(acknowledgement.reason.length).toBeGreaterThan(60);
      const covered = acknowledged.filter(f => f.rule === acknowledgement.rule && covers(acknowledgement.path, f));
      expect([acknowledgement.path, acknowledgement.rule, covered.length > 0]).toEqual([acknowledgement.path, acknowledgement.rule, true]);
    }
    for (const finding of acknowledged) {
      const depths = acknowledgements.filter(a => a.rule === finding.rule && covers(a.path, finding))
        .map(a => finding.resource.split('/').length - a.path.split('/').length);
      expect([finding.rule, finding.resource, Math.min(...depths) <= 2]).toEqual([finding.rule, finding.resource, true]);
    }
  });

  test('cfn-guard (Control Tower): every failure is a documented exception', () => {
    const unexplained = report().guard.failures.filter(failure => !exceptionFor(failure));
    expect(list(unexplained)).toEqual('');
  });
});

describe('documentation', () => {
  test('each exception names the control its rule implements, is needed by at least one stack, and has a README row', () => {
    const failures = [...reports.values()].flatMap(report => report.guard.failures);
    for (const exception of GUARD_EXCEPTIONS) {
      expect([exception.rule, controlOf(exception.rule)]).toEqual([exception.rule, exception.control]);
      expect([exception.rule, failures.some(failure => exceptionFor(failure) === exception)]).toEqual([exception.rule, true]);
    }
    const rows = README.split('\n').filter(line => /^\| CT\.[A-Z0-9]+\.PR\.\d+ \|/.test(line))
      .map(line => line.split('|').slice(1, 3).map(cell => cell.trim().replace(/`/g, '')));
    expect(rows.sort()).toEqual(GUARD_EXCEPTIONS.map(exception => [exception.control, exception.rule]).sort());
  });

  test('the README reports the counts these checks measure (regenerate with `npx projen compliance:report`)', () => {
    const start = README.indexOf(README_TABLE_START) + README_TABLE_START.length;
    const table = README.slice(start, README.indexOf(README_TABLE_END)).trim();
    expect(table).toEqual(renderTable(STACKS.map(([name]) => reports.get(name)!)));
  });
});
