// DuckDB as the peer of the libprivdomain benchmarks.
//
//   node tests/bench/duckdb-run.mjs --csv EVENTS.csv [--touchpoints TP.csv]
//        [--threads N] [--results DIR] [--db FILE] [QUERY.sql ...]
//
// Loads the events CSV (the columns of `pd gen`) into an in-memory table
// `events` (with --db, into a new database file, checkpointed before the
// load counts as done: written to disk, like a store) once (and the touchpoints into `touchpoints`), printing
// `duckdb_load_seconds S` and `duckdb_rows N`; then runs each SQL file and
// prints `duckdb_query_seconds FILE S` (best of --repeat runs, default 1).
// With --results DIR each query's result is written to DIR/NAME.csv.
// Column types: ts TIMESTAMPTZ, user/event/touchpoint/referrer VARCHAR,
// amount DECIMAL(18,2) (exact, like libprivdomain's minor units).
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename } from 'node:path';

function usage(msg) {
  if (msg) console.error(`duckdb-run: ${msg}`);
  console.error('usage: duckdb-run.mjs --csv EVENTS.csv [--touchpoints TP.csv] [--threads N] [--repeat N] [--results DIR] [--db FILE] [QUERY.sql ...]');
  process.exit(2);
}

const args = process.argv.slice(2);
const opt = { queries: [], repeat: 1 };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => (i + 1 < args.length ? args[++i] : usage(`${a} needs a value`));
  if (a === '--csv') opt.csv = value();
  else if (a === '--touchpoints') opt.touchpoints = value();
  else if (a === '--threads') opt.threads = Number(value());
  else if (a === '--repeat') opt.repeat = Number(value());
  else if (a === '--results') opt.results = value();
  else if (a === '--db') opt.db = value();
  else if (a.startsWith('--')) usage(`unknown option ${a}`);
  else opt.queries.push(a);
}
if (!opt.csv) usage('--csv is required');

const quote = (s) => `'${String(s).replaceAll("'", "''")}'`;
const now = () => Number(process.hrtime.bigint()) / 1e9;

const instance = await DuckDBInstance.create(opt.db ?? ':memory:');
const con = await instance.connect();
if (opt.threads) await con.run(`SET threads = ${opt.threads}`);
await con.run("SET TimeZone = 'UTC'");

let t0 = now();
const cpu0 = process.cpuUsage();
await con.run(`CREATE TABLE events AS SELECT * FROM read_csv(${quote(opt.csv)}, header = true,
  columns = {'ts': 'TIMESTAMPTZ', 'user': 'VARCHAR', 'event': 'VARCHAR', 'touchpoint': 'VARCHAR',
             'amount': 'DECIMAL(18,2)', 'referrer': 'VARCHAR'})`);
if (opt.db) await con.run('CHECKPOINT');
const load = now() - t0;
const cpu = process.cpuUsage(cpu0);
const rows = (await con.runAndReadAll('SELECT count(*) AS n FROM events')).getRows()[0][0];
console.log(`duckdb_load_seconds ${load.toFixed(3)}`);
console.log(`duckdb_load_cpu_seconds ${((cpu.user + cpu.system) / 1e6).toFixed(3)}`);
console.log(`duckdb_rows ${rows}`);
if (opt.touchpoints) {
  await con.run(`CREATE TABLE touchpoints AS SELECT * FROM read_csv(${quote(opt.touchpoints)}, header = true,
    columns = {'name': 'VARCHAR', 'domain': 'VARCHAR', 'carrier': 'VARCHAR', 'daily_spend': 'DECIMAL(18,2)'})`);
}

const csvCell = (v) => {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' && 'toString' in v ? v.toString() : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

for (const file of opt.queries) {
  const sql = readFileSync(file, 'utf8');
  let best = Infinity, bestCpu = Infinity, reader;
  for (let r = 0; r < opt.repeat; r++) {
    t0 = now();
    const c0 = process.cpuUsage();
    reader = await con.runAndReadAll(sql);
    best = Math.min(best, now() - t0);
    const c = process.cpuUsage(c0);
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6);
  }
  console.log(`duckdb_query_seconds ${basename(file)} ${best.toFixed(4)}`);
  // CPU of the whole process (DuckDB's threads included): the cost of a query on a shared machine.
  console.log(`duckdb_query_cpu_seconds ${basename(file)} ${bestCpu.toFixed(4)}`);
  if (opt.results) {
    mkdirSync(opt.results, { recursive: true });
    const lines = [reader.columnNames().map(csvCell).join(',')];
    for (const row of reader.getRows()) lines.push(row.map(csvCell).join(','));
    writeFileSync(`${opt.results}/${basename(file, '.sql')}.csv`, lines.join('\n') + '\n');
  }
}
con.closeSync?.();
