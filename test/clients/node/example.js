// Bulk upsert from Node.js with better-sqlite3 and upsert_into.
//
//   cd test/clients/node && npm install        (better-sqlite3 12, Node 20+)
//   node example.js [DBFILE]                   (default: in memory)
//   UPSERT_EXT=/path/to/upsert node example.js
//
// Seeds 5000 rows, then upserts 10000 (ids 1..10000, half of them
// existing) with one prepared INSERT INTO up VALUES(?,?,?) inside one
// transaction, prints upsert_into_stats('up') and checks the table.
'use strict';
const path = require('path');
const Database = require('better-sqlite3');

const ext = process.env.UPSERT_EXT ||
  path.join(__dirname, '..', '..', '..', 'dist', 'upsert');
const N = Number(process.env.ROWS || 10000);

const db = new Database(process.argv[2] || ':memory:');
try {
  // The path without its suffix: SQLite adds .so, .dylib or .dll.
  db.loadExtension(ext);
} catch (e) {
  console.error(`example.js: cannot load the upsert_into extension from ${ext}: ` +
    `${e.message}\n  build it with \`make\` (dist/upsert.so) and pass its path, ` +
    'absolute or relative to the working directory, without the suffix');
  process.exit(1);
}
console.log(`better-sqlite3 ${require('better-sqlite3/package.json').version}, ` +
  `SQLite ${db.prepare('SELECT sqlite_version()').pluck().get()}`);

db.exec(`
  DROP TABLE IF EXISTS items;
  CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER);
  WITH RECURSIVE s(i) AS (SELECT 2 UNION ALL SELECT i+2 FROM s WHERE i+2<=${N})
  INSERT INTO items SELECT i, 'old' || i, 0 FROM s;
  CREATE VIRTUAL TABLE temp.up USING upsert_into(items);
`);

// The bulk upsert: one prepared statement, run in one transaction.
const ins = db.prepare('INSERT INTO up VALUES(?, ?, ?)');
const upsertAll = db.transaction((rows) => {
  for (const r of rows) ins.run(r.id, r.name, r.qty);
});
const rows = Array.from({ length: N }, (_, k) => ({ id: k + 1, name: `item${k + 1}`, qty: (k + 1) * 10 }));
const t0 = process.hrtime.bigint();
upsertAll(rows);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;

const stats = JSON.parse(db.prepare("SELECT upsert_into_stats('up')").pluck().get());
console.log(`upsert_into_stats('up'): ${JSON.stringify(stats)} (${N} rows in ${ms.toFixed(0)} ms)`);
const check = db.prepare(`SELECT count(*) AS n, sum(name = 'item' || id AND qty = id * 10) AS ok
                          FROM items`).get();
console.log(`items: ${check.n} rows, ${check.ok} as upserted`);
db.close();

const want = { inserted: N - Math.floor(N / 2), updated: Math.floor(N / 2), skipped: 0 };
if (JSON.stringify(stats) !== JSON.stringify(want) || check.n !== N || check.ok !== N) {
  console.error(`example.js: FAILED: expected ${JSON.stringify(want)} and ${N} rows`);
  process.exit(1);
}
console.log('example.js: ok');
