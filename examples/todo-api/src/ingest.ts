import type { Context } from 'aws-lambda';
import { connect } from 'serverless-sql-api-runtime';

const db = connect();

/** An EventBridge Pipe delivers a batch of SQS messages; each body is `{ "title": "…" }`. */
interface PipeSqsMessage {
  readonly messageId: string;
  readonly body: string;
}

export const handler = async (batch: PipeSqsMessage[], context: Context) => {
  // One transaction for the batch: either every todo is written and the messages are deleted, or none is and the
  // pipe retries the batch (then the queue's redrive policy keeps messages that keep failing).
  await db.transaction(async tx => {
    for (const message of batch) {
      const { title } = JSON.parse(message.body) as { title?: string };
      if (!title) throw new Error(`message ${message.messageId} has no title`);
      await tx.query('insert into todos (title) values ($1)', [title]);
    }
  }, { context, retryOnSerializationFailure: true });
  return { written: batch.length };
};
