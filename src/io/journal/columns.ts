import type Database from 'better-sqlite3';

/**
 * Adds the columns a table lacks: a journal written by an older berth gains them
 * (NULL, or their default, in its existing rows) the first time a newer one opens it.
 */
export function addMissingColumns(db: Database.Database, table: string, columns: Record<string, string>): void {
  const present = new Set((db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => c.name));
  for (const [name, type] of Object.entries(columns)) {
    if (!present.has(name)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
  }
}
