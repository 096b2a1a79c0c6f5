// What the registry needs from a database engine — and nothing more — so that every query the
// registry runs (registry.ts, attempts.ts, copy.ts) is written once for SQLite and PostgreSQL.
// SQL is written with `?` placeholders (the PostgreSQL engine numbers them); rows come back with
// plain numbers (64-bit ids and counts included), text and byte buffers alike from both engines.
//
// Every call is async: PostgreSQL is a server. A unit of work runs in one transaction (`write`) or
// on one consistent view (`read`); the engine, not its callers, deals with a server that went away
// (it waits and reconnects, reporting its status), see postgres-engine.ts.
import type { EngineKind } from './schema.ts';

export type Row = Record<string, unknown>;

/** One connection's statements inside a unit of work. */
export interface Sql {
  all<T = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  get<T = Row>(text: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(text: string, params?: readonly unknown[]): Promise<number>;
}

/** Is the registry reachable? Reported on every change (the station shows one message for it). */
export interface RegistryStatus {
  online: boolean;
  /** Operator words, never a credential: "The production database (postgres://db1:5432/line) is not reachable: connection refused." */
  message: string;
}

export interface WorkOptions {
  /**
   * Run the work again after a lost connection (the default for reads and for writes that are
   * safe to repeat: the registry's writes find what a committed first try did). Engineer
   * operations (pool import, copy) pass false: they fail at once with a clear message.
   */
  retry?: boolean;
  /** `read` only: one consistent snapshot of the whole registry for the work (a copy's source). */
  snapshot?: boolean;
}

export interface Engine {
  readonly kind: EngineKind;
  /** Where the registry is, for messages: a file path, or a postgres:// URL without its credentials. */
  readonly shown: string;
  /** The schema version the registry is at (0: empty). */
  schemaVersion(): Promise<number>;
  /** Brings the schema to the latest version; what was there and what is now. */
  migrate(by: string): Promise<{ from: number; to: number }>;
  read<T>(work: (q: Sql) => Promise<T>, options?: WorkOptions): Promise<T>;
  /** One transaction: all of `work` is committed, or none of it. */
  write<T>(work: (q: Sql) => Promise<T>, options?: WorkOptions): Promise<T>;
  /** A statement was refused by a unique key or primary key. */
  isUniqueViolation(err: unknown): boolean;
  onStatus(listener: (s: RegistryStatus) => void): () => void;
  close(): Promise<void>;
}

/** The registry could not be reached (long enough to give up on this piece of work). */
export class RegistryUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryUnavailableError';
  }
}

/** The registry's schema is not the one this code knows (never migrated, older or newer). */
export class RegistrySchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistrySchemaError';
  }
}

/** Status listeners of an engine (a broken listener never stops the registry). */
export class StatusListeners {
  private readonly listeners = new Set<(s: RegistryStatus) => void>();
  private last: RegistryStatus | undefined;

  on(listener: (s: RegistryStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reports a change of reachability (one message when it goes, one when it is back; no repeats). */
  report(s: RegistryStatus): void {
    if ((this.last?.online ?? true) === s.online) return;
    this.last = s;
    for (const l of [...this.listeners]) {
      try {
        l(s);
      } catch {
        // a closed window or a broken listener must not stop the registry
      }
    }
  }

  get online(): boolean {
    return this.last?.online ?? true;
  }
}
