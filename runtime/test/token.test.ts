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

  // hosts, ports, users, Regions, credentials and clocks mixed so that every value of each list meets several of the others
  const hosts = ['api.proxy-abc123.eu-west-1.rds.amazonaws.com', 'db.cluster-ro-xyz.us-gov-west-1.rds.amazonaws.com', 'p.proxy-q.cn-north-1.rds.amazonaws.com.cn', 'localhost', '10.0.12.7'];
  const ports = [5432, 3306, 1, 65535, 6543];
  const users = ['app_user', 'user+name@x', 'a b', 'ünïcödé', "o'brien", 'x/y=z&w', '*~!()-._', 'UPPER', '%41', 'a'.repeat(63)];
  const regions = ['eu-west-1', 'us-gov-west-1', 'cn-north-1', 'ap-southeast-2', 'il-central-1', 'us-east-1'];
  const sessions = [undefined, 'IQoJb3JpZ2luX2VjE/+=session', 'FwoGZXIvYXdzE' + 'x'.repeat(600) + '+/='];
  const clocks = ['2026-11-23T12:34:56Z', '2024-02-29T23:59:59.999Z', '2026-12-31T23:59:59.500Z', '2027-01-01T00:00:00Z', '2038-01-19T03:14:08Z', '2001-09-09T01:46:40.001Z', '2026-03-29T01:00:00Z'];
  const matrix = Array.from({ length: 70 }, (_, i) => ({
    hostname: hosts[i % hosts.length], port: ports[(i * 3) % ports.length], username: users[i % users.length],
    region: regions[(i * 5) % regions.length], sessionToken: sessions[(i * 7) % sessions.length], now: clocks[i % clocks.length],
  }));

  test.each(matrix)('matches @aws-sdk/rds-signer for $username@$hostname:$port in $region at $now', async ({ hostname, port, username, region, sessionToken, now }) => {
    jest.useFakeTimers({ now: new Date(now), doNotFake: ['nextTick', 'setImmediate'] });
    const creds = { ...credentials, sessionToken };
    const ours = await signAuthToken({ hostname, port, username, region, credentials: creds });
    const oracle = await new Signer({ hostname, port, username, region, credentials: creds }).getAuthToken();
    expect(ours).toBe(oracle);
  });

  test('an explicit signing date is honoured', async () => {
    const token = await signAuthToken({
      hostname: 'h', port: 5432, username: 'u', region: 'eu-west-1', credentials, signingDate: new Date('2030-01-02T03:04:05Z'),
    });
    expect(token).toContain('X-Amz-Date=20300102T030405Z');
    expect(token).toContain('X-Amz-Credential=AKIDEXAMPLE%2F20300102%2Feu-west-1%2Frds-db%2Faws4_request');
  });
});
