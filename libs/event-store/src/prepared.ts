import type { QueryConfig, QueryResult, QueryResultRow } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';

/**
 * A statement on a hot path, prepared once per connection under its name and afterwards only bound
 * and executed: Postgres parses and plans it once per connection instead of on every call (the plan
 * is most of the cost of a short statement). Its parameters are scalars or arrays whose plan does
 * not depend on their values (equalities on unique indexes, inserts), so the plan cached after the
 * first executions is the one a fresh plan would be.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

export function preparedStatement(name: string, text: string): PreparedStatement {
  return { name, text };
}

interface PgQueryable {
  query<Row extends QueryResultRow>(config: QueryConfig): Promise<QueryResult<Row>>;
}

/**
 * Runs a prepared statement on the DataSource's pool (any connection) or on a QueryRunner's
 * connection (inside its transaction). Errors are pg's own (`code`, `constraint`), as TypeORM's
 * QueryFailedError carries them.
 */
export async function queryPrepared<Row extends QueryResultRow>(
  on: DataSource | QueryRunner,
  statement: PreparedStatement,
  values: unknown[],
): Promise<Row[]> {
  const config: QueryConfig = { name: statement.name, text: statement.text, values };
  if ('createQueryRunner' in on) {
    const pool = (on.driver as unknown as { master: PgQueryable }).master;
    return (await pool.query<Row>(config)).rows;
  }
  const connection = (await on.connect()) as PgQueryable;
  return (await connection.query<Row>(config)).rows;
}
