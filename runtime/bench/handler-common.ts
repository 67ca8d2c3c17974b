// The same handler written the common way: pg plus @aws-sdk/rds-signer (benchmark baseline).
import { Signer } from '@aws-sdk/rds-signer';
import { Client } from 'pg';

const signer = new Signer({ hostname: process.env.SQL_HOST!, port: Number(process.env.SQL_PORT), username: process.env.SQL_USER!, region: process.env.AWS_REGION });
let client: Client | undefined;
export const handler = async () => {
  if (!client) {
    client = new Client({ host: process.env.SQL_HOST, port: Number(process.env.SQL_PORT), user: process.env.SQL_USER, database: process.env.SQL_DATABASE, password: () => signer.getAuthToken(), ssl: true });
    await client.connect();
  }
  return (await client.query('select 1 as ok')).rows;
};
