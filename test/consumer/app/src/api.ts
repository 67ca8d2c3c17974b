// src/api.ts of the README's "Minimal example" (see bin/app.ts): keep it in step with README.md.
import { connect, InvocationContext } from 'serverless-sql-api-runtime';

const db = connect();

export async function handler(_event: unknown, context: InvocationContext) {
  const { rows } = await db.query('select now() as now', [], { context });
  return { statusCode: 200, body: JSON.stringify(rows) };
}
