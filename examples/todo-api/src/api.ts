import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { connect } from 'serverless-sql-api-runtime';

// Created once per sandbox: no socket and no token until the first query, then reused by warm invocations.
const db = connect();

interface Todo {
  id: number;
  title: string;
  done: boolean;
}

export const handler = async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyResultV2> => {
  const method = event.requestContext.http.method;
  const [, resource, id] = event.rawPath.split('/');
  if (resource !== 'todos') return json(404, { message: 'not found' });

  if (method === 'GET' && !id) {
    const { rows } = await db.query<Todo>('select id, title, done from todos order by id limit 100', [], { context });
    return json(200, rows);
  }
  if (method === 'GET') {
    const { rows } = await db.query<Todo>('select id, title, done from todos where id = $1', [Number(id)], { context });
    return rows.length ? json(200, rows[0]) : json(404, { message: `todo ${id} not found` });
  }
  if (method === 'POST' && !id) {
    const { title } = JSON.parse(event.body ?? '{}') as { title?: string };
    if (!title) return json(400, { message: 'title is required' });
    // a write: never replayed by the client; the caller retries if it wants to
    const { rows } = await db.query<Todo>('insert into todos (title) values ($1) returning id, title, done', [title], { context });
    return json(201, rows[0]);
  }
  if (method === 'PUT' && id) {
    // setting a value is idempotent: the client may retry it once on a fresh connection
    const { rowCount } = await db.query('update todos set done = true where id = $1', [Number(id)], { idempotent: true, context });
    return rowCount ? json(204, null) : json(404, { message: `todo ${id} not found` });
  }
  return json(405, { message: `${method} not allowed` });
};

function json(statusCode: number, body: unknown): APIGatewayProxyResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: body === null ? '' : JSON.stringify(body) };
}
