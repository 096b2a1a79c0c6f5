// A throw-away PostgreSQL cluster for tests: Debian's `postgresql` server binaries (initdb +
// pg_ctl), a fresh data folder under the temp folder, listening on 127.0.0.1 on a free port (and a
// unix socket in that folder) only. The server refuses to run as root, so as root (CI) every
// server command runs as the `postgres` user (runuser) in a folder that user owns. Stopped and
// removed by destroy(), and as a last resort when the test process exits. Every step has a time
// limit: a server that cannot start fails the test with its log, it never hangs it.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The user stations connect as, with a password (so tests can check it never shows). */
export const STATION_USER = 'station';
export const STATION_PASSWORD = 'Pw-never-shown-7Hq';

function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v) && Number(v) >= 14 && existsSync(join(root, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) {
    throw new Error("PostgreSQL server binaries (14 or newer) not found in /usr/lib/postgresql: install Debian's postgresql package (apt-get install postgresql), or set PG_BIN to the folder holding initdb and pg_ctl");
  }
  return join(root, versions.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}

const asRoot = process.getuid?.() === 0;

/** Runs a server binary (as `postgres` when we are root); resolves with its output, rejects with it. */
function server(bin: string, args: string[], timeoutMs = 90_000): Promise<string> {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(binDir(), bin), ...args]] : [join(binDir(), bin), args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => (clearTimeout(timer), reject(new Error(`${bin}: ${err.message}`))));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${bin} ${args[0] ?? ''} failed (${signal ? `killed after ${timeoutMs} ms` : `exit ${code}`}):\n${out.trim()}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export class PgCluster {
  private running = false;
  private readonly onExit = () => this.destroySync();

  private constructor(readonly dir: string, readonly port: number) {
    process.on('exit', this.onExit);
  }

  /** initdb + start. Not durable unless asked (tests kill stations, not the server): no fsync. */
  static async start(options: { maxConnections?: number; durable?: boolean } = {}): Promise<PgCluster> {
    binDir(); // a clear message first if the binaries are missing
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-pg-'));
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
      writeFileSync(join(dir, 'pw'), 'admin-pw\n');
      chownSync(join(dir, 'pw'), uid, gid);
    } else {
      writeFileSync(join(dir, 'pw'), 'admin-pw\n');
    }
    await server('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${join(dir, 'pw')}`, '--no-sync', '-E', 'UTF8', '--locale=C']);
    const cluster = new PgCluster(dir, await freePort());
    cluster.settings = `-c listen_addresses=127.0.0.1 -p ${cluster.port} -k ${dir} ${options.durable ? '' : '-c fsync=off -c full_page_writes=off '}-c max_connections=${options.maxConnections ?? 60}`;
    await cluster.startServer();
    await cluster.admin(async (c) => {
      await c.query(`CREATE ROLE ${STATION_USER} LOGIN PASSWORD '${STATION_PASSWORD}'`);
    });
    return cluster;
  }

  private settings = '';

  /** Starts the server again after stop() (same data, same port). */
  async startServer(): Promise<void> {
    try {
      await server('pg_ctl', ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'server.log'), '-w', '-t', '60', '-o', this.settings, 'start']);
    } catch (err) {
      const log = existsSync(join(this.dir, 'server.log')) ? readFileSync(join(this.dir, 'server.log'), 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
      throw new Error(`the test PostgreSQL server did not start: ${(err as Error).message}\n${log}`);
    }
    this.running = true;
  }

  /** Stops the server (fast: connections are cut, open transactions rolled back). */
  async stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await server('pg_ctl', ['-D', join(this.dir, 'data'), '-m', mode, '-w', '-t', '60', 'stop']);
    this.running = false;
  }

  /** A superuser connection over the unix socket (trust), for set-up and checks. */
  async admin<T>(work: (c: pg.Client) => Promise<T>, database = 'postgres'): Promise<T> {
    const c = new pg.Client({ host: this.dir, port: this.port, user: 'postgres', database });
    await c.connect();
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  }

  /** A new empty database owned by the station user; its URL (with the station user's password). */
  async createDatabase(name: string): Promise<string> {
    await this.admin((c) => c.query(`CREATE DATABASE ${name} OWNER ${STATION_USER}`));
    return this.url(name);
  }

  url(database: string): string {
    return `postgres://${STATION_USER}:${STATION_PASSWORD}@127.0.0.1:${this.port}/${database}`;
  }

  /** Stops the server and removes its folder. */
  async destroy(): Promise<void> {
    process.off('exit', this.onExit);
    if (this.running) await this.stopServer('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private destroySync(): void {
    if (this.running) {
      const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(binDir(), 'pg_ctl')]] : [join(binDir(), 'pg_ctl'), []];
      spawnSync(cmd, [...argv, '-D', join(this.dir, 'data'), '-m', 'immediate', 'stop'], { timeout: 30_000 });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
