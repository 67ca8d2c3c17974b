// src/api.ts of the README's "Use" example (see bin/app.ts): keep it in step with README.md.
import { connect, InvocationContext } from 'serverless-sql-api-runtime';
const db = connect();
export const handler = async (_event: unknown, context: InvocationContext) =>
  ({ statusCode: 200, body: JSON.stringify((await db.query('select now() as now', [], { context })).rows) });
