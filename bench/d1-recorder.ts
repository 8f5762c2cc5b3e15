// Counts the D1 round trips a request makes: every `first`/`run`/`all`/`raw` of a statement and
// every `batch` is one trip to the database. `wrangler dev` exposes no query counts, so the
// in-workerd bench hands the real gateway an env whose DB is this recording wrapper.

export interface D1Trip {
  /** "first", "run", "all", "raw" or "batch". */
  method: string;
  /** The SQL of each statement in the trip. */
  sql: string[];
}

const EXECUTE = new Set(["first", "run", "all", "raw"]);

export class D1Recorder {
  trips: D1Trip[] = [];
  private readonly originals = new WeakMap<object, D1PreparedStatement>();

  /** `db`, with every round trip recorded in `trips`. */
  wrap(db: D1Database): D1Database {
    return this.wrapQueryable(db, {
      withSession: (constraint?: string) => this.wrapQueryable(db.withSession(constraint), {}),
    });
  }

  private wrapQueryable<T extends D1Database | D1DatabaseSession>(target: T, extra: Record<string, unknown>): T {
    return new Proxy(target, {
      get: (real, prop) => {
        if (typeof prop === "string" && prop in extra) return extra[prop];
        if (prop === "prepare") return (sql: string) => this.wrapStatement(real.prepare(sql), sql);
        if (prop === "batch") {
          return (statements: D1PreparedStatement[]) => {
            this.trips.push({ method: "batch", sql: statements.map((s) => this.sqlOf(s)) });
            return real.batch(statements.map((s) => this.originals.get(s) ?? s));
          };
        }
        const value: unknown = Reflect.get(real, prop, real);
        return typeof value === "function" ? value.bind(real) : value;
      },
    });
  }

  private readonly sqlText = new WeakMap<object, string>();

  private sqlOf(statement: D1PreparedStatement): string {
    return this.sqlText.get(statement) ?? "?";
  }

  private wrapStatement(statement: D1PreparedStatement, sql: string): D1PreparedStatement {
    const wrapper = new Proxy(statement, {
      get: (real, prop) => {
        if (prop === "bind") return (...values: unknown[]) => this.wrapStatement(real.bind(...values), sql);
        const value: unknown = Reflect.get(real, prop, real);
        if (typeof value !== "function") return value;
        if (typeof prop === "string" && EXECUTE.has(prop)) {
          return (...args: unknown[]) => {
            this.trips.push({ method: prop, sql: [sql] });
            return (value as (...a: unknown[]) => unknown).apply(real, args);
          };
        }
        return value.bind(real);
      },
    });
    this.originals.set(wrapper, statement);
    this.sqlText.set(wrapper, sql);
    return wrapper;
  }
}

/** Trips that read or write. */
export function classify(trips: D1Trip[]) {
  const writes = (t: D1Trip) => t.sql.some((s) => /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(s));
  return {
    total: trips.length,
    reads: trips.filter((t) => !writes(t)).length,
    /** Trips that write: each is one write transaction at the primary (a batch is one). */
    writeTransactions: trips.filter(writes).length,
  };
}
