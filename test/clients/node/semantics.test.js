// The core semantics of upsert_into, checked on the SQLite that
// better-sqlite3 bundles (newer than Debian's; compiled with SQLITE_DQS=0,
// SQLITE_OMIT_DEPRECATED, SQLITE_DEFAULT_FOREIGN_KEYS=1, ...).
//
//   node --test semantics.test.js        (UPSERT_EXT=path overrides the path)
'use strict';
const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const Database = require('better-sqlite3');

const ext = process.env.UPSERT_EXT ||
  path.join(__dirname, '..', '..', '..', 'dist', 'upsert');

// The refusal of a statement that reads the backing table it writes to
// (README, Semantics; the text as test/read.test checks it).
const REFUSAL = 'upsert_into: this statement reads table "posts" while it ' +
  'writes to it, and could read its own rows without end: select from the ' +
  'upsert_into table instead (SQLite then reads every row first) or copy the ' +
  'rows into a TEMP table first';

function open() {
  const db = new Database(':memory:');
  db.loadExtension(ext);
  db.exec(`
    CREATE TABLE posts(id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT);
    INSERT INTO posts VALUES(1, 'old1', 'ob1'), (2000, 'old2000', 'ob');
    CREATE VIRTUAL TABLE temp.up USING upsert_into(posts);
  `);
  return db;
}
const all = (db, sql) => db.prepare(sql).raw().all();
const one = (db, sql) => db.prepare(sql).pluck().get();
const stats = (db, name, reset) => JSON.parse(one(db,
  `SELECT upsert_into_stats('${name}'${reset ? ", 'reset'" : ''})`));

before(() => {
  const db = new Database(':memory:');
  console.log(`better-sqlite3 ${require('better-sqlite3/package.json').version}, ` +
    `sqlite_version() = ${one(db, 'SELECT sqlite_version()')}`);
  db.close();
});

test('plain INSERT upserts: new rows inserted, existing updated in place', () => {
  const db = open();
  db.exec(`CREATE TABLE kv(k TEXT PRIMARY KEY, v);
           CREATE VIRTUAL TABLE temp.kvup USING upsert_into(kv);`);
  db.prepare("INSERT INTO up(id, title, body) VALUES (1,'a','x'), (2,'b','y')").run();
  assert.deepEqual(all(db, 'SELECT * FROM posts'),
    [[1, 'a', 'x'], [2, 'b', 'y'], [2000, 'old2000', 'ob']]);
  // A column left out is written as NULL.
  db.prepare("INSERT INTO up(id, title) VALUES (2,'B')").run();
  assert.deepEqual(all(db, 'SELECT * FROM posts WHERE id=2'), [[2, 'B', null]]);
  // The row keeps its rowid: updated, not replaced.
  db.exec("INSERT INTO kvup VALUES('a', 1), ('b', 2); INSERT INTO kvup VALUES('a', 10);");
  assert.deepEqual(all(db, 'SELECT rowid, k, v FROM kv ORDER BY k'), [[1, 'a', 10], [2, 'b', 2]]);
  // changes() counts the rows handed over; lastInsertRowid is the backing table's.
  const r = db.prepare("INSERT INTO kvup VALUES('a', 11), ('c', 3), ('d', 4)").run();
  assert.equal(r.changes, 3);
  assert.equal(r.lastInsertRowid, one(db, "SELECT rowid FROM kv WHERE k='d'"));
  // SELECT through the virtual table, by key.
  assert.deepEqual(all(db, 'SELECT title FROM up WHERE id=1'), [['a']]);
  db.close();
});

test('a constraint failure: SQLite\'s message, and the statement leaves nothing (autocommit)', () => {
  const db = open();
  assert.throws(() => db.prepare(
    "INSERT INTO up VALUES (3,'t3','b'), (1,'new1','b'), (4,NULL,'b'), (5,'t5','b')").run(),
  { message: 'NOT NULL constraint failed: posts.title', code: 'SQLITE_CONSTRAINT_NOTNULL' });
  assert.deepEqual(all(db, 'SELECT * FROM posts'), [[1, 'old1', 'ob1'], [2000, 'old2000', 'ob']]);
  db.close();
});

test('statement atomicity inside a transaction, virtual table in temp', () => {
  const db = open();
  db.exec('CREATE TABLE staging(id, title, body)');
  db.prepare(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<1000)
              INSERT INTO staging SELECT i, CASE WHEN i=500 THEN NULL ELSE 't'||i END, 'b'||i
              FROM c`).run();
  db.exec('BEGIN');
  db.prepare("INSERT INTO up VALUES(5, 'five', 'b')").run();
  // A multi-row VALUES and an INSERT ... SELECT, each failing on NOT NULL.
  assert.throws(() => db.prepare(
    "INSERT INTO up VALUES (1,'upd1','b'), (6,'six','b'), (7,NULL,'b')").run(),
  /^SqliteError: NOT NULL constraint failed: posts\.title$/);
  assert.throws(() => db.prepare('INSERT INTO up SELECT * FROM staging').run(),
    { message: 'NOT NULL constraint failed: posts.title' });
  assert.equal(db.inTransaction, true, 'the transaction stays open');
  assert.deepEqual(all(db, 'SELECT * FROM posts'),
    [[1, 'old1', 'ob1'], [5, 'five', 'b'], [2000, 'old2000', 'ob']]);
  db.exec('COMMIT');
  assert.deepEqual(all(db, 'SELECT id FROM posts'), [[1], [5], [2000]]);
  // Inside a savepoint too, with better-sqlite3's nested transactions.
  const inner = db.transaction(() => db.prepare('INSERT INTO up SELECT id+1, title, body FROM staging').run());
  const outer = db.transaction(() => {
    db.prepare("INSERT INTO up VALUES(6, 'six', 'b')").run();
    assert.throws(() => inner(), { message: 'NOT NULL constraint failed: posts.title' });
  });
  outer();
  assert.deepEqual(all(db, 'SELECT id FROM posts'), [[1], [5], [6], [2000]]);
  assert.deepEqual(stats(db, 'up'), { inserted: 2, updated: 0, skipped: 0 });
  db.close();
});

test('atomicity when the inner statement cannot abort (OR IGNORE, DO NOTHING)', () => {
  // A statement failing after some rows were written, in a transaction,
  // through a temp virtual table whose inner statement opens no statement
  // journal of its own: the extension's "opener" must make SQLite roll
  // those rows back (test/diff.test 8.*).
  const bad = '(VALUES(1,0),(2,0),(3,-9223372036854775807-1))';
  for (const [vt, stmt] of [
    ['upsert_into(t)', `INSERT OR IGNORE INTO up SELECT column1, abs(column2) FROM ${bad}`],
    ['upsert_into(a)', `INSERT INTO up SELECT abs(column2)+column1 FROM ${bad}`],
    ['upsert_into(t, update=())', `INSERT INTO up SELECT column1, abs(column2) FROM ${bad}`],
    ['upsert_into(t)', `INSERT OR REPLACE INTO up SELECT column1, abs(column2) FROM ${bad}`],
  ]) {
    const db = new Database(':memory:');
    db.loadExtension(ext);
    db.exec(`CREATE TABLE t(k INTEGER PRIMARY KEY, v); CREATE TABLE a(k INTEGER PRIMARY KEY);
             CREATE VIRTUAL TABLE temp.up USING ${vt}; BEGIN`);
    assert.throws(() => db.prepare(stmt).run(), { message: 'integer overflow' }, stmt);
    assert.equal(one(db, 'SELECT (SELECT count(*) FROM t) + (SELECT count(*) FROM a)'), 0,
      `${vt}: ${stmt}`);
    db.exec('COMMIT');
    db.close();
  }
});

test('OR IGNORE: existing keys untouched, constraint breakers skipped', () => {
  const db = open();
  const r = db.prepare(
    "INSERT OR IGNORE INTO up VALUES(1,'new1','n'), (3,'new3','n'), (4,NULL,'n')").run();
  assert.equal(r.changes, 1);
  assert.deepEqual(all(db, 'SELECT * FROM posts'),
    [[1, 'old1', 'ob1'], [3, 'new3', 'n'], [2000, 'old2000', 'ob']]);
  assert.deepEqual(stats(db, 'up'), { inserted: 1, updated: 0, skipped: 2 });
  db.close();
});

test('OR REPLACE: SQLite\'s REPLACE, with its DELETE', () => {
  const db = open();
  db.exec(`CREATE TABLE u(k PRIMARY KEY, v UNIQUE, w);
           INSERT INTO u VALUES(1, 'a', 'w1'), (2, 'b', 'w2');
           CREATE VIRTUAL TABLE temp.uup USING upsert_into(u);`);
  db.prepare("INSERT OR REPLACE INTO uup VALUES(1, 'b', 'w3')").run();
  assert.deepEqual(all(db, 'SELECT * FROM u'), [[1, 'b', 'w3']]);
  assert.deepEqual(stats(db, 'uup'), { inserted: 1, updated: 0, skipped: 0 });
  // Plain INSERT on the same: the UNIQUE failure is reported, nothing written.
  assert.throws(() => db.prepare("INSERT INTO uup VALUES(3, 'c', 'x'), (1, 'c', 'x')").run(),
    { message: 'UNIQUE constraint failed: u.v' });
  assert.deepEqual(all(db, 'SELECT * FROM u'), [[1, 'b', 'w3']]);
  db.close();
});

test('OR FAIL: rows before the failing one stay', () => {
  const db = open();
  assert.throws(() => db.prepare(
    "INSERT OR FAIL INTO up VALUES(498,'a','b'), (499,'c','d'), (500,NULL,'e'), (501,'f','g')").run(),
  { message: 'NOT NULL constraint failed: posts.title' });
  assert.deepEqual(all(db, 'SELECT id FROM posts WHERE id BETWEEN 400 AND 600'), [[498], [499]]);
  db.close();
});

test('OR ROLLBACK: the whole transaction is rolled back', () => {
  const db = open();
  db.exec('BEGIN');
  db.prepare("INSERT INTO up VALUES(10, 'ten', 'b')").run();
  assert.throws(() => db.prepare(
    "INSERT OR ROLLBACK INTO up VALUES(11,'a','b'), (12,NULL,'e')").run(),
  { message: 'NOT NULL constraint failed: posts.title' });
  assert.equal(db.inTransaction, false);
  assert.equal(one(db, 'SELECT count(*) FROM posts WHERE id>=10 AND id<2000'), 0);
  db.exec('BEGIN; COMMIT');
  assert.deepEqual(stats(db, 'up'), { inserted: 0, updated: 0, skipped: 0 });
  db.close();
});

test('triggers: UPDATE trigger fires, no DELETE trigger, child rows kept', () => {
  const db = open();
  assert.equal(one(db, 'PRAGMA foreign_keys'), 1, "better-sqlite3's default");
  db.exec(`
    CREATE TABLE log(ev);
    CREATE TRIGGER ti AFTER INSERT ON posts BEGIN INSERT INTO log VALUES('ins ' || new.id); END;
    CREATE TRIGGER tu AFTER UPDATE ON posts BEGIN INSERT INTO log VALUES('upd ' || new.id); END;
    CREATE TRIGGER td AFTER DELETE ON posts BEGIN INSERT INTO log VALUES('del ' || old.id); END;
    CREATE TABLE comments(cid INTEGER PRIMARY KEY, pid REFERENCES posts(id) ON DELETE CASCADE);
    INSERT INTO comments VALUES(1, 1), (2, 2000);
  `);
  db.prepare("INSERT INTO up VALUES(1, 'n1', 'b'), (7, 'n7', 'b')").run();
  assert.deepEqual(all(db, 'SELECT ev FROM log'), [['upd 1'], ['ins 7']]);
  assert.deepEqual(all(db, 'SELECT * FROM comments'), [[1, 1], [2, 2000]]);
  // Under OR REPLACE, as natively: DELETE of the old row, children gone.
  db.exec('DELETE FROM log; PRAGMA recursive_triggers=ON');
  db.prepare("INSERT OR REPLACE INTO up VALUES(1, 'r1', 'b')").run();
  assert.deepEqual(all(db, 'SELECT ev FROM log'), [['del 1'], ['ins 1']]);
  assert.deepEqual(all(db, 'SELECT * FROM comments'), [[2, 2000]]);
  db.close();
});

test('INSERT INTO up SELECT ... FROM the backing table is refused, table unchanged', () => {
  const db = open();
  db.exec("INSERT INTO posts VALUES(2, 'two', 'b2'), (3, 'three', 'b3')");
  const before = all(db, 'SELECT * FROM posts');
  assert.throws(() => db.prepare('INSERT INTO up SELECT id+100, title, body FROM posts').run(),
    { message: REFUSAL });
  assert.throws(() => db.prepare(
    'INSERT INTO up SELECT id+100, title, body FROM posts WHERE id IN (SELECT id FROM posts)').run(),
  { message: REFUSAL });
  assert.deepEqual(all(db, 'SELECT * FROM posts'), before);
  // Through the virtual table instead: allowed.
  db.prepare('INSERT INTO up SELECT id+100, title, body FROM up').run();
  assert.equal(one(db, 'SELECT count(*) FROM posts'), 2 * before.length);
  // UPDATE and DELETE through the virtual table are refused.
  assert.throws(() => db.prepare("UPDATE up SET title='x' WHERE id=1").run(),
    /^SqliteError: upsert_into: cannot UPDATE rows of an upsert_into table/);
  db.close();
});

test('options: key=, columns=, nulls=keep, where=', () => {
  const db = new Database(':memory:');
  db.loadExtension(ext);
  db.exec(`
    CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL,
                       name TEXT, plan TEXT DEFAULT 'free');
    INSERT INTO users VALUES(1, 'a@x', 'Ann', 'pro');
    CREATE VIRTUAL TABLE temp.by_email USING upsert_into(users, key=email, columns=(email, name));
  `);
  assert.deepEqual(all(db, 'SELECT name FROM pragma_table_info(\'by_email\')'), [['email'], ['name']]);
  db.prepare("INSERT INTO by_email VALUES('a@x', 'Anna'), ('b@x', 'Bob')").run();
  assert.deepEqual(all(db, 'SELECT * FROM users ORDER BY id'),
    [[1, 'a@x', 'Anna', 'pro'], [2, 'b@x', 'Bob', 'free']]);
  assert.deepEqual(stats(db, 'by_email'), { inserted: 1, updated: 1, skipped: 0 });
  // key= that is not a key: CREATE fails and lists the usable keys.
  assert.throws(() => db.exec('CREATE VIRTUAL TABLE temp.bad USING upsert_into(users, key=name)'),
    { message: "upsert_into: key (name) is not the PRIMARY KEY or a UNIQUE index of 'users': usable keys are (id), (email)" });
  // nulls=keep: a NULL means "not given".
  db.exec('CREATE VIRTUAL TABLE temp.nk USING upsert_into(users, nulls=keep)');
  db.prepare("INSERT INTO nk(id, email, name, plan) VALUES(1, 'a@x', NULL, 'team'), (3, 'c@x', 'Cy', NULL)").run();
  assert.deepEqual(all(db, 'SELECT * FROM users ORDER BY id'),
    [[1, 'a@x', 'Anna', 'team'], [2, 'b@x', 'Bob', 'free'], [3, 'c@x', 'Cy', 'free']]);
  // where=: update only when the incoming version is newer.
  db.exec(`
    CREATE TABLE docs(id INTEGER PRIMARY KEY, version INT, body TEXT);
    INSERT INTO docs VALUES(1, 5, 'v5'), (2, 5, 'v5');
    CREATE VIRTUAL TABLE temp.dup USING upsert_into(docs, where=excluded.version > version);
  `);
  db.prepare("INSERT INTO dup VALUES(1, 4, 'v4'), (2, 6, 'v6'), (3, 1, 'v1')").run();
  assert.deepEqual(all(db, 'SELECT * FROM docs'), [[1, 5, 'v5'], [2, 6, 'v6'], [3, 1, 'v1']]);
  assert.deepEqual(stats(db, 'dup'), { inserted: 1, updated: 1, skipped: 1 });
  assert.throws(() => db.exec('CREATE VIRTUAL TABLE main.e USING upsert_into(docs, where=1)'),
    /^SqliteError: upsert_into: where= is allowed on TEMP tables only/);
  db.close();
});

test('counts: per table, reset, rollback takes counts back, unknown name', () => {
  const db = open();
  db.exec(`CREATE TABLE cnt(k PRIMARY KEY, v);
           CREATE VIRTUAL TABLE temp.cup USING upsert_into(cnt, update=());`);
  db.prepare("INSERT INTO up VALUES(1,'a','b'), (2,'c','d'), (3,'e','f')").run();
  db.prepare("INSERT INTO cup VALUES(1, 1), (1, 2)").run();
  assert.deepEqual(stats(db, 'up'), { inserted: 2, updated: 1, skipped: 0 });
  assert.deepEqual(stats(db, 'temp.cup'), { inserted: 1, updated: 0, skipped: 1 });
  assert.deepEqual(stats(db, 'up', true), { inserted: 2, updated: 1, skipped: 0 });
  assert.deepEqual(stats(db, 'up'), { inserted: 0, updated: 0, skipped: 0 });
  const tx = db.transaction(() => {
    db.prepare("INSERT INTO up VALUES(4,'g','h'), (1,'i','j')").run();
    assert.deepEqual(stats(db, 'up'), { inserted: 1, updated: 1, skipped: 0 });
    throw new Error('roll back');
  });
  assert.throws(() => tx(), /roll back/);
  assert.deepEqual(stats(db, 'up'), { inserted: 0, updated: 0, skipped: 0 });
  assert.throws(() => stats(db, 'x'), { message: "upsert_into: no upsert_into table 'x'" });
  db.close();
});

test('a bulk upsert of 10000 rows, half existing, with a prepared statement', () => {
  const db = open();   // ids 1 and 2000 exist already; add every other even id

  db.exec(`WITH RECURSIVE s(i) AS (SELECT 2 UNION ALL SELECT i+2 FROM s WHERE i<10000)
           INSERT OR REPLACE INTO posts SELECT i, 'old', NULL FROM s`);
  const ins = db.prepare('INSERT INTO up VALUES(?, ?, ?)');
  db.transaction(() => { for (let i = 1; i <= 10000; i++) ins.run(i, 't' + i, null); })();
  assert.deepEqual(stats(db, 'up'), { inserted: 4999, updated: 5001, skipped: 0 });
  assert.equal(one(db, "SELECT count(*) FROM posts WHERE title = 't' || id"), 10000);
  assert.equal(one(db, 'SELECT count(*) FROM posts'), 10000);
  db.close();
});
