// Minimal handler using this package (benchmark fixture).
import { connect } from '../src';

const db = connect();
export const handler = async () => (await db.query('select 1 as ok')).rows;
