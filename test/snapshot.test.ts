/**
 * Deliberate snapshots of two whole templates (asset hashes stripped), and the logical ids of the stateful
 * resources, which must never change: CloudFormation replaces a resource whose logical id changes, and for the
 * database that means a new, empty database.
 *
 * A changed snapshot is reviewed and rewritten on purpose: `npx jest test/snapshot.test.ts --ci=false -u`.
 */
import * as fs from 'fs';
import { Template } from 'aws-cdk-lib/assertions';
import { STACKS } from './compliance/checks';
import { existingInstance, importedVpc, synth } from './util';
import { SqlEngine } from '../src';

const stackNamed = (name: string) => STACKS.find(([stackName]) => stackName === name)![1];

/** The template with what changes on every build of an asset replaced by a placeholder. */
function withoutHashes(template: unknown): unknown {
  const text = JSON.stringify(template)
    .replace(/[0-9a-f]{64}(\.zip|\.json)?/g, '<asset hash>$1')
    .replace(/CurrentVersion[0-9A-F]{8}[0-9a-f]{32}/g, 'CurrentVersion<code hash>');
  return JSON.parse(text);
}

describe('snapshots', () => {
  test('the default stack', () => {
    const template = JSON.parse(fs.readFileSync(stackNamed('default')().templatePath, 'utf8'));
    expect(withoutHashes(template)).toMatchSnapshot();
  });

  test('the stack with every feature (Aurora MySQL, provisioned concurrency, canary, function URL, migrations, three workers)', () => {
    const template = JSON.parse(fs.readFileSync(stackNamed('Aurora MySQL, every feature')().templatePath, 'utf8'));
    expect(withoutHashes(template)).toMatchSnapshot();
  });
});

describe('the logical ids of stateful resources stay the same across library versions', () => {
  const idsOf = (template: Template, types: string[]) =>
    Object.fromEntries(types.map(type => [type, Object.keys(template.findResources(type)).sort()]));
  const STATEFUL = ['AWS::RDS::DBInstance', 'AWS::RDS::DBCluster', 'AWS::SecretsManager::Secret', 'AWS::KMS::Key', 'AWS::RDS::DBProxy'];

  test('RDS for PostgreSQL (the default)', () => {
    expect(idsOf(synth().template, STATEFUL)).toEqual({
      'AWS::RDS::DBInstance': ['ApiDatabaseInstance2C24905F'],
      'AWS::RDS::DBCluster': [],
      'AWS::SecretsManager::Secret': ['ApiDatabaseAdminSecretC42838A6'],
      'AWS::KMS::Key': ['ApiDatabaseKeyE772CA77'],
      'AWS::RDS::DBProxy': ['ApiDatabaseProxy38DA802D'],
    });
  });

  test('RDS for MySQL', () => {
    expect(idsOf(synth({ engine: SqlEngine.mysql() }).template, STATEFUL)).toEqual({
      'AWS::RDS::DBInstance': ['ApiDatabaseInstance2C24905F'],
      'AWS::RDS::DBCluster': [],
      'AWS::SecretsManager::Secret': ['ApiDatabaseAdminSecretC42838A6'],
      'AWS::KMS::Key': ['ApiDatabaseKeyE772CA77'],
      'AWS::RDS::DBProxy': ['ApiDatabaseProxy38DA802D'],
    });
  });

  test.each([
    ['Aurora PostgreSQL', SqlEngine.auroraPostgres({ readers: 1 })],
    ['Aurora MySQL', SqlEngine.auroraMysql({ readers: 1 })],
  ])('%s, with its writer and readers', (_name, engine) => {
    const template = synth({ engine }).template;
    expect(idsOf(template, STATEFUL)).toEqual({
      'AWS::RDS::DBInstance': ['ApiDatabaseClusterReader18790EFE0', 'ApiDatabaseClusterWriterCECE5127'],
      'AWS::RDS::DBCluster': ['ApiDatabaseClusterF571150E'],
      'AWS::SecretsManager::Secret': ['ApiDatabaseAdminSecretC42838A6'],
      'AWS::KMS::Key': ['ApiDatabaseKeyE772CA77'],
      'AWS::RDS::DBProxy': ['ApiDatabaseProxy38DA802D'],
    });
  });

  test('an existing database: only the key and the proxy are created', () => {
    const template = synth({}, stack => ({ vpc: importedVpc(stack), existingDatabase: existingInstance(stack) })).template;
    expect(idsOf(template, STATEFUL)).toEqual({
      'AWS::RDS::DBInstance': [],
      'AWS::RDS::DBCluster': [],
      'AWS::SecretsManager::Secret': [],
      'AWS::KMS::Key': ['ApiDatabaseKeyE772CA77'],
      'AWS::RDS::DBProxy': ['ApiDatabaseProxy38DA802D'],
    });
  });
});
