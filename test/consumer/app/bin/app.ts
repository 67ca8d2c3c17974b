// A new CDK app with the README's "Minimal example" pasted in, as test/consumer/run.sh installs and synthesizes it.
// The lines between the markers mirror README.md: keep them in step with it (run.sh swaps the engine for MySQL).
import { App, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ApiHandler, ServerlessSqlApi, SqlEngine } from 'cdk-serverless-sql-api';

class ConsumerStack extends Stack {
  public readonly api: ServerlessSqlApi;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    // --- README.md "Minimal example" ---
    const api = new ServerlessSqlApi(this, 'Api', {
      handler: ApiHandler.nodejs({ entry: 'src/api.ts' }),
      engine: SqlEngine.postgres(), // or .mysql(), .auroraPostgres(), .auroraMysql()
    });
    // --- end of README.md ---
    this.api = api;
  }
}

const app = new App();
new ConsumerStack(app, 'ConsumerApp');
app.synth();
