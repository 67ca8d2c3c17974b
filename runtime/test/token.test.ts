import { Signer } from '@aws-sdk/rds-signer';
import { signAuthToken } from '../src';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

describe('IAM authentication token', () => {
  afterEach(() => jest.useRealTimers());

  test.each([
    ['proxy endpoint, session credentials', 'api.proxy-abc123.eu-west-1.rds.amazonaws.com', 5432, 'app_user', 'eu-west-1', { ...credentials, sessionToken: 'IQoJb3JpZ2luX2VjE/+=session' }],
    ['MySQL port, long-term credentials', 'db.cluster-xyz.us-east-1.rds.amazonaws.com', 3306, 'report_reader', 'us-east-1', credentials],
    ['user name that needs escaping', 'localhost', 6543, 'user+name@x', 'ap-southeast-2', credentials],
  ])('is byte-for-byte the token @aws-sdk/rds-signer makes (%s)', async (_case, hostname, port, username, region, creds) => {
    // GIVEN a fixed clock
    jest.useFakeTimers({ now: new Date('2026-11-23T12:34:56Z'), doNotFake: ['nextTick', 'setImmediate'] });
    // WHEN
    const ours = await signAuthToken({ hostname, port, username, region, credentials: creds });
    const oracle = await new Signer({ hostname, port, username, region, credentials: creds }).getAuthToken();
    // THEN
    expect(ours).toBe(oracle);
    expect(ours).toMatch(new RegExp(`^${hostname.replace(/\./g, '\\.')}:${port}/\\?Action=connect&DBUser=`));
    expect(ours).toContain('X-Amz-Expires=900');
    expect(ours).toContain('X-Amz-Date=20261123T123456Z');
  });

  test('an explicit signing date is honoured', async () => {
    const token = await signAuthToken({
      hostname: 'h', port: 5432, username: 'u', region: 'eu-west-1', credentials, signingDate: new Date('2030-01-02T03:04:05Z'),
    });
    expect(token).toContain('X-Amz-Date=20300102T030405Z');
    expect(token).toContain('X-Amz-Credential=AKIDEXAMPLE%2F20300102%2Feu-west-1%2Frds-db%2Faws4_request');
  });
});
