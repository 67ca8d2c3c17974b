/**
 * CodeDeploy pre-traffic hook: before any traffic shifts to the new version, open a real connection through
 * RDS Proxy as the application user (IAM token, TLS) and run a query. A missing grant, security group rule,
 * database user or TLS setting fails the deployment before users see it.
 *
 * Bundled by the library's build into assets/pre-traffic-hook; configured through the same SQL_* environment
 * contract as the API functions.
 */
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { connect } from 'serverless-sql-api-runtime';

const db = connect();
const codedeploy = new CodeDeployClient({});

interface HookEvent {
  readonly DeploymentId: string;
  readonly LifecycleEventHookExecutionId: string;
}

export const handler = async (event: HookEvent, context: { getRemainingTimeInMillis(): number }) => {
  let status: 'Succeeded' | 'Failed' = 'Succeeded';
  try {
    const { rows } = await db.query('select 1 as ok', [], { context });
    if (Number((rows[0] as { ok: unknown }).ok) !== 1) throw new Error(`unexpected answer ${JSON.stringify(rows)}`);
    console.log(JSON.stringify({ check: 'database', status, user: process.env.SQL_USER, host: process.env.SQL_HOST }));
  } catch (error) {
    status = 'Failed';
    console.error(JSON.stringify({ check: 'database', status, user: process.env.SQL_USER, error: String(error) }));
  } finally {
    await db.close();
  }
  await codedeploy.send(new PutLifecycleEventHookExecutionStatusCommand({
    deploymentId: event.DeploymentId,
    lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
    status,
  }));
  return { status };
};
