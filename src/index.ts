export * from './api-handler';
export * from './existing-database';
export * from './front-door';
export * from './serverless-sql-api';
export * from './sql-database';
export * from './sql-engine';
export * from './sql-function';
