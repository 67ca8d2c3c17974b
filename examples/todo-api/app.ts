/**
 * Synthesize with `npm run example:synth` from the repository root (no AWS credentials needed).
 */
import { App } from 'aws-cdk-lib';
import { TodoApiStack } from './stack';

const app = new App();
new TodoApiStack(app, 'TodoApi');
app.synth();
